"""The local build as a :class:`search.pipeline.engine.Store`: papers, BM25, FAISS legs and the
stored morphemes, loaded once from the build folder and answered from memory.

It can rank every match of a leg (the BM25 score array holds every paper), so filters and
sorts apply after ranking, over all matches; and it scores any paper exactly (the score
array, the memory-mapped vectors), which z-score fusion uses for the candidates a leg
did not list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from search.core.encoders import Encoder
from search.core.errors import ModelUnavailable, PaperNotFound, shown
from search.core.filters import Filters
from search.core.layout import BuildFiles, read_json
from search.core.records import FusedHit, Paper, ScoredId
from search.core.tokenizer import KiwiTokenizer, TokenizerSettings
from search.legs.bm25 import BM25Retriever
from search.legs.dense import DenseRetriever
from search.legs.expansion import Expander
from search.legs.plan import attach_encoders
from search.pipeline.runs import LegRun
from search.stores.snippet_spans import StoredSpans


class LocalStore:
    filters_in_legs = False
    min_depth = 0

    def __init__(
        self, build_dir: Path, model: str | Sequence[str] | None = None, load_model: bool = True,
        encoders: Sequence[Encoder] = (),
    ) -> None:
        """``model``: encoder names the caller expects (each one of the index's dense legs;
        a moved local model folder can be given here). ``encoders``: models already loaded,
        reused when they are what a leg needs (a server reloading a new build of the same
        index loads them only once)."""
        self.files = BuildFiles(build_dir)
        self.manifest = self.files.read_manifest()
        self.tokenizer = KiwiTokenizer(TokenizerSettings.default())
        self.tokenizer.check_compatible(self.manifest.tokenizer)
        self.papers = [Paper.from_dict(d) for d in self.files.iter_papers()]
        self.ids = [p.id for p in self.papers]
        self.row_of = {pid: i for i, pid in enumerate(self.ids)}
        self.bm25 = BM25Retriever(self.files.bm25, self.ids, self.tokenizer)
        # Each paper's body morphemes, memory-mapped: "more like this" and snippets read them.
        self.spans = StoredSpans.open(self.files)
        # The mined Korean↔English term bridge; builds made without one expand nothing.
        glossary = read_json(self.files.glossary) if self.files.glossary.exists() else None
        self.expander = Expander(glossary, self.bm25.document_frequency, len(self.ids))
        specs = {spec.name: spec for spec in self.manifest.dense_legs}
        self.dense_legs: dict[str, DenseRetriever] = {
            name: DenseRetriever(name, self.files, self.ids, spec) for name, spec in specs.items()
        }
        attach_encoders(self.dense_legs, specs, model, load_model, encoders, self.manifest.pending_legs)

    @property
    def paper_count(self) -> int:
        return len(self.ids)

    def document_frequency(self, term: str) -> int:
        return self.bm25.document_frequency(term)

    def own_terms(self, text: str) -> dict[str, float]:
        return self.bm25.query_terms(text)

    def rank_bm25(self, terms: Mapping[str, float], depth: int, filters: Filters, stats: bool) -> LegRun:
        hits, total, dist, scores = self.bm25.rank_terms(terms, depth, stats=stats)
        return LegRun(hits, dist, total, None if scores is None else self._by_rows(scores.__getitem__))

    def bm25_match_count(self, weights: Mapping[str, float], threshold: float) -> int | None:
        return self.bm25.count_covered(weights, threshold)

    def hit_terms(self, bm25_hits: Sequence[ScoredId], terms: Mapping[str, float]) -> dict[str, tuple[str, ...]]:
        return {h.id: getattr(h, "terms", ()) for h in bm25_hits}  # BM25 hits know what they matched

    def rank_dense(
        self, leg: str, vector: np.ndarray, depth: int, filters: Filters, exclude: str | None, stats: bool
    ) -> LegRun:
        retriever = self.dense_legs[leg]
        exclude_row = self.row_of[exclude] if exclude is not None else None
        hits, dist = retriever.rank_vector(vector, depth, exclude_row=exclude_row)
        scorer = self._by_rows(lambda rows: retriever.scores_of(vector, rows))
        return LegRun(hits, dist if stats else None, len(self.ids), scorer)

    def _by_rows(self, score_rows: Callable[[np.ndarray], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
        row_of = self.row_of
        return lambda ids: score_rows(np.fromiter((row_of[i] for i in ids), dtype=np.int64, count=len(ids)))

    def encode(self, leg: str, text: str) -> np.ndarray:
        retriever = self.dense_legs[leg]
        if retriever.encoder is None:
            raise ModelUnavailable(f"dense leg {leg!r}: {retriever.notice}")
        return retriever.encoder.encode_query(text)

    def stored_vectors(self, paper_id: str, legs: Sequence[str]) -> dict[str, np.ndarray]:
        row = self.row_of[paper_id]
        return {leg: self.dense_legs[leg].vector(row) for leg in legs}

    def paper(self, paper_id: str) -> Paper:
        row = self.row_of.get(paper_id.strip())
        if row is None:
            raise PaperNotFound(f"no paper with id {paper_id!r} in the index", params={"id": shown(paper_id)})
        return self.papers[row]

    def paper_terms(self, paper_id: str) -> list[str] | None:
        return self.spans.paper_terms(self.row_of[paper_id]) if self.spans is not None else None

    def keep(self, fused: list[FusedHit], filters: Filters) -> list[FusedHit]:
        return [f for f in fused if filters.accept(self.papers[self.row_of[f.id]])]

    def sort_key_papers(self, fused: list[FusedHit]) -> Callable[[FusedHit], Paper]:
        return lambda f: self.papers[self.row_of[f.id]]

    def page(
        self, page: list[FusedHit], bm25_hits: list[ScoredId], terms: Mapping[str, float]
    ) -> list[tuple[Paper, tuple[str, ...]] | None]:
        matched = self.hit_terms(bm25_hits, terms)
        return [(self.papers[self.row_of[f.id]], matched.get(f.id, ())) for f in page]

    def row(self, paper_id: str) -> int | None:
        return self.row_of.get(paper_id)

    def all_ids(self) -> Sequence[str]:
        return self.ids
