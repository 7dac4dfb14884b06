"""Which fused hits are matches (``search/core/match_settings.py`` says why and how the
thresholds are chosen): pure functions over a request's legs, no I/O."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from search.core.records import FusedHit


def idf(df: int, n: int) -> float:
    """BM25's (Lucene's) idf: a term no paper has weighs the most."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def coverage_weights(terms: Mapping[str, float], df: Callable[[str], int], n: int) -> dict[str, float]:
    """Each query term's share of the query: its weight × idf over the idf of the query's
    own terms (weight 1; expansions weigh less), so a paper holding every own term covers
    1.0 and one holding only a common word ("결과", "방법") of a longer query little. An
    own term no paper contains still counts in the whole: "축구 경기 결과" matched on 결과
    alone covers 0.09. A query with no terms covers nothing."""
    idfs = {t: idf(df(t), n) for t, w in terms.items() if w > 0}
    whole = sum(v for t, v in idfs.items() if terms[t] >= 1.0)
    if whole <= 0:
        return {}
    return {t: terms[t] * v / whole for t, v in idfs.items()}


def coverage(matched: Iterable[str], weights: Mapping[str, float]) -> float:
    return min(1.0, sum(weights.get(t, 0.0) for t in set(matched)))


def is_match(hit: FusedHit, thresholds: Mapping[str, float | None], bm25_coverage: Mapping[str, float]) -> bool:
    """Whether one leg gives strong evidence for ``hit``: BM25's coverage or a dense leg's
    similarity at or above that leg's threshold; a leg with none counts any listing."""
    for leg, threshold in thresholds.items():
        score = hit.legs.get(leg)
        if score is None:
            continue
        if threshold is None:
            return True
        value = bm25_coverage.get(hit.id, 0.0) if leg == "bm25" else score.score
        if value >= threshold:
            return True
    return False
