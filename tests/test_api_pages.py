"""The endpoints behind the page's new features: sorting, several papers' similar list,
the start page, the paper view route, the favicon, offline docs, Kiwi at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from papersearch.api import create_app
from search.core.query_limits import MAX_IDS
from search.engine import SearchEngine

QUERY = "강화학습"


@pytest.fixture(scope="module")
def dense(dense_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(dense_index)) as client:
        yield client


@pytest.fixture(scope="module")
def bm25(bm25_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(bm25_index)) as client:
        yield client


@pytest.mark.parametrize("mode", ["bm25", "hybrid", "dense"])
def test_sort_newest_and_upvotes_reorder_the_same_matches(dense: TestClient, mode: str) -> None:
    params = {"q": QUERY, "k": 100, "mode": mode}
    relevance = dense.get("/api/search", params=params).json()
    newest = dense.get("/api/search", params=params | {"sort": "newest"}).json()
    upvoted = dense.get("/api/search", params=params | {"sort": "upvotes"}).json()
    ids = {h["id"] for h in relevance["results"]}
    assert {h["id"] for h in newest["results"]} == ids == {h["id"] for h in upvoted["results"]}
    assert newest["total"] == relevance["total"] == upvoted["total"]
    dates = [h["date"] or "" for h in newest["results"]]
    assert dates == sorted(dates, reverse=True) and dates != [h["date"] or "" for h in relevance["results"]]
    ups = [h["upvotes"] if h["upvotes"] is not None else -1 for h in upvoted["results"]]
    assert ups == sorted(ups, reverse=True)
    assert [h["rank"] for h in newest["results"]] == list(range(1, len(ids) + 1))


def test_sort_pages_and_filters_compose(bm25: TestClient) -> None:
    base = {"q": QUERY, "mode": "bm25", "sort": "newest", "date_to": "2025-12-31"}
    page1 = bm25.get("/api/search", params=base | {"k": 3}).json()
    page2 = bm25.get("/api/search", params=base | {"k": 3, "offset": 3}).json()
    got = [h["date"] for h in page1["results"] + page2["results"]]
    assert got == sorted(got, reverse=True) and all(d <= "2025-12-31" for d in got)
    bad = bm25.get("/api/search", params={"q": QUERY, "sort": "oldest"})
    assert bad.status_code == 422 and "sort" in bad.json()["detail"]


def test_engine_refuses_an_unknown_sort(bm25_engine: SearchEngine) -> None:
    from search.core.errors import InvalidQuery

    with pytest.raises(InvalidQuery, match="unknown sort 'oldest'"):
        bm25_engine.search(QUERY, sort="oldest")


@pytest.mark.parametrize("client_name", ["dense", "bm25"])
def test_similar_to_several_papers(request: pytest.FixtureRequest, client_name: str) -> None:
    client: TestClient = request.getfixturevalue(client_name)
    ids = ["2509.02544", "2509.01055"]  # two agentic-RL papers
    r = client.post("/api/similar", json={"ids": ids, "k": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    got = [h["id"] for h in body["results"]]
    assert len(got) == 10 and not set(got) & set(ids) and len(set(got)) == 10
    assert body["query"] == ", ".join(ids)
    assert body["mode"] == ("hybrid" if client_name == "dense" else "bm25")  # similar papers' default
    # Fused from each paper's own list: the top hit is in at least one of them.
    singles = [{h["id"] for h in client.get(f"/api/papers/{i}/similar", params={"k": 100}).json()["results"]} for i in ids]
    assert got[0] in singles[0] | singles[1]
    assert all(h["snippet"]["text"] for h in body["results"])


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"k": 3}, 422, 'give "text" (papers like a text) or "ids"'),
        ({"ids": ["2509.02544"], "text": "x"}, 422, "not both"),
        ({"ids": []}, 422, "ids"),
        ({"ids": [f"2509.{i:05d}" for i in range(MAX_IDS + 1)]}, 422, "ids"),
        ({"ids": ["2509.02544", "0000.00000"]}, 404, "no paper with id '0000.00000'"),
    ],
)
def test_similar_body_errors(bm25: TestClient, body: dict, status: int, message: str) -> None:
    r = bm25.post("/api/similar", json=body)
    assert r.status_code == status and message in r.json()["detail"], r.text


def test_start_examples_lead_somewhere_and_newest_are_newest(bm25: TestClient, bm25_engine: SearchEngine) -> None:
    body = bm25.get("/api/start").json()
    langs = [e["lang"] for e in body["examples"]]
    assert {"ko", "en", "mixed"} <= set(langs)
    for ex in body["examples"]:
        assert bm25_engine.search(ex["query"], mode="bm25").total >= 3, ex
        if ex["lang"] == "ko":
            assert any("가" <= c <= "힣" for c in ex["query"])
        if ex["lang"] == "en":
            assert ex["query"].isascii()
    newest = [p["date"] for p in body["newest"]]
    assert len(newest) == 5 and newest[0] == max(p.date or "" for p in bm25_engine.papers)
    assert newest == sorted(newest, reverse=True) and body["papers"] == 72


def test_paper_route_favicon_and_local_docs(bm25: TestClient) -> None:
    page = bm25.get("/paper/2509.02544")
    assert page.status_code == 200 and 'id="paper-view"' in page.text
    assert bm25.get("/favicon.ico").headers["content-type"].startswith("image/svg")
    docs = bm25.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn." not in docs
    assert bm25.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert bm25.get("/docs-assets/swagger-ui.css").status_code == 200
    assert "cdn." not in bm25.get("/redoc").text and "fonts.googleapis" not in bm25.get("/redoc").text


def test_kiwi_is_loaded_at_start_up_not_by_the_first_search(bm25_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from search.core.tokenizer import KiwiTokenizer

    monkeypatch.setattr(KiwiTokenizer, "_kiwi_cache", {})  # as in a fresh process
    with TestClient(create_app(bm25_index)):
        assert KiwiTokenizer._kiwi_cache, "Kiwi should be loaded before the first request"
