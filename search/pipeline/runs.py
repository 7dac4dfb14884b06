"""What the legs of one request found: each leg's :class:`LegRun`, gathered in a
:class:`LegRuns` in the order they are fused. Stores make them, the pipeline reads them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from search.core.records import LegStats, ScoredId


@dataclass
class LegRun:
    """One leg's answer: its ranked hits, the query's score distribution over the corpus
    (None where the store cannot give one), how many papers matched (None: not counted),
    and a scorer giving other papers' exact scores by id (None: the store cannot)."""

    hits: list[ScoredId]
    stats: LegStats | None = None
    total: int | None = None
    scorer: Callable[[list[str]], np.ndarray] | None = None


@dataclass
class LegRuns:
    """Every leg of one request, in the order they are fused."""

    runs: dict[str, LegRun] = field(default_factory=dict)
    terms: dict[str, float] = field(default_factory=dict)  # BM25's query terms

    @property
    def rankings(self) -> dict[str, list[ScoredId]]:
        return {leg: run.hits for leg, run in self.runs.items()}

    @property
    def stats(self) -> dict[str, LegStats]:
        return {leg: run.stats for leg, run in self.runs.items() if run.stats is not None}

    @property
    def total(self) -> int | None:
        """The last leg's count of matching papers (a request of one leg asks it)."""
        return next(reversed(self.runs.values())).total if self.runs else None

    def fill(self) -> dict[str, dict[str, float]]:
        """For each leg that can score any paper, the exact scores of the papers another
        leg found and it did not list: z-score fusion then scores every candidate exactly,
        so a paper's fused score does not depend on how deep the legs were read."""
        union = list(dict.fromkeys(h.id for run in self.runs.values() for h in run.hits))
        out: dict[str, dict[str, float]] = {}
        for leg, run in self.runs.items():
            listed = {h.id for h in run.hits}
            missing = [pid for pid in union if pid not in listed]
            if run.scorer is not None and missing:
                out[leg] = dict(zip(missing, np.asarray(run.scorer(missing), dtype=np.float64).tolist()))
        return out
