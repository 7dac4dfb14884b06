"""``papersearch tune QRELS``: fusion settings chosen by cross-validation on a relevance
set, recorded in the index, and used by its searches from then on.

What is chosen: the fusion (zscore, dbsf, weighted, rrf with k in ``RRF_KS``) and a weight
per leg (``BM25_WEIGHTS``, ``DENSE_WEIGHTS``; 0 drops a dense leg). Every leg runs once
per query; each candidate is then only a fusion of those lists, so the grid costs
seconds.

How: k-fold cross-validation over the queries (folds from a seeded shuffle: the same seed
gives the same folds and the same choice). In each fold the candidate best on the other
folds is scored on the held-out queries; those held-out scores, not the fit, say what
tuning is worth. Tuning replaces the shipped default only when its held-out nDCG@10 beats
the default's on the same queries by ``MIN_GAIN``; then the candidate best on all the
queries is recorded. On 20 queries a weight grid fits noise easily (on the dev set the
tuned procedure's held-out score is *below* the untuned default's), and the rule keeps
that from reaching the index.

The settings go into a new build that is the served one with only its manifest changed
(``index.storage.republish``): a running server picks them up on reload, and later
rebuilds keep them (``index.build.carried_fusion``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.publish.match_calibration import calibrate, offtopic_queries
from index.storage import republish
from search.core.errors import BuildLocked, InvalidQuery
from search.core.fusion_settings import FusionSettings
from search.core.match_settings import MatchThresholds
from search.core.layout import IndexLayout
from search.core.manifest import Manifest
from search.core.query_limits import CANDIDATES
from search.core.records import ScoredId
from search.engine import SearchEngine
from search.evaluate import load_qrels, ndcg_at_k
from search.pipeline.fusion import LegStats, fuse

RRF_KS = (10, 20, 40, 60, 100)
BM25_WEIGHTS = (0.5, 1.0, 2.0)
DENSE_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
MIN_GAIN = 0.005  # held-out nDCG@10 that tuning must win by to replace the default
K = 10  # nDCG@10


@dataclass
class TuneReport:
    chosen: FusionSettings
    replaced_default: bool
    queries: int
    candidates: int
    folds: list[dict[str, Any]] = field(default_factory=list)
    held_out: dict[str, float] = field(default_factory=dict)  # tuned / default, over held-out queries
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)  # held-out, per query kind
    # Each fusion at its own defaults (equal weights, RRF k=60), untuned: its mean per fold.
    fixed: dict[str, dict[str, Any]] = field(default_factory=dict)
    build_id: str | None = None  # the build that records the choice; None with --dry-run
    match: MatchThresholds | None = None  # the match thresholds calibrated beside it

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen.to_dict(),
            "replaced_default": self.replaced_default,
            "queries": self.queries,
            "candidates": self.candidates,
            "folds": self.folds,
            "held_out": self.held_out,
            "by_kind": self.by_kind,
            "fixed": self.fixed,
            "build_id": self.build_id,
            "match": None if self.match is None else self.match.to_dict(),
        }


def candidates(legs: Sequence[str]) -> list[FusionSettings]:
    """The grid, the shipped default first (it wins every tie)."""
    dense = [leg for leg in legs if leg != "bm25"]
    weights: list[dict[str, float]] = []
    for combo in itertools.product(BM25_WEIGHTS, *(DENSE_WEIGHTS for _ in dense)):
        if dense and not any(combo[1:]):
            continue  # every dense leg at 0: that is BM25 mode, not a fusion
        w = dict(zip(["bm25", *dense], combo))
        weights.append({} if all(v == 1.0 for v in w.values()) else w)
    methods = [("zscore", 60), ("dbsf", 60), ("weighted", 60), *(("rrf", k) for k in RRF_KS)]
    default = FusionSettings()
    grid = [default]
    for (method, k), w in itertools.product(methods, weights):
        c = FusionSettings(method, k, w)
        if c != default:
            grid.append(c)
    return grid


def folds_of(n: int, folds: int, seed: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[f::folds]) for f in range(folds)]


def tune(
    index_root: Path, qrels_path: Path, *, folds: int = 5, seed: int = 0, write: bool = True,
    model: str | None = None, log: Callable[[str], None] = lambda _m: None,
) -> TuneReport:
    qrels = load_qrels(qrels_path)
    queries = qrels.get("queries") or []
    if len(queries) < 2:
        raise InvalidQuery(f"{qrels_path}: tuning needs at least 2 queries, it has {len(queries)}")
    folds = max(2, min(folds, len(queries)))
    engine = SearchEngine.open(index_root, model=model)
    legs = engine._plan("hybrid", ready=engine.ready_legs).legs
    if len(legs) < 2:
        raise InvalidQuery(f"nothing to tune: this index answers with one leg ({', '.join(legs)}), there is no fusion")
    log(f"tune: {len(queries)} queries, legs {', '.join(legs)}: running each leg once per query")
    runs = [engine.run_legs(q["query"], legs, CANDIDATES) for q in queries]
    fills = [r.fill() for r in runs]
    grid = candidates(legs)
    log(f"tune: scoring {len(grid)} fusion settings, {folds}-fold cross-validation (seed {seed})")
    table = [
        [_ndcg(c, r.rankings, r.stats, fill, q["relevant"]) for r, fill, q in zip(runs, fills, queries)] for c in grid
    ]
    report = _choose(grid, table, queries, folds_of(len(queries), folds, seed))
    chosen = report.chosen
    record = FusionSettings(
        chosen.method, chosen.rrf_k, chosen.weights,
        {
            "qrels": str(qrels_path),
            "qrels_sha256": hashlib.sha256(Path(qrels_path).read_bytes()).hexdigest(),
            "queries": len(queries),
            "folds": folds,
            "seed": seed,
            "candidates": len(grid),
            "held_out": report.held_out,
            "replaced_default": report.replaced_default,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        },
    )
    report.chosen = record
    # What counts as a match, chosen on the same queries and the off-topic ones
    # (index/publish/match_calibration.py); recorded beside the fusion.
    log(f"tune: calibrating match thresholds ({len(queries)} queries, {len(offtopic_queries())} off-topic queries)")
    engine.fusion_override = record
    calibration = calibrate(engine, queries, offtopic_queries(), folds=folds)
    match = replace(calibration.thresholds, calibrated={
        "qrels": str(qrels_path), "queries": calibration.queries, "offtopic": calibration.offtopic, "folds": calibration.folds,
    })
    report.match = match
    if write:
        tuned_build = engine.build_id

        def change(manifest: Manifest) -> Manifest:
            if manifest.build_id != tuned_build:  # a build swapped in while tuning
                raise BuildLocked(
                    f"the index changed while tuning (build {tuned_build} was tuned, {manifest.build_id} is served now): "
                    "nothing recorded; run tune again"
                )
            return manifest.with_fusion(record).with_match(match)

        report.build_id = republish(IndexLayout(index_root), change)
    return report


def _ndcg(
    c: FusionSettings, rankings: Mapping[str, list[ScoredId]], stats: Mapping[str, LegStats],
    fill: Mapping[str, Mapping[str, float]], relevant: Mapping[str, float],
) -> float:
    fused = fuse(rankings, c.method, rrf_k=c.rrf_k, weights=c.weights, stats=stats, fill=fill)
    return ndcg_at_k([h.id for h in fused], relevant, K)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _best(table: list[list[float]], rows: Sequence[int]) -> int:
    """The candidate with the best mean over ``rows``; the first of equals (the grid puts
    the default first)."""
    scores = [_mean([t[i] for i in rows]) for t in table]
    return max(range(len(table)), key=lambda c: (round(scores[c], 12), -c))


def _choose(grid: list[FusionSettings], table: list[list[float]], queries: list[dict[str, Any]], parts: list[list[int]]) -> TuneReport:
    n = len(queries)
    held = [0.0] * n  # each query scored by the candidate chosen without it
    fold_rows: list[dict[str, Any]] = []
    for f, test in enumerate(parts):
        train = [i for i in range(n) if i not in set(test)]
        c = _best(table, train)
        for i in test:
            held[i] = table[c][i]
        fold_rows.append({
            "fold": f + 1, "queries": len(test), "chosen": grid[c].to_dict(),
            "held_out_tuned": round(_mean([table[c][i] for i in test]), 4),
            "held_out_default": round(_mean([table[0][i] for i in test]), 4),
        })
    tuned, default = _mean(held), _mean(table[0])
    replaced = tuned > default + MIN_GAIN
    chosen = grid[_best(table, range(n))] if replaced else grid[0]
    kinds: dict[str, list[int]] = {}
    for i, q in enumerate(queries):
        kinds.setdefault(str(q.get("kind", "unknown")), []).append(i)
    by_kind = {
        kind: {"tuned": round(_mean([held[i] for i in rows]), 4), "default": round(_mean([table[0][i] for i in rows]), 4), "n": len(rows)}
        for kind, rows in sorted(kinds.items())
    }
    fixed: dict[str, dict[str, Any]] = {}
    for c, setting in enumerate(grid):
        if not setting.weights and (setting.method != "rrf" or setting.rrf_k == 60):
            fixed[setting.method] = {
                "folds": [round(_mean([table[c][i] for i in test]), 4) for test in parts],
                "all": round(_mean(table[c]), 4),
                "by_kind": {kind: round(_mean([table[c][i] for i in rows]), 4) for kind, rows in sorted(kinds.items())},
            }
    return TuneReport(
        chosen, replaced, n, len(grid), fold_rows, {"tuned": round(tuned, 4), "default": round(default, 4)}, by_kind, fixed,
    )
