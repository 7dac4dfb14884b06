"""Fusion is a pure function: ranks in, fused ranks out."""

from __future__ import annotations

import pytest

from search.fusion import fuse, reciprocal_rank_fusion, single_leg, weighted_fusion
from search.records import LegScore, ScoredId as S


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
