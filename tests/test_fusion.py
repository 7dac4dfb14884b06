"""Fusion is a pure function: ranks in, fused ranks out."""

from __future__ import annotations

import math

import pytest

from search.core.records import LegScore
from search.core.records import ScoredId as S
from search.pipeline.fusion import (
    fuse,
    reciprocal_rank_fusion,
    single_leg,
    weighted_fusion,
)


def ids(hits):
    return [h.id for h in hits]


def test_rrf_scores_and_breakdown() -> None:
    fused = reciprocal_rank_fusion({"bm25": [S("a", 9.0), S("b", 5.0)], "dense": [S("b", 0.9), S("c", 0.8)]}, k=60)
    assert ids(fused) == ["b", "a", "c"]
    b = fused[0]
    assert b.score == pytest.approx(1 / 62 + 1 / 61)
    assert b.legs == {"bm25": LegScore(2, 5.0), "dense": LegScore(1, 0.9)}
    assert fused[1].legs["dense"] is None and fused[2].legs["bm25"] is None


def test_rrf_ties_break_by_best_rank_then_id() -> None:
    fused = reciprocal_rank_fusion({"bm25": [S("x", 1), S("y", 1)], "dense": [S("y", 1), S("x", 1)]})
    assert fused[0].score == fused[1].score
    assert ids(fused) == ["x", "y"]  # equal best rank (1): the id decides, stably


def test_rrf_empty_and_one_empty_list() -> None:
    assert reciprocal_rank_fusion({"bm25": [], "dense": []}) == []
    fused = reciprocal_rank_fusion({"bm25": [], "dense": [S("a", 0.5), S("b", 0.4)]})
    assert ids(fused) == ["a", "b"] and all(h.legs["bm25"] is None for h in fused)


def test_rrf_k_changes_how_much_top_ranks_dominate() -> None:
    runs = {"bm25": [S("a", 1), S("b", 1)], "dense": [S("c", 1), S("d", 1), S("b", 1)]}
    # Small k: a first place (a, c) beats two middling places (b); large k: b's two votes win.
    assert ids(reciprocal_rank_fusion(runs, k=0)) == ["a", "c", "b", "d"]
    assert ids(reciprocal_rank_fusion(runs, k=1000))[0] == "b"
    with pytest.raises(ValueError):
        reciprocal_rank_fusion(runs, k=-1)


def test_rrf_weights() -> None:
    runs = {"bm25": [S("a", 1)], "dense": [S("b", 1)]}
    assert ids(reciprocal_rank_fusion(runs, weights={"dense": 2.0})) == ["b", "a"]
    assert ids(reciprocal_rank_fusion(runs, weights={"bm25": 2.0})) == ["a", "b"]


def test_duplicate_id_in_one_list_keeps_best_rank() -> None:
    fused = reciprocal_rank_fusion({"bm25": [S("a", 3), S("a", 2), S("b", 1)]})
    assert fused[0].legs["bm25"] == LegScore(1, 3)
    assert len(fused) == 2


def test_weighted_single_hit_and_equal_scores_do_not_divide_by_zero() -> None:
    fused = weighted_fusion({"bm25": [S("a", 7.0)], "dense": [S("b", 0.3), S("c", 0.3)]})
    assert {h.id: h.score for h in fused} == {"a": 1.0, "b": 1.0, "c": 1.0}


def test_weighted_normalises_scales() -> None:
    fused = weighted_fusion(
        {"bm25": [S("a", 30.0), S("b", 20.0), S("c", 10.0)], "dense": [S("c", 0.9), S("b", 0.5), S("a", 0.1)]},
        weights={"bm25": 1.0, "dense": 1.0},
    )
    assert {h.id: round(h.score, 3) for h in fused} == {"a": 1.0, "b": 1.0, "c": 1.0}
    fused = weighted_fusion({"bm25": [S("a", 30.0), S("b", 10.0)], "dense": [S("b", 0.9), S("a", 0.1)]}, weights={"dense": 3.0})
    assert ids(fused) == ["b", "a"]


def test_single_leg_passes_scores_through() -> None:
    fused = single_leg({"bm25": [S("a", 4.2), S("b", 1.5)]})
    assert [(h.id, h.score, h.legs["bm25"].rank) for h in fused] == [("a", 4.2, 1), ("b", 1.5, 2)]
    assert fuse({"bm25": [S("a", 4.2)]}, "weighted")[0].score == 4.2
    with pytest.raises(ValueError):
        fuse({"bm25": [], "dense": []}, "max")


# -- score-aware fusions --------------------------------------------------------------

from search.pipeline.fusion import LegStats, dbsf_fusion, list_stats, zscore_fusion  # noqa: E402


def _finite(hits) -> bool:
    return all(math.isfinite(h.score) for h in hits)


