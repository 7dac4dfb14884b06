"""A match means something, with the real bundled encoders on the sample corpus: nonsense
and off-topic queries answer "no good match" (the nearest papers offered as such), an
on-topic query counts its matches, sorting and filters list matches only, and the shipped
thresholds keep the dev set's ranking (search/core/match_settings.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from index.publish.match_calibration import offtopic_queries
from papersearch.api import create_app
from search.core.filters import Filters
from search.core.match_settings import SHIPPED_MATCH, MatchThresholds
from search.engine import SearchEngine
from search.evaluate import evaluate, load_qrels
from tests.conftest import DEV_QRELS

NONSENSE = ("qwxzv plmkj", "김치찌개 맛있게 끓이는 법", "cheap flights to tokyo")


def test_nonsense_has_no_good_match_in_hybrid_and_dense_modes(bundled_engine: SearchEngine) -> None:
    for query in NONSENSE:
        for mode in ("hybrid", "dense", "use"):
            resp = bundled_engine.search(query, k=5, mode=mode)
            assert resp.no_match and resp.total == 0, (query, mode, resp.total)
            assert len(resp.results) == 5 and not any(h.match for h in resp.results)  # the nearest, as such
    for query in NONSENSE[:2]:  # BM25 alone matches on any shared word it has (README: alone)
        bm25 = bundled_engine.search(query, k=5, mode="bm25")
        assert bm25.no_match and bm25.total == 0 and not bm25.results


def test_an_on_topic_query_counts_its_matches_not_the_corpus(bundled_engine: SearchEngine) -> None:
    resp = bundled_engine.search("다중 턴 강화학습", k=10)
    assert not resp.no_match and all(h.match for h in resp.results)
    assert 10 <= resp.total < bundled_engine.store.paper_count  # before: every paper in the pool
    assert "2509.02544" in [h.paper.id for h in resp.results]  # the multi-turn RL paper
    acronym = bundled_engine.search("SAPO", k=10)
    assert not acronym.no_match and acronym.results[0].paper.id == "2509.08721"


def test_sorting_and_filters_list_matches_only(bundled_engine: SearchEngine) -> None:
    relevance = bundled_engine.search("다중 턴 강화학습", k=100)
    matches = {h.paper.id for h in relevance.results}
    newest = bundled_engine.search("다중 턴 강화학습", k=100, sort="newest")
    assert {h.paper.id for h in newest.results} == matches and newest.total == relevance.total
    dated = bundled_engine.search("다중 턴 강화학습", k=100, filters=Filters(date_from="2026-01-01"))
    assert {h.paper.id for h in dated.results} <= matches and dated.total == len(dated.results)
    assert bundled_engine.search("축구 경기 결과", k=10, sort="upvotes").no_match  # 결과 alone is no match


def test_shipped_thresholds_keep_the_dev_ranking_in_every_mode(bundled_engine: SearchEngine) -> None:
    qrels = load_qrels(DEV_QRELS)
    try:
        for mode in ("hybrid", "dense", "bm25", "e5", "use"):
            bundled_engine.match = MatchThresholds()  # every hit a match: the ranking before
            before = evaluate(bundled_engine, qrels, mode=mode)
            bundled_engine.match = None
            after = evaluate(bundled_engine, qrels, mode=mode)
            for kind, figures in before["by_kind"].items():
                assert after["by_kind"][kind]["ndcg@10"] >= figures["ndcg@10"] - 1e-9, (mode, kind)
    finally:
        bundled_engine.match = None
    offtopic = offtopic_queries()
    rejected = sum(bundled_engine.search(q, k=10).no_match for q in offtopic)
    assert rejected >= 0.9 * len(offtopic)  # hybrid, the default: 48 of 50 when calibrated


def test_the_api_says_no_good_match_and_marks_the_nearest(bundled_index) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(bundled_index)) as client:
        body = client.get("/api/search", params={"q": "qwxzv plmkj", "k": 3}).json()
        assert body["no_match"] is True and body["total"] == 0
        assert [h["match"] for h in body["results"]] == [False] * 3
        on_topic = client.get("/api/search", params={"q": "다중 턴 강화학습"}).json()
        assert on_topic["no_match"] is False and all(h["match"] for h in on_topic["results"])
        assert client.get("/api/health").json()["match"] == {**SHIPPED_MATCH.to_dict(), "calibrated": None}
