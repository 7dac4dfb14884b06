"""The served engine, swappable while requests are running.

A request takes ``holder.current()`` once and uses that object to the end, so a reload
never changes the index under a running request. ``reload()`` loads the new build
completely first (papers, BM25, FAISS, model) and only then rebinds one attribute, which
is atomic in Python: requests see either the old engine or the new one, never a gap. The
old build's files survive the swap because builds keep the served one plus two older ones
(``layout.KEEP_BUILDS``), and what the old engine has mapped stays readable on Linux even
if a later build removes it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.engine import SearchEngine
from search.errors import IndexCorrupt, IndexNotFound
from search.layout import IndexLayout
from search.snippets import Snippeter


@dataclass(frozen=True)
class Served:
    """One loaded build with its helpers; replaced whole, never mutated."""

    engine: SearchEngine
    snippets: Snippeter
    build_dir: Path | str  # a build folder, or a Milvus collection's name
    loaded_at: float


class EngineHolder:
    def __init__(self, index_root: Path | str, model: str | None = None) -> None:
        self.layout = IndexLayout(index_root)
        self.model = model
        self._served: Served | None = None
        self._reload_lock = threading.Lock()  # one load at a time; searches never take it
        self.load_error: str | None = None

    def current(self) -> Served:
        served = self._served
        if served is None:
            raise IndexNotFound(self.load_error or f"no index loaded from {self.layout.root}")
        return served

    @property
    def location(self) -> str:
        """Where the index is read from, for /api/health."""
        return str(self.layout.root)

    @property
    def loaded(self) -> bool:
        return self._served is not None

    def load_if_present(self) -> None:
        """Start-up: load the served build; a missing index is remembered, not fatal, so
        the server still answers (503 with the reason) until a build and a reload."""
        try:
            self.reload()
        except (IndexNotFound, IndexCorrupt) as e:
            self.load_error = str(e)

    def reload(self) -> dict[str, Any]:
        """Load the build ``current`` points at now and swap it in; a no-op if already served."""
        with self._reload_lock:
            build_dir = self.layout.current_build()
            previous = self._served
            if previous is not None and previous.build_dir == build_dir:
                return {"status": "unchanged", "build_id": previous.engine.build_id, "previous": previous.engine.build_id}
            loaded = previous.engine.dense.encoder if previous and previous.engine.dense else None
            engine = SearchEngine(build_dir, model=self.model, encoder=loaded)
            self._served = Served(engine, Snippeter(engine.tokenizer), build_dir, time.time())
            self.load_error = None
            return {
                "status": "reloaded",
                "build_id": engine.build_id,
                "previous": previous.engine.build_id if previous else None,
            }
