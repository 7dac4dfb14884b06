"""Which of a request's fused hits are matches, and how many matches there are: the
pure rules of ``search/pipeline/matching.py`` applied to what a store's legs found."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search.core.records import FusedHit
from search.pipeline.matching import coverage, coverage_weights, is_match
from search.pipeline.runs import LegRuns
from search.pipeline.store import Store


def bm25_coverage(store: Store, runs: LegRuns) -> tuple[dict[str, float], dict[str, float]]:
    """The query terms' coverage shares, and each BM25 hit's coverage of the query."""
    bm25 = runs.runs.get("bm25")
    if bm25 is None:
        return {}, {}
    weights = coverage_weights(runs.terms, store.document_frequency, store.paper_count)
    return weights, {pid: coverage(terms, weights) for pid, terms in store.hit_terms(bm25.hits, runs.terms).items()}


def count_matches(
    store: Store, legs: Sequence[str], runs: LegRuns, fused: list[FusedHit], thresholds: Mapping[str, float | None],
) -> tuple[list[FusedHit], int]:
    """The fused hits that are matches, and how many matches there are: those among the
    candidates, plus BM25's matches past its depth where the store can count them (the
    ones it listed stand in for the rest where it cannot: Milvus)."""
    bm25 = runs.runs.get("bm25")
    threshold = thresholds.get("bm25")
    weights, cover = bm25_coverage(store, runs)
    matches = [f for f in fused if is_match(f, thresholds, cover)]
    total = len(matches)
    if bm25 is not None and bm25.total is not None and bm25.total > len(bm25.hits):  # BM25 was cut short
        if threshold is None or threshold <= 0:
            total += bm25.total - len(bm25.hits)
        else:
            counted = store.bm25_match_count(weights, threshold)
            listed = sum(1 for h in bm25.hits if cover.get(h.id, 0.0) >= threshold)
            total += max(0, (listed if counted is None else counted) - listed)
    elif len(legs) == 1 and thresholds.get(legs[0]) is None and runs.total is not None:
        total = runs.total  # an uncalibrated dense leg alone: every paper has a similarity
    return matches, total
