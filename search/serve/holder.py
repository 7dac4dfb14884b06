"""The served engine, swappable while requests are running.

A request takes ``holder.current()`` once and uses that object to the end, so a reload
never changes the index under a running request. ``reload()`` loads the new build
completely first (papers, BM25, FAISS, model) and only then rebinds one attribute, which
is atomic in Python: requests see either the old engine or the new one, never a gap. The
old build's files survive the swap because builds keep the served one plus two older ones
(``layout.KEEP_BUILDS``), and what the old engine has mapped stays readable on Linux even
if a later build removes it.

Loads run on one background thread (``start_reload``), never on a request's thread, and
no search takes a lock the load holds: searches keep answering from the old engine until
the new one is whole. Reload requests that arrive while a load runs share it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.core.errors import IndexCorrupt, IndexNotFound, PaperSearchError
from search.core.layout import IndexLayout
from search.engine import SearchEngine
from search.pipeline import Engine
from search.serve.snippets import Snippeter

WARM_UP_QUERY = "다중 턴 강화학습 warm-up"


@dataclass(frozen=True)
class Served:
    """One loaded build with its helpers; replaced whole, never mutated."""

    engine: Engine  # SearchEngine, or MilvusEngine (search/serve/milvus_holder.py)
    snippets: Snippeter
    build: str  # what it was loaded from: a build folder, or a Milvus collection's name
    loaded_at: float


class EngineHolder:
    """The local index's served engine. ``index_root`` None: a subclass that reads no
    index folder (``MilvusHolder``)."""

    def __init__(self, index_root: Path | str | None, model: str | None = None) -> None:
        self.layout = IndexLayout(index_root) if index_root is not None else None
        self.model = model
        self._served: Served | None = None
        self._reload_lock = threading.Lock()  # one load at a time; searches never take it
        self._pending: Future[dict[str, Any]] | None = None  # the background load running now
        self._pending_lock = threading.Lock()
        self.load_error: str | None = None
        # Called after a reload swapped in a new build: a server with several worker
        # processes uses it to have every worker load that build (``papersearch/serving.py``).
        self.after_reload: Callable[[], None] | None = None

    def current(self) -> Served:
        served = self._served
        if served is None:
            raise IndexNotFound(self.load_error or f"no index loaded from {self.location}")
        return served

    @property
    def build_id(self) -> str | None:
        served = self._served
        return served.engine.build_id if served else None

    @property
    def location(self) -> str:
        """Where the index is read from, for /api/health."""
        assert self.layout is not None  # a holder without a layout says where it reads
        return str(self.layout.root)

    @property
    def loaded(self) -> bool:
        return self._served is not None

    def load_if_present(self) -> None:
        """Start-up: load the served build; a missing index is remembered, not fatal, so
        the server still answers (503 with the reason) until a build and a reload."""
        try:
            self.reload(notify=False)
        except (IndexNotFound, IndexCorrupt) as e:
            self.load_error = str(e)

    def start_reload(self) -> Future[dict[str, Any]]:
        """Run ``reload`` on a background thread; the future gives its result (or error).

        A request made while a load runs may name a build newer than the one being
        loaded, so it gets the next load, which starts when this one ends; requests made
        meanwhile share that next load (at most one waits, however many ask)."""
        with self._pending_lock:
            if self._pending is not None and not self._pending.running() and not self._pending.done():
                return self._pending  # queued, not started: it will see the newest build
            future: Future[dict[str, Any]] = Future()
            self._pending = future

        def run() -> None:
            with self._reload_lock:  # wait for a load in progress before starting
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(self._load())
                except BaseException as e:  # handed to whoever waits; logged for those who do not
                    if not isinstance(e, PaperSearchError):
                        logging.getLogger("papersearch.api").exception("background reload failed")
                    future.set_exception(e)

        threading.Thread(target=run, name="papersearch-reload", daemon=True).start()
        return future

    def reload(self, notify: bool = True) -> dict[str, Any]:
        """Load the build ``current`` points at now and swap it in; a no-op if already served.
        ``notify``: call ``after_reload`` when a build was swapped in (not at start-up)."""
        with self._reload_lock:
            return self._load(notify)

    def _load(self, notify: bool = True) -> dict[str, Any]:
        """Called with ``_reload_lock`` held."""
        assert self.layout is not None
        build_dir = self.layout.current_build()
        previous = self._served
        if previous is not None and previous.build == str(build_dir):
            return {"status": "unchanged", "build_id": previous.engine.build_id, "previous": previous.engine.build_id}
        loaded = previous.engine.encoders if previous else []
        engine = SearchEngine(build_dir, model=self.model, encoders=loaded)
        # Kiwi loads lazily (~1.5 s): pay it here, at start-up or reload, not in the
        # first user's search. Kiwi is shared per process, so later reloads cost nothing.
        engine.query_terms(WARM_UP_QUERY)
        snippets = Snippeter(engine.tokenizer, stored=engine.spans)  # the engine's own map of them
        if previous is not None:
            _carry_snippet_analyses(previous, engine, snippets)
        return self._swap(Served(engine, snippets, str(build_dir), time.time()), previous, notify)

    def _swap(self, served: Served, previous: Served | None, notify: bool) -> dict[str, Any]:
        """Serve ``served`` from now on (one attribute rebinding: atomic for requests)."""
        self._served = served
        self.load_error = None
        if notify and self.after_reload is not None:
            self.after_reload()
        return {
            "status": "reloaded",
            "build_id": served.engine.build_id,
            "previous": previous.engine.build_id if previous else None,
        }


def _carry_snippet_analyses(previous: Served, engine: SearchEngine, snippets: Snippeter) -> None:
    """Hand the old build's cached Kiwi analyses of stored texts to the new Snippeter, for
    papers whose text is unchanged (snippets come from the fields of ``search_text``). Without them every search right after a reload
    re-analysed its hits' texts (15 queries: ~0.2 s warm, seconds cold), the reload spike
    requests saw. Done here, in the background load, before the swap. A Snippeter without
    such a cache (snippets made at build time) is left alone."""
    old, new = getattr(previous.snippets, "_cache", None), getattr(snippets, "_cache", None)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    same: dict[str, bool] = {}
    for key, analysis in list(old.items()):
        pid = key[0] if isinstance(key, tuple) and key else None
        if pid not in same:
            row, old_row = engine.row_of.get(pid), previous.engine.row_of.get(pid)
            same[pid] = (
                row is not None
                and old_row is not None
                and engine.papers[row].search_text() == previous.engine.papers[old_row].search_text()
            )
        if same[pid]:
            new[key] = analysis
