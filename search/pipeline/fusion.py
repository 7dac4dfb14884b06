"""Rank fusion: pure functions over ranked lists, no I/O, no models.

BM25 scores and cosine similarities live on different scales, so each fusion first puts
the legs on one:

* ``zscore`` (the default): each leg's score as standard deviations above that leg's mean
  score *over the whole corpus* for this query (``LegStats``, which each retriever
  reports: BM25 from its score array, a dense leg from its vectors' stored mean and
  covariance), summed with per-leg weights. A BM25 hit many deviations out (a rare
  acronym, an exact title) outweighs a dense leg's mild preference, and the other way
  round, which rank-only RRF cannot see: its 1st and 20th places differ by little.
* ``dbsf``: Qdrant's distribution-based score fusion: each leg's scores over its own
  returned list, mapped from mean ± 3σ onto 0..1 (clipped), summed.
* ``rrf``: reciprocal rank fusion, ranks only.
* ``weighted``: min-max normalised scores, summed.

Every normaliser guards the degenerate lists (one hit, all scores equal: no spread) and
never produces NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from search.core.fusion_settings import DEFAULT_FUSION, DEFAULT_RRF_K, FUSIONS
from search.core.records import FusedHit, LegScore, LegStats, ScoredId

__all__ = [
    "DEFAULT_FUSION", "DEFAULT_RRF_K", "FUSIONS", "LegStats", "dbsf_fusion", "fuse", "list_stats",
    "reciprocal_rank_fusion", "single_leg", "weighted_fusion", "zscore_fusion",
]



def _legs(rankings: Mapping[str, Sequence[ScoredId]]) -> tuple[dict[str, dict[str, LegScore | None]], dict[str, int]]:
    """Per paper id, where each leg ranked it (None for a leg that did not find it), and
    its best rank over the legs (the tie-break of :func:`_ordered`). One pass over the
    legs: a hybrid query fuses ~200 candidates on every request."""
    names = list(rankings)
    seen: dict[str, dict[str, LegScore | None]] = {}
    best: dict[str, int] = {}
    for leg, hits in rankings.items():
        for rank, hit in enumerate(hits, 1):
            entry = seen.get(hit.id)
            if entry is None:
                seen[hit.id] = entry = dict.fromkeys(names)
                best[hit.id] = rank
            elif entry[leg] is not None:  # a duplicate id in one list keeps its best rank
                continue
            elif rank < best[hit.id]:
                best[hit.id] = rank
            entry[leg] = LegScore(rank, hit.score)
    return seen, best


def _ordered(scores: dict[str, float], legs: dict[str, dict[str, LegScore | None]], best: dict[str, int]) -> list[FusedHit]:
    # Ties: the hit with the better best-leg rank first, then the id, so output is stable.
    # Each key is made once (a hybrid query fuses ~200 candidates on every request).
    keys = sorted((-score, best[pid], pid) for pid, score in scores.items())
    return [FusedHit(pid, scores[pid], legs[pid]) for _, _, pid in keys]


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[ScoredId]],
    k: int = DEFAULT_RRF_K,
    weights: Mapping[str, float] | None = None,
) -> list[FusedHit]:
    """score(d) = Σ_leg weight_leg / (k + rank_leg(d)), over the legs that found d."""
    if k < 0:
        raise ValueError("RRF k must be >= 0")
    legs, best = _legs(rankings)
    leg_weights = [(leg, (weights or {}).get(leg, 1.0)) for leg in rankings]
    scores: dict[str, float] = {}
    for pid, by_leg in legs.items():
        score = 0.0  # summed in the legs' order: the same float every time
        for leg, weight in leg_weights:
            hit = by_leg[leg]
            if hit is not None:
                score += weight / (k + hit.rank)
        scores[pid] = score
    return _ordered(scores, legs, best)


def weighted_fusion(
    rankings: Mapping[str, Sequence[ScoredId]],
    weights: Mapping[str, float] | None = None,
) -> list[FusedHit]:
    """score(d) = Σ_leg weight_leg × minmax_leg(score); a leg that missed d adds 0.

    A list with one hit, or with all scores equal, has no range: its hits count as 1.0
    (they are the best that leg found) instead of dividing by zero.
    """
    legs, best = _legs(rankings)
    norm: dict[str, dict[str, float]] = {}
    for leg, hits in rankings.items():
        if not hits:
            continue
        values = [h.score for h in hits]
        lo, hi = min(values), max(values)
        span = hi - lo
        norm[leg] = {h.id: (1.0 if span <= 0 else (h.score - lo) / span) for h in hits}
    scores = {
        pid: sum((weights or {}).get(leg, 1.0) * norm[leg].get(pid, 0.0) for leg in norm) for pid in legs
    }
    return _ordered(scores, legs, best)



def zscore_fusion(
    rankings: Mapping[str, Sequence[ScoredId]],
    stats: Mapping[str, LegStats],
    weights: Mapping[str, float] | None = None,
    fill: Mapping[str, Mapping[str, float]] | None = None,
) -> list[FusedHit]:
    """score(d) = Σ_leg weight_leg × (score_leg(d) − mean_leg) / std_leg. A paper a leg did
    not list takes its exact score from ``fill`` (leg → id → score, where the retriever
    can give it), else that leg's ``floor``. A leg with no spread (std 0, or no stats)
    adds 0 to every paper: it cannot tell them apart."""
    legs, best = _legs(rankings)
    parts: list[tuple[str, float, float, float, Mapping[str, float]]] = []  # leg, weight / std, mean, floor, fill
    for leg in rankings:
        st = stats.get(leg)
        weight = (weights or {}).get(leg, 1.0)
        if st is not None and st.std > 0 and math.isfinite(st.std) and weight:
            parts.append((leg, weight / st.std, st.mean, st.floor, (fill or {}).get(leg) or {}))
    scores: dict[str, float] = {}
    for pid, by_leg in legs.items():
        score = 0.0  # summed in the legs' order: the same float every time
        for leg, scale, mean, floor, exact in parts:
            hit = by_leg[leg]
            score += scale * ((hit.score if hit is not None else exact.get(pid, floor)) - mean)
        scores[pid] = score
    return _ordered(scores, legs, best)


def dbsf_fusion(
    rankings: Mapping[str, Sequence[ScoredId]],
    weights: Mapping[str, float] | None = None,
) -> list[FusedHit]:
    """Qdrant's DBSF: score(d) = Σ_leg weight_leg × clip((s − (μ − 3σ)) / 6σ, 0, 1), μ and
    σ over the leg's own returned list; a leg that missed d adds 0. A list with no spread
    counts its hits as 0.5 (the middle of the range)."""
    legs, best = _legs(rankings)
    norm: dict[str, dict[str, float]] = {}
    for leg, hits in rankings.items():
        if not hits:
            continue
        values = [h.score for h in hits]
        st = LegStats.of(sum(values), sum(v * v for v in values), len(values), 0.0)
        lo, span = st.mean - 3 * st.std, 6 * st.std
        norm[leg] = {
            h.id: (0.5 if span <= 0 else min(1.0, max(0.0, (h.score - lo) / span))) for h in reversed(hits)
        }  # reversed: a repeated id keeps its first (best) score
    scores = {
        pid: sum((weights or {}).get(leg, 1.0) * norm[leg].get(pid, 0.0) for leg in norm) for pid in legs
    }
    return _ordered(scores, legs, best)


def single_leg(rankings: Mapping[str, Sequence[ScoredId]]) -> list[FusedHit]:
    """One leg asked: its own order and scores pass through (a repeated id keeps its first)."""
    ((leg, hits),) = rankings.items()
    legs, _best = _legs(rankings)
    out: list[FusedHit] = []
    seen: set[str] = set()
    for h in hits:
        if h.id not in seen:
            seen.add(h.id)
            out.append(FusedHit(h.id, h.score, legs[h.id]))
    return out


def fuse(
    rankings: Mapping[str, Sequence[ScoredId]],
    method: str = DEFAULT_FUSION,
    rrf_k: int = DEFAULT_RRF_K,
    weights: Mapping[str, float] | None = None,
    stats: Mapping[str, LegStats] | None = None,
    fill: Mapping[str, Mapping[str, float]] | None = None,
) -> list[FusedHit]:
    """Merge the legs' rankings; a single leg is returned as it ranked. ``stats``: each
    leg's corpus-wide score distribution, which ``zscore`` needs (a leg without stats is
    normalised over its own list, as DBSF does); ``fill``: exact scores of papers a leg
    did not list (``zscore_fusion``)."""
    if len(rankings) == 1:
        return single_leg(rankings)
    if method == "zscore":
        return zscore_fusion(rankings, {**list_stats(rankings), **(stats or {})}, weights=weights, fill=fill)
    if method == "dbsf":
        return dbsf_fusion(rankings, weights=weights)
    if method == "rrf":
        return reciprocal_rank_fusion(rankings, k=rrf_k, weights=weights)
    if method == "weighted":
        return weighted_fusion(rankings, weights=weights)
    raise ValueError(f"unknown fusion {method!r}: use one of {', '.join(FUSIONS)}")


def list_stats(rankings: Mapping[str, Sequence[ScoredId]]) -> dict[str, LegStats]:
    """Each leg's distribution over its own returned list (the fallback when a retriever
    reports no corpus-wide one); a paper it did not list takes its lowest listed score."""
    out: dict[str, LegStats] = {}
    for leg, hits in rankings.items():
        if hits:
            values = [h.score for h in hits]
            out[leg] = LegStats.of(sum(values), sum(v * v for v in values), len(values), min(values))
    return out
