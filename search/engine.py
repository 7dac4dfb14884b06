"""The local index's engine: the query pipeline (``search/pipeline/engine.py``) over the build's
own files (``search/stores/local.py``).

Retrieval legs: ``bm25`` plus one dense leg per encoder the index was built with (``e5``,
``use``, ...). A mode picks the legs (``search/legs/plan.py``); their rankings are fused
(z-score by default, ``search/pipeline/fusion.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from search.core.encoders import Encoder
from search.core.layout import BuildFiles, IndexLayout
from search.core.records import Paper
from search.legs.bm25 import BM25Retriever
from search.legs.expansion import Expander
from search.pipeline import Engine
from search.stores.local import LocalStore
from search.stores.snippet_spans import StoredSpans


class SearchEngine(Engine):
    """Loads a build once (papers, BM25, FAISS indexes, encoders) and answers from memory."""

    store: LocalStore

    def __init__(
        self, build_dir: Path, model: str | Sequence[str] | None = None, load_model: bool = True,
        encoders: Sequence[Encoder] = (),
    ) -> None:
        """``model``, ``encoders``: see ``LocalStore``."""
        super().__init__(LocalStore(build_dir, model=model, load_model=load_model, encoders=encoders))

    @classmethod
    def open(cls, index_root: Path | str, model: str | Sequence[str] | None = None, load_model: bool = True) -> "SearchEngine":
        return cls(IndexLayout(index_root).current_build(), model=model, load_model=load_model)

    # The local build's parts: the server's snippets and reloads, and the benchmarks, read them.

    @property
    def files(self) -> BuildFiles:
        return self.store.files

    @property
    def papers(self) -> list[Paper]:
        return self.store.papers

    @property
    def ids(self) -> list[str]:
        return self.store.ids

    @property
    def row_of(self) -> dict[str, int]:
        return self.store.row_of

    @property
    def bm25(self) -> BM25Retriever:
        return self.store.bm25

    @property
    def spans(self) -> StoredSpans | None:
        return self.store.spans

    @property
    def expander(self) -> Expander:
        return self.store.expander
