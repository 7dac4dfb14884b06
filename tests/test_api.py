"""The HTTP API on real indexes built from data/digests, through FastAPI's test client:
search, papers and similar papers (health, reload, the page and `serve`: test_api_service.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from search.core.query_limits import MAX_QUERY_CHARS, MAX_TEXT_CHARS
from search.engine import SearchEngine
from tests.api_support import bm25, bm25_root, dense, dense_root  # noqa: F401 (fixtures)

QUERY = "다중 턴 강화학습"
UI_TARS = "2509.02544"  # UI-TARS-2: multi-turn RL for GUI agents, a top hit for QUERY



# -- search -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_search_is_the_cli_json_plus_a_snippet(dense: TestClient, dense_root: Path, mode: str) -> None:
    r = dense.get("/api/search", params={"q": QUERY, "k": 5, "mode": mode})
    assert r.status_code == 200
    body = r.json()
    snippets = [hit.pop("snippet") for hit in body["results"]]
    expected = SearchEngine.open(dense_root).search(QUERY, k=5, mode=mode).to_dict()
    assert body == expected
    assert body["mode"] == mode and body["total"] >= 5 and len(body["results"]) == 5
    assert all(s["text"] and s["field"] for s in snippets)
    assert r.headers["X-Index-Build"] == dense.get("/api/health").json()["build_id"]


def test_top_hit_and_korean_highlight(bm25: TestClient) -> None:
    body = bm25.get("/api/search", params={"q": QUERY, "k": 5, "mode": "bm25"}).json()
    top = next(h for h in body["results"] if h["id"] == UI_TARS)
    assert set(top["bm25"]["matched"]) >= {"다중", "턴", "강화", "학습"}
    html = top["snippet"]["html"]
    marked = re.findall(r"<mark>(.*?)</mark>", html)
    # "강화학습" is two morphemes; adjacent matches are one highlight, particles stay out.
    assert "다중 턴 강화학습" in marked
    assert not any(m.endswith(("을", "의", "를")) for m in marked)
    text, spans = top["snippet"]["text"], top["snippet"]["spans"]
    assert [text[s:e] for s, e in spans] == marked


def test_english_query_highlights_stemmed_surface(bm25: TestClient) -> None:
    body = bm25.get("/api/search", params={"q": "agents", "k": 5, "mode": "bm25"}).json()
    assert body["results"], body
    marked = [m for hit in body["results"] for m in re.findall(r"<mark>(.*?)</mark>", hit["snippet"]["html"])]
    assert marked and all(m.lower().startswith("agent") or m == "에이전트" for m in marked), marked


def test_paging_and_filters(bm25: TestClient) -> None:
    first = bm25.get("/api/search", params={"q": "모델", "k": 10, "mode": "bm25"}).json()
    page2 = bm25.get("/api/search", params={"q": "모델", "k": 5, "offset": 5, "mode": "bm25"}).json()
    assert [h["id"] for h in page2["results"]] == [h["id"] for h in first["results"][5:10]]
    assert [h["rank"] for h in page2["results"]] == [6, 7, 8, 9, 10]
    assert page2["total"] == first["total"] and page2["offset"] == 5

    dates = Counter(h["date"] for h in bm25.get("/api/search", params={"q": "모델", "k": 100, "mode": "bm25"}).json()["results"])
    assert len(dates) > 1
    day = sorted(dates)[0]
    only = bm25.get("/api/search", params={"q": "모델", "k": 100, "mode": "bm25", "date_from": day, "date_to": day}).json()
    assert only["total"] == dates[day] and {h["date"] for h in only["results"]} == {day}
    assert bm25.get("/api/search", params={"q": "모델", "mode": "bm25", "min_upvotes": 10**6}).json()["total"] == 0


def test_bm25_only_index_answers_hybrid_with_a_notice(bm25: TestClient) -> None:
    body = bm25.get("/api/search", params={"q": QUERY, "mode": "hybrid"}).json()
    assert body["requested_mode"] == "hybrid" and body["mode"] == "bm25"
    assert body["notice"].startswith("BM25 only")
    assert all(set(h["legs"]) == {"bm25"} for h in body["results"])


def test_no_results_is_an_empty_200(bm25: TestClient) -> None:
    r = bm25.get("/api/search", params={"q": "zzqxjw", "mode": "bm25"})
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["total"] == 0


BAD_SEARCHES = [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "\t\n"}, "q"),
    ({"q": "가" * (MAX_QUERY_CHARS + 1)}, "500"),
    ({"q": "a", "k": 0}, "k"),
    ({"q": "a", "k": 101}, "k"),
    ({"q": "a", "k": "ten"}, "k"),
    ({"q": "a", "offset": -1}, "offset"),
    ({"q": "a", "offset": 1001}, "offset"),
    ({"q": "a", "date_from": "2025-02-30"}, "date"),
    ({"q": "a", "date_to": "yesterday"}, "date"),
    ({"q": "a", "date_from": "2025/09/03"}, "date"),
    ({"q": "a", "mode": "semantic"}, "mode"),
    ({"q": "a", "min_upvotes": -1}, "min_upvotes"),
    ({"q": "a", "min_upvotes": "many"}, "min_upvotes"),
]


@pytest.mark.parametrize(("params", "mentions"), BAD_SEARCHES, ids=[str(i) for i in range(len(BAD_SEARCHES))])
def test_bad_search_input_is_422_json(bm25: TestClient, params: dict, mentions: str) -> None:
    r = bm25.get("/api/search", params=params)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and mentions in detail


def test_query_at_the_limit_is_accepted(bm25: TestClient) -> None:
    r = bm25.get("/api/search", params={"q": "강화학습 " * (MAX_QUERY_CHARS // 5), "mode": "bm25"})
    assert r.status_code == 200


# -- papers and similar -------------------------------------------------------------


def test_paper_is_the_full_record(bm25: TestClient, bm25_root: Path) -> None:
    r = bm25.get(f"/api/papers/{UI_TARS}")
    assert r.status_code == 200
    assert r.json() == SearchEngine.open(bm25_root, load_model=False).paper(UI_TARS).to_dict()
    assert r.json()["summary"] and r.json()["sections"]


@pytest.mark.parametrize("pid", ["9999.99999", "nope", "2509.02544x", " "])
def test_unknown_paper_is_404(bm25: TestClient, pid: str) -> None:
    for path in (f"/api/papers/{pid}", f"/api/papers/{pid}/similar"):
        r = bm25.get(path)
        assert r.status_code == 404, (path, r.text)
        assert isinstance(r.json()["detail"], str)


def test_similar_to_paper_dense(dense: TestClient) -> None:
    body = dense.get(f"/api/papers/{UI_TARS}/similar", params={"k": 5, "mode": "dense"}).json()
    ids = [h["id"] for h in body["results"]]
    assert body["mode"] == "dense" and len(ids) == 5 and UI_TARS not in ids
    assert all(h["legs"]["tiny-static"] for h in body["results"]) and all(h["snippet"]["text"] for h in body["results"])
    default = dense.get(f"/api/papers/{UI_TARS}/similar", params={"k": 5}).json()
    assert default["mode"] == "hybrid" and default["legs"] == ["bm25", "tiny-static"]


def test_similar_to_paper_on_bm25_index(bm25: TestClient) -> None:
    body = bm25.get(f"/api/papers/{UI_TARS}/similar", params={"k": 3, "mode": "bm25"}).json()
    assert body["mode"] == "bm25" and len(body["results"]) == 3 and UI_TARS not in [h["id"] for h in body["results"]]


@pytest.mark.parametrize("params", [{"k": 0}, {"k": 101}, {"mode": "nope"}])
def test_similar_bad_params_are_422(bm25: TestClient, params: dict) -> None:
    assert bm25.get(f"/api/papers/{UI_TARS}/similar", params=params).status_code == 422


def test_similar_to_text(dense: TestClient) -> None:
    r = dense.post("/api/similar", json={"text": "GUI 에이전트를 다중 턴 강화학습으로 학습", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "hybrid" and len(body["results"]) == 3
    bm = dense.post("/api/similar", json={"text": "GUI 에이전트를 다중 턴 강화학습으로 학습", "k": 3, "mode": "bm25"}).json()
    assert UI_TARS in [h["id"] for h in bm["results"]]


@pytest.mark.parametrize(
    "body",
    [{}, {"text": ""}, {"text": "   "}, {"text": "x" * (MAX_TEXT_CHARS + 1)}, {"text": "a", "k": 0}, {"text": "a", "k": 101},
     {"text": "a", "mode": "x"}, {"text": 5}, [], "text"],
)
def test_similar_text_bad_body_is_422(bm25: TestClient, body: object) -> None:
    r = bm25.post("/api/similar", json=body)
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], str)


def test_similar_text_not_json_is_422(bm25: TestClient) -> None:
    r = bm25.post("/api/similar", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