def test_zscore_sums_standard_deviations_above_each_legs_corpus_mean() -> None:
    runs = {"bm25": [S("a", 9.0), S("b", 1.0)], "dense": [S("b", 0.8), S("c", 0.5)]}
    stats = {"bm25": LegStats(1.0, 2.0, 0.0), "dense": LegStats(0.4, 0.1, 0.5)}
    got = {h.id: h.score for h in zscore_fusion(runs, stats)}
    assert got == pytest.approx({"a": 4.0 + 1.0, "b": 0.0 + 4.0, "c": -0.5 + 1.0})  # a missed by dense: its floor 0.5


def test_zscore_lets_a_confident_bm25_hit_beat_a_mild_dense_preference() -> None:
    # RRF ranks b first (2nd and 1st places against a's 1st and 3rd); z-scores see that a
    # is 6σ out in BM25 while the dense leg barely tells the three apart.
    runs = {"bm25": [S("a", 20.0), S("b", 2.0)], "dense": [S("b", 0.61), S("c", 0.605), S("a", 0.60)]}
    stats = {"bm25": LegStats(1.0, 3.0, 0.0), "dense": LegStats(0.5, 0.05, 0.4)}
    assert ids(reciprocal_rank_fusion(runs))[0] == "b"
    assert ids(zscore_fusion(runs, stats))[0] == "a"


def test_zscore_weights_and_a_leg_without_spread() -> None:
    runs = {"bm25": [S("a", 5.0)], "dense": [S("b", 0.7)]}
    flat = {"bm25": LegStats(2.0, 0.0, 0.0), "dense": LegStats(0.5, 0.1, 0.6)}
    fused = zscore_fusion(runs, flat)  # bm25 has no spread: it adds 0, dense decides
    assert ids(fused) == ["b", "a"] and _finite(fused)
    stats = {"bm25": LegStats(1.0, 1.0, 0.0), "dense": LegStats(0.5, 0.1, 0.6)}
    assert ids(zscore_fusion(runs, stats, weights={"dense": 0.1})) == ["a", "b"]
    assert ids(zscore_fusion(runs, stats, weights={"bm25": 0.0})) == ["b", "a"]


@pytest.mark.parametrize(
    "runs",
    [
        {"bm25": [S("a", 3.0)], "dense": [S("a", 0.5)]},  # one hit each
        {"bm25": [S("a", 1.0), S("b", 1.0)], "dense": [S("a", 0.2), S("b", 0.2)]},  # constant
        {"bm25": [], "dense": []},
        {"bm25": [], "dense": [S("a", 0.3)]},
    ],
)
def test_degenerate_lists_give_finite_scores_in_every_fusion(runs) -> None:
    for method in ("zscore", "dbsf", "rrf", "weighted"):
        fused = fuse(runs, method)
        assert _finite(fused) and len(fused) == len({h.id for hits in runs.values() for h in hits})
    zero = {leg: LegStats(0.0, 0.0, 0.0) for leg in runs}
    assert _finite(zscore_fusion(runs, zero))
    assert all(h.score == 0.0 for h in zscore_fusion(runs, zero))


def test_legstats_from_sums_never_takes_the_root_of_a_negative() -> None:
    st = LegStats.of(3 * 0.1, 3 * 0.1 * 0.1 - 1e-18, 3, 0.0)  # rounding below zero variance
    assert st.std == 0.0 and st.mean == pytest.approx(0.1)
    assert LegStats.of(0.0, 0.0, 0, 0.0) == LegStats(0.0, 0.0, 0.0)


def test_dbsf_maps_mean_plus_minus_three_sigma_onto_zero_to_one() -> None:
    runs = {"bm25": [S("a", 10.0), S("b", 0.0)], "dense": [S("b", 0.9), S("a", 0.1)]}
    got = {h.id: h.score for h in dbsf_fusion(runs)}
    # Each list: mean 5 / 0.5, sigma 5 / 0.4; the top maps to (1 + 3) / 6, the bottom to 2/6.
    assert got == pytest.approx({"a": 4 / 6 + 2 / 6, "b": 2 / 6 + 4 / 6})
    one = dbsf_fusion({"bm25": [S("a", 2.0)], "dense": [S("b", 0.3), S("c", 0.3)]})
    assert {h.id: h.score for h in one} == {"a": 0.5, "b": 0.5, "c": 0.5}


def test_zscore_without_stats_normalises_each_leg_over_its_own_list() -> None:
    runs = {"bm25": [S("a", 3.0), S("b", 1.0)], "dense": [S("b", 0.9), S("a", 0.1)]}
    assert fuse(runs, "zscore") == zscore_fusion(runs, list_stats(runs))
    assert list_stats(runs)["bm25"] == LegStats(2.0, 1.0, 1.0)


def test_unknown_fusion_is_refused() -> None:
    with pytest.raises(ValueError, match="zscore, dbsf, rrf, weighted"):
        fuse({"a": [S("x", 1)], "b": [S("y", 1)]}, "borda")
