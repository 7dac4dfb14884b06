"""Rank fusion: pure functions over ranked lists, no I/O, no models.

Reciprocal rank fusion is the default because BM25 scores and cosine similarities live
on different scales; RRF only looks at ranks. The weighted combination min-max normalises
each list first, guarding the single-hit and all-equal cases where the range is zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search.records import FusedHit, LegScore, ScoredId

DEFAULT_RRF_K = 60


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
    method: str = "rrf",
    rrf_k: int = DEFAULT_RRF_K,
    weights: Mapping[str, float] | None = None,
) -> list[FusedHit]:
    """Merge the legs' rankings; a single leg is returned as it ranked."""
    if len(rankings) == 1:
        return single_leg(rankings)
    if method == "rrf":
        return reciprocal_rank_fusion(rankings, k=rrf_k, weights=weights)
    if method == "weighted":
        return weighted_fusion(rankings, weights=weights)
    raise ValueError(f"unknown fusion {method!r}: use rrf or weighted")
