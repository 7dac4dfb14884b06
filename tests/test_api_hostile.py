"""The API under hostile requests: no 5xx for any body, the reload check and proxies,
reloads that load in the background while searches keep answering."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from papersearch.api import create_app
from tests.api_support import DIGESTS, RELOAD_TOKEN, copy_index, serve_in_thread

LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture(scope="module")
def client(bm25_index: Path):
    with TestClient(create_app(bm25_index, reload_token=RELOAD_TOKEN), client=LOOPBACK) as c:
        yield c


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("field", ["k", "text", "mode"])
def test_non_finite_numbers_in_a_body_are_422_not_500(client: TestClient, field: str, value: str) -> None:
    body = {"text": '"a"', "k": "3", "mode": '"bm25"', field: value}
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}"
    r = client.post("/api/similar", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and field in r.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    ["NaN", "[NaN]", '{"text": "a", "k": ' + "9" * 5000 + "}", '{"text": "a", "k": 1.5}', "{", b"\xff\xfe", '{"text": {"a": NaN}}'],
)
def test_malformed_bodies_are_4xx(client: TestClient, raw: str | bytes) -> None:
    r = client.post("/api/similar", content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json()["detail"]


def test_date_filters_state_their_format_in_the_schema(client: TestClient) -> None:
    params = client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
    dates = [p for p in params if p["name"] in ("date_from", "date_to")]
    assert len(dates) == 2 and all(p["schema"]["format"] == "date" for p in dates)


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "8.8.8.8"}, {"Forwarded": "for=8.8.8.8"}, {"X-Real-IP": "8.8.8.8"}])
def test_proxied_loopback_request_needs_the_token(client: TestClient, header: dict[str, str]) -> None:
    assert client.post("/api/reload", headers=header).status_code == 403
    assert client.post("/api/reload", headers={**header, "X-Reload-Token": RELOAD_TOKEN}).status_code == 200


def test_plain_loopback_request_may_reload(client: TestClient) -> None:
    assert client.post("/api/reload").json()["status"] == "unchanged"


def test_real_server_ignores_forwarded_addresses(bm25_index: Path) -> None:
    """Through a real uvicorn on loopback: a request naming a forwarded client, even a
    loopback one, is treated as proxied and refused without the token."""
    with serve_in_thread(create_app(bm25_index)) as base:
        assert httpx.post(f"{base}/api/reload", timeout=60).status_code == 200
        for header in ({"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"}):
            assert httpx.post(f"{base}/api/reload", headers=header, timeout=60).status_code == 403


def test_serve_trusts_proxy_headers_only_when_told(tmp_path: Path, bm25_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from click.testing import CliRunner

    from papersearch.cli_serve import serve_cmd

    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(kw))
    assert CliRunner().invoke(serve_cmd, ["--index", str(bm25_index)]).exit_code == 0
    args = ["--index", str(bm25_index), "--forwarded-allow-ips", "10.0.0.5"]
    assert CliRunner().invoke(serve_cmd, args).exit_code == 0
    assert [(r["proxy_headers"], r.get("forwarded_allow_ips")) for r in runs] == [(False, None), (True, "10.0.0.5")]


def test_reload_without_wait_answers_at_once_and_swaps_in_the_background(tmp_path: Path, bm25_index: Path) -> None:
    root = copy_index(bm25_index, tmp_path / "ix")
    with TestClient(create_app(root), client=LOOPBACK) as c:
        old = c.get("/api/health").json()["build_id"]
        src = tmp_path / "src"
        shutil.copytree(DIGESTS, src)
        (src / "2025-09-03.md").unlink()
        new = build_index([src], root, dense="off", progress=False).build_id
        r = c.post("/api/reload", params={"wait": "false"})
        assert r.status_code == 202 and r.json() == {"status": "loading", "build_id": old, "previous": old}
        # The next waiting reload joins the background load (or finds it done).
        assert c.post("/api/reload").json()["build_id"] == new
        assert c.get("/api/health").json()["build_id"] == new


def test_reload_keeps_snippet_analyses_of_unchanged_papers(tmp_path: Path, bm25_index: Path) -> None:
    """Searches right after a reload must not re-run Kiwi over every hit's text."""
    from search.serve.holder import EngineHolder

    root = copy_index(bm25_index, tmp_path / "ix")
    holder = EngineHolder(root)
    holder.reload()
    for paper in holder.current().engine.papers:
        holder.current().snippets.for_paper(paper, {"모델"})
    src = tmp_path / "src"
    shutil.copytree(DIGESTS, src)
    edited = src / "2026-01-13.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("본 논문은 영상 시청", "본 논문은 바뀐 영상 시청", 1), encoding="utf-8")
    build_index([src], root, dense="off", progress=False)
    assert holder.reload()["status"] == "reloaded"
    carried = {pid for pid, _field in holder.current().snippets._cache}
    assert "2601.06943" not in carried and len(carried) == len(holder.current().engine.papers) - 1
