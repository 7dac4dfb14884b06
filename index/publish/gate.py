"""Quality gate: a new build is swapped in only if it scores well enough on a relevance set.

``build_index(gate=...)`` calls the gate with the staged (not yet served) build folder;
raising :class:`GateFailed` stops the swap and the served index stays as it was. The staged
build is opened directly, so the gate measures exactly what would be served. It scores
BM25 unless the build has vectors and its model loads, then hybrid; the served index, when
there is one, is scored the same way on the same relevance set, so a rebuild cannot make
search worse unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.core.errors import GateFailed, PaperSearchError
from search.core.layout import IndexLayout

METRIC = "ndcg@10"
TOLERANCE = 1e-4  # rounding noise is not a regression


@dataclass
class QualityGate:
    qrels: Mapping[str, Any]
    index_root: Path
    min_ndcg: float | None = None
    force: bool = False
    log: Callable[[str], None] = lambda _msg: None
    # What the last check measured, for the build report.
    result: dict[str, Any] = field(default_factory=dict)

    def __call__(self, staged: Path) -> None:
        new, mode = self._score(staged)
        self.result = {"mode": mode, "new": new}
        served = self._served_build()
        old = self._score(served, mode)[0] if served is not None else None
        self.result["served"] = old
        self.log(f"quality gate ({mode}, {METRIC}): new build {new:.4f}" + (f", served {old:.4f}" if old is not None else ""))
        problems = []
        if self.min_ndcg is not None and new < self.min_ndcg:
            problems.append(f"{METRIC} {new:.4f} is below --min-ndcg {self.min_ndcg:.4f}")
        if old is not None and new < old - TOLERANCE:
            problems.append(f"{METRIC} {new:.4f} is below the served index's {old:.4f}")
        if not problems:
            return
        if self.force:
            self.log("quality gate failed but --force given: " + "; ".join(problems))
            return
        raise GateFailed(
            "quality gate: " + "; ".join(problems) + ". The served index was left as it was (--force swaps anyway)."
        )

    def _served_build(self) -> Path | None:
        layout = IndexLayout(self.index_root)
        return layout.current_build() if layout.has_index() else None

    def _score(self, build: Path, mode: str | None = None) -> tuple[float, str]:
        from search.engine import SearchEngine
        from search.evaluate import evaluate

        try:
            engine = SearchEngine(build, load_model=mode != "bm25")
        except PaperSearchError as e:
            if mode is None:
                raise
            # A served index this code cannot read (old format, other tokenizer) sets no bar.
            self.log(f"quality gate: served index not comparable ({e})")
            return 0.0, mode
        mode = mode or ("hybrid" if engine.dense_ready else "bm25")
        report = evaluate(engine, {"queries": self.qrels.get("queries", [])}, mode=mode)
        return float(report["overall"][METRIC]), mode
