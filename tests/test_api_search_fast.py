"""``GET /api/search`` answered by ``SearchAPI``'s fast path must be exactly what the FastAPI
route answers: same status, body and headers, for good and bad requests alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from papersearch.api import create_app
from papersearch.api_search import SearchAPI
from search.core.query_limits import MAX_QUERY_CHARS

# Raw query strings, so that repeated keys, blanks and odd encodings reach the server as written.
QUERY_STRINGS = [
    "q=%EB%8B%A4%EC%A4%91+%ED%84%B4+%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5&mode=bm25",  # 다중 턴 강화학습
    "q=agents&mode=bm25&k=3",
    "q=%EB%AA%A8%EB%8D%B8&mode=bm25&k=5&offset=5",  # 모델, page 2
    "q=%EB%AA%A8%EB%8D%B8&mode=bm25&sort=newest&date_from=2025-09-01",
    "q=%EB%AA%A8%EB%8D%B8&mode=bm25&min_upvotes=1&sort=upvotes",
    "q=GUI+agent+%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5",  # default mode (hybrid → bm25 on this index)
    "q=zzqxjw&mode=bm25",  # no results
    "q=first&q=%EC%97%90%EC%9D%B4%EC%A0%84%ED%8A%B8&mode=bm25",  # repeated key: the last counts
    "q=agent&mode=bm25&unknown=1&k=2",  # unknown parameters are ignored
    "q=agent&mode=bm25&k=+3",
    "q=%ED%95%99%EC%8A%B5%00%01&mode=bm25",  # control characters
    "q=%FF%FE&mode=bm25",  # not UTF-8
    "q=" + "%EA%B0%80" * MAX_QUERY_CHARS + "&mode=bm25",  # at the limit
    # Bad requests: the fast path sends nothing and the route answers its error.
    "",
    "q=",
    "q=+++&mode=bm25",
    "q=" + "%EA%B0%80" * (MAX_QUERY_CHARS + 1),
    "q=a&k=0",
    "q=a&k=",
    "q=a&k=ten",
    "q=a&offset=-1",
    "q=a&date_from=2025-02-30",
    "q=a&date_to=yesterday",
    "q=a&mode=semantic",
    "q=a&mode=dense",  # a mode this BM25-only index cannot answer
    "q=a&min_upvotes=-1",
    "q=a&sort=oldest",
    "q=a&mode=bm25&weights=e6%3D2",  # a leg this index does not have: the engine's 422
    "q=a&mode=bm25&date_from=2026-01-02&date_to=2026-01-01",  # an inverted range
    "q=a&fusion=borda",
]


@pytest.fixture(scope="module")
def app(bm25_index: Path) -> Iterator[SearchAPI]:
    app = create_app(bm25_index)
    assert isinstance(app, SearchAPI)
    with TestClient(app):  # runs the lifespan: loads the index
        yield app


def fetch(app: SearchAPI, query_string: str, fast: bool) -> tuple[int, bytes, dict[str, str]]:
    app.fast_search = fast
    try:
        with TestClient(app) as client:
            r = client.get(f"/api/search?{query_string}")
    finally:
        app.fast_search = True
    headers = {k: v for k, v in r.headers.items() if k != "server-timing"}  # the clock differs
    return r.status_code, r.content, headers


@pytest.mark.parametrize("query_string", QUERY_STRINGS, ids=range(len(QUERY_STRINGS)))
def test_fast_path_answers_as_the_route_does(app: SearchAPI, query_string: str) -> None:
    assert fetch(app, query_string, fast=True) == fetch(app, query_string, fast=False)


def test_fast_path_answers_good_requests_itself(app: SearchAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    routed: list[str] = []
    original = FastAPI.__call__

    async def spy(self: FastAPI, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            routed.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", spy)
    with TestClient(app) as client:
        good = client.get("/api/search", params={"q": "강화학습", "mode": "bm25"})
        assert good.status_code == 200 and good.json()["results"]
        assert "server-timing" in good.headers and good.headers["content-type"] == "application/json"
        assert routed == [], "a good search went through FastAPI"
        bad = client.get("/api/search", params={"q": "a", "k": 0})
        assert bad.status_code == 422 and routed == ["/api/search"]
        assert client.get("/api/health").status_code == 200 and routed[-1] == "/api/health"


def test_no_index_is_answered_by_the_route(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "none")) as client:
        r = client.get("/api/search", params={"q": "강화학습"})
    assert r.status_code == 503 and "detail" in r.json()


@pytest.mark.parametrize("query_string", ["q=a&mode=bm25&weights=e6%3D2", "q=a&date_from=2026-01-02&date_to=2026-01-01"])
def test_a_domain_error_is_answered_once_not_searched_again(
    app: SearchAPI, monkeypatch: pytest.MonkeyPatch, query_string: str
) -> None:
    """The fast path answers the engine's own error: the request is not handed to the
    FastAPI route to be searched a second time."""
    from search.pipeline import Engine

    runs: list[str] = []
    original = Engine.run

    def counted(self, request):  # type: ignore[no-untyped-def]
        runs.append(request.query)
        return original(self, request)

    monkeypatch.setattr(Engine, "run", counted)
    with TestClient(app) as client:
        r = client.get(f"/api/search?{query_string}")
    assert r.status_code == 422 and r.json()["detail"] and runs == ["a"]
