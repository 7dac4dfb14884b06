"""``serve``'s progressive first build: searches are answered from the BM25 index seconds
after start, the dense legs embed in the background, and the hybrid build is swapped in
without a restart (``index/progressive.py`` builds; this runs it beside the server).

It also resumes: a server started on an index whose BM25 build is still waiting for its
dense legs (an earlier ``serve`` or ``index build`` was stopped mid-embedding) embeds
what is left, from the vectors already committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path


class BackgroundBuild:
    def __init__(self, sources: Sequence[Path], root: Path, model: str | None, log: Callable[[str], None]) -> None:
        self.sources, self.root, self.model, self.log = list(sources), root, model, log
        self._settled = threading.Event()  # searches can be answered, or the build failed first
        self._answering = False  # the BM25 index (or an older one) can be served
        self._lock = threading.Lock()
        self._notify: Callable[[], None] | None = None
        self._finished = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="papersearch-embed", daemon=True)

    def start(self) -> None:
        """Starts the build and returns once searches can be answered (the BM25 build is
        published); an error before that is raised here, as a failed first build is."""
        self.thread.start()
        while not self._settled.wait(0.2):
            if not self.thread.is_alive():
                break
        if self.error is not None and not self._answering:
            raise self.error

    def when_built(self, notify: Callable[[], None]) -> None:
        """``notify`` is called once the hybrid build is swapped in place (at once when the
        build already finished): the server reloads there."""
        with self._lock:
            self._notify = notify
            done = self._finished
        if done:
            notify()

    def _answer(self) -> None:
        self._answering = True
        self._settled.set()

    def _run(self) -> None:
        from index.progressive import build_progressively
        from search.core.encoders import models_named

        try:
            report = build_progressively(
                self.sources, self.root, model=self.model, log=self.log, progress=False,
                on_bm25=lambda _report: self._answer(), dense="required" if models_named(self.model) else "auto",
            )
            legs = ", ".join(report.legs) if report.legs else "none (BM25 only)"
            self.log(f"hybrid build {report.build_id} ready (dense legs: {legs}); swapping it in")
        except BaseException as e:  # noqa: BLE001 - the server keeps answering from BM25
            self.error = e
            if self._answering:
                self.log(f"embedding stopped: {e}; BM25 keeps serving, and the next start resumes")
            return
        finally:
            self._settled.set()
        with self._lock:
            self._finished = True
            notify = self._notify
        if notify is not None:
            notify()
