"""A first build that answers at once: the BM25 index is published as soon as it is built
and served (searches say that the dense legs are coming: ``notice_code``
``dense_pending``), the dense legs are embedded after it, resumably, and the hybrid
build is swapped in when every leg is ready.

On a 2-core machine a default build spends ~94% of its time in e5 (1,000 synthetic papers:
5 s for BM25 alone, 73 s with both legs; ``python -m bench.real_build``): BM25 is ready in
seconds, the hybrid index in minutes. The
embedding commits its vectors a chunk at a time (``index/artifacts/embed_cache.py``), so
a build killed mid-way leaves the BM25 index serving and the next build (``index build``,
``serve``, ``watch``) embeds only what is left: the BM25 build records the models it is
waiting for (``Manifest.pending_legs``), and every later build takes them.

Progress (leg, passages embedded, papers a second, seconds left) goes to
``ROOT/embedding.json`` for ``/api/health`` and the page (``search/core/embedding_status.py``),
and to the log.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from index.artifacts.dense_build import DenseMode, load_encoders
from index.build import BuildReport, build_index
from index.storage import write_json
from search.core.encoders import default_models, leg_name, parse_models
from search.core.errors import PaperSearchError
from search.core.layout import BuildFiles, IndexLayout


def pending_models(layout: IndexLayout) -> list[str]:
    """The models the served build is waiting for (a BM25 build of a progressive one)."""
    try:
        return list(BuildFiles(layout.current_build()).read_manifest().pending_legs)
    except PaperSearchError:
        return []


def build_progressively(
    sources: Sequence[Path],
    index_root: Path,
    *,
    model: str | Sequence[str] | None = None,
    log: Callable[[str], None] = lambda _m: None,
    progress: bool | None = None,
    on_bm25: Callable[[BuildReport | None], None] = lambda _r: None,
    dense: DenseMode = "auto",
) -> BuildReport:
    """BM25 first (a first build only: with an index already served, or one waiting for
    its legs, the BM25 step is skipped), then the dense legs; returns the final report.
    ``on_bm25`` is called once searches can be answered: with the BM25 build's report, or
    None when an index was already served. ``dense="required"``: a model that cannot load
    fails the build before anything is published."""
    layout = IndexLayout(index_root)
    models = parse_models(model) or pending_models(layout) or default_models()
    # Loaded first: a model that cannot load is said once, and with none left the one
    # build is BM25-only, not a BM25 build that announces legs which never come.
    loaded = load_encoders(models, dense)
    models = [m for m in models if leg_name(m) in loaded[0]]
    if not models:
        report = build_index(sources, index_root, model=model, progress=progress, log=log, loaded=loaded)
        on_bm25(report)
        return report
    first: BuildReport | None = None
    if not layout.has_index():
        first = build_index(sources, index_root, dense="off", pending_legs=models, progress=progress, log=log)
        log(f"BM25 index of {first.papers} papers serving (build {first.build_id}); "
            f"embedding {', '.join(leg_name(m) for m in models)} next")
    status = EmbeddingStatus(layout, [leg_name(m) for m in models], log)  # before anyone can ask
    on_bm25(first)
    try:
        report = build_index(sources, index_root, model=models, progress=progress, log=log, on_embed=status.update, loaded=loaded)
    except BaseException as e:
        status.finish("failed", error=str(e) or type(e).__name__)
        raise
    status.finish("done", build=report.build_id)
    return report


class EmbeddingStatus:
    """``ROOT/embedding.json``, written after each chunk (at most once a second) and at the
    end, atomically; a line in the log every ``log_every`` seconds."""

    def __init__(self, layout: IndexLayout, legs: list[str], log: Callable[[str], None], log_every: float = 10.0):
        self.layout, self.legs, self.log, self.log_every = layout, legs, log, log_every
        self.started = time.monotonic()
        self.leg_started: dict[str, float] = {}
        self.last_write = self.last_log = 0.0
        self._write({"state": "embedding", "legs": legs, "leg": None, "embedded": 0, "to_embed": None})

    def update(self, leg: str, embedded: int, to_embed: int) -> None:
        now = time.monotonic()
        began = self.leg_started.setdefault(leg, now)
        rate = embedded / (now - began) if now > began else 0.0
        left = (to_embed - embedded) / rate if rate > 0 else None
        later = self.legs[self.legs.index(leg) + 1 :] if leg in self.legs else []
        fields = {
            "state": "embedding", "legs": self.legs, "leg": leg, "embedded": embedded, "to_embed": to_embed,
            "papers_per_s": round(rate, 2), "eta_s": None if left is None else round(left, 1),
            "legs_after": later,  # not timed yet: their passages are to come
        }
        if now - self.last_write >= 1.0 or embedded >= to_embed:
            self._write(fields)
            self.last_write = now
        if embedded and (now - self.last_log >= self.log_every or embedded >= to_embed):
            eta = f", ~{left:.0f} s left" if left else ""
            then = f" (then {', '.join(later)})" if later else ""
            self.log(f"embedding {leg}: {embedded}/{to_embed} papers, {rate:.1f} papers/s{eta}{then}")
            self.last_log = now

    def finish(self, state: str, **extra: Any) -> None:
        self._write({"state": state, "legs": self.legs, "seconds": round(time.monotonic() - self.started, 1), **extra})

    def _write(self, fields: dict[str, Any]) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        write_json(self.layout.embedding_status, {
            **fields, "pid": os.getpid(),
            "updated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        })
