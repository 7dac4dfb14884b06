"""What the pipeline needs of where an index lives: the :class:`Store` protocol (and of
each dense leg in it). ``search/stores/local.py`` and ``search/stores/milvus.py`` are the
two stores; see ``search/pipeline/engine.py`` for what they differ in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from search.core.encoders import Encoder
from search.core.filters import Filters
from search.core.manifest import Manifest
from search.core.records import FusedHit, Paper, ScoredId
from search.core.tokenizer import KiwiTokenizer
from search.legs.expansion import Expander
from search.pipeline.runs import LegRun


class DenseLeg(Protocol):
    """What the pipeline needs of a dense leg: the Retriever interface and its encoder."""

    name: str
    encoder: Encoder | None
    notice: str | None

    @property
    def ready(self) -> bool: ...

    def retrieve(self, query: str, k: int) -> list[ScoredId]: ...


class Store(Protocol):
    """Where an index's data lives (see the module's docstring)."""

    manifest: Manifest
    tokenizer: KiwiTokenizer
    expander: Expander
    dense_legs: Mapping[str, DenseLeg]
    paper_count: int
    filters_in_legs: bool
    min_depth: int

    def document_frequency(self, term: str) -> int: ...

    def own_terms(self, text: str) -> dict[str, float]: ...

    def rank_bm25(self, terms: Mapping[str, float], depth: int, filters: Filters, stats: bool) -> LegRun: ...

    def bm25_match_count(self, weights: Mapping[str, float], threshold: float) -> int | None:
        """Papers whose matched terms' coverage shares reach ``threshold`` (None: cannot count)."""

    def hit_terms(self, bm25_hits: Sequence[ScoredId], terms: Mapping[str, float]) -> dict[str, tuple[str, ...]]:
        """For each BM25 hit, the query terms it holds."""

    def rank_dense(
        self, leg: str, vector: np.ndarray, depth: int, filters: Filters, exclude: str | None, stats: bool
    ) -> LegRun: ...

    def encode(self, leg: str, text: str) -> np.ndarray: ...

    def stored_vectors(self, paper_id: str, legs: Sequence[str]) -> dict[str, np.ndarray]: ...

    def paper(self, paper_id: str) -> Paper: ...

    def paper_terms(self, paper_id: str) -> list[str] | None: ...

    def keep(self, fused: list[FusedHit], filters: Filters) -> list[FusedHit]: ...

    def sort_key_papers(self, fused: list[FusedHit]) -> Callable[[FusedHit], Any]: ...

    def page(
        self, page: list[FusedHit], bm25_hits: list[ScoredId], terms: Mapping[str, float]
    ) -> list[tuple[Paper, tuple[str, ...]] | None]: ...

    def row(self, paper_id: str) -> int | None: ...

    def all_ids(self) -> Sequence[str]: ...
