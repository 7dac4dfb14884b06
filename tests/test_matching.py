"""When a hit is a match: the coverage arithmetic, the thresholds' record, and the
calibration's choice, on hand-made evidence (tests/test_matches_bundled.py: the real
encoders on the sample corpus)."""

from __future__ import annotations

import math

import pytest

from index.publish.match_calibration import Evidence, choose, count, fit
from search.core.errors import IndexCorrupt
from search.core.match_settings import SHIPPED_MATCH, MatchThresholds
from search.core.records import FusedHit, LegScore
from search.pipeline.matching import coverage, coverage_weights, idf, is_match

N = 1000
DF = {"강화학습": 40, "결과": 600, "다중": 30, "턴": 20}


def test_an_own_term_no_paper_has_still_weighs_in_the_whole() -> None:
    w = coverage_weights({"축구": 1.0, "경기": 1.0, "결과": 1.0}, lambda t: DF.get(t, 0), N)
    assert math.isclose(sum(w.values()), 1.0)
    assert coverage(["결과"], w) < 0.1  # a common word of a three-word query covers little
    assert coverage(["축구", "경기", "결과"], w) == pytest.approx(1.0)


def test_expansions_count_at_their_weight_and_coverage_is_capped() -> None:
    terms = {"다중": 1.0, "턴": 1.0, "강화학습": 1.0, "reinforcement": 0.5}
    w = coverage_weights(terms, lambda t: DF.get(t, 40), N)
    assert w["reinforcement"] == pytest.approx(0.5 * idf(40, N) / sum(idf(DF[t], N) for t in ("다중", "턴", "강화학습")))
    assert coverage(["다중", "턴", "강화학습", "reinforcement"], w) == 1.0
    assert coverage(["강화학습", "강화학습"], w) == coverage(["강화학습"], w)  # a term counts once


def test_a_query_without_terms_covers_nothing() -> None:
    assert coverage_weights({}, lambda t: 0, N) == {}
    assert coverage_weights({"x": 0.5}, lambda t: 0, N) == {}  # only expansions: no whole


def _hit(**legs: float | None) -> FusedHit:
    return FusedHit("p", 1.0, {leg: (None if s is None else LegScore(1, s)) for leg, s in legs.items()})


def test_a_match_needs_one_leg_at_its_threshold() -> None:
    t = {"bm25": 0.5, "e5": 0.85}
    assert is_match(_hit(bm25=3.0, e5=0.80), t, {"p": 0.6})  # BM25's coverage, not its score
    assert not is_match(_hit(bm25=30.0, e5=0.80), t, {"p": 0.2})
    assert is_match(_hit(bm25=None, e5=0.86), t, {})
    assert not is_match(_hit(bm25=None, e5=0.849), t, {})
    assert is_match(_hit(bm25=None, e5=0.1), {"bm25": 0.5, "e5": None}, {})  # uncalibrated: any listing


def test_thresholds_round_trip_and_damage_is_named() -> None:
    t = MatchThresholds({"bm25": 0.4, "e5": 0.85}, {"e5": 0.8}, {"qrels": "dev.json"})
    assert MatchThresholds.from_dict(t.to_dict()) == t
    assert t.for_legs(["bm25", "e5", "use"]) == {"bm25": 0.4, "e5": 0.85, "use": None}
    assert t.for_legs(["e5"]) == {"e5": 0.8}
    merged = MatchThresholds({"e5": 0.9}, {}).merged_over(SHIPPED_MATCH)
    assert merged.fused["e5"] == 0.9 and merged.fused["bm25"] == SHIPPED_MATCH.fused["bm25"]
    for bad in ({"fused": {"e5": "high"}}, {"fused": {"e5": float("nan")}}, {"fused": ["e5"]}):
        with pytest.raises(IndexCorrupt, match="papersearch tune"):
            MatchThresholds.from_dict(bad)


def _q(papers: dict[str, dict[str, float]], relevant: tuple[str, ...] = (), top: tuple[str, ...] = ()) -> Evidence:
    ev = Evidence("q", "topic", dict.fromkeys(relevant, 1), papers)
    for mode in ("hybrid", "bm25", "e5"):
        ev.tops[mode] = list(top)
    return ev


def test_calibration_keeps_every_relevant_paper_and_rejects_what_it_can() -> None:
    queries = [
        _q({"a": {"bm25": 0.9, "e5": 0.80}, "x": {"bm25": 0.1, "e5": 0.79}}, ("a",), ("a", "x")),
        _q({"b": {"bm25": 0.05, "e5": 0.88}}, ("b",), ("b",)),  # only e5 finds it well
    ]
    offtopic = [_q({"n1": {"bm25": 0.3, "e5": 0.84}}), _q({"n2": {"e5": 0.86}})]
    thresholds, cut, through = choose(["bm25", "e5"], [p for q in queries for p in q.positives("hybrid")], offtopic)
    assert cut == 0 and through == 0
    assert 0.3 < thresholds["bm25"] <= 0.9 and 0.86 < thresholds["e5"] <= 0.88
    # In the middle of the gap it chose, not on a paper's exact score: 0.3 | 0.9 and 0.86 | 0.88
    assert thresholds == pytest.approx({"bm25": 0.6, "e5": 0.87})
    chosen, _ = fit(["bm25", "e5"], queries, offtopic)
    figures = count(chosen, ["bm25", "e5"], queries, offtopic)
    assert figures["hybrid"] == {"relevant": 2, "cut": 0, "offtopic": 2, "through": 0}
    assert figures["e5"]["cut"] == 0  # alone, e5 must keep a (0.80) itself
    assert chosen.alone["e5"] <= 0.80
