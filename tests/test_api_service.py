"""The HTTP service around the search: health, reload (also under load), the page, and the
`serve` command, on real indexes built from data/digests."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from papersearch.api import create_app
from search.engine import SearchEngine
from tests.api_support import (  # noqa: F401 (fixtures)
    DIGESTS,
    RELOAD_TOKEN,
    bm25,
    bm25_root,
    copy_index,
    dense,
    dense_root,
    serve_in_thread,
)

QUERY = "다중 턴 강화학습"
UI_TARS = "2509.02544"  # UI-TARS-2: multi-turn RL for GUI agents, a top hit for QUERY



# -- health, reload, page -----------------------------------------------------------


def test_health(bm25: TestClient, dense: TestClient) -> None:
    h = dense.get("/api/health").json()
    assert h["status"] == "ok" and h["papers"] == 72 and h["dense"] is True and h["model"]
    assert h["build_id"] and h["built_at"]
    b = bm25.get("/api/health").json()
    assert b["dense"] is False and b["dense_index"] is False and b["model"] is None and b["model_notice"]


def test_reload_refused_without_loopback_or_token(bm25: TestClient) -> None:
    assert bm25.post("/api/reload").status_code == 403  # the test client's peer is "testclient"
    r = bm25.post("/api/reload", headers={"X-Reload-Token": "wrong"})
    assert r.status_code == 403 and "loopback" in r.json()["detail"]
    r = bm25.post("/api/reload", headers={"X-Reload-Token": RELOAD_TOKEN})
    assert r.status_code == 200 and r.json()["status"] == "unchanged"


def test_reload_without_token_configured_takes_loopback_only(bm25_root: Path) -> None:
    app = create_app(bm25_root)
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.post("/api/reload").json()["status"] == "unchanged"
    with TestClient(app, client=("10.1.2.3", 40000)) as remote:
        assert remote.post("/api/reload", headers={"X-Reload-Token": ""}).status_code == 403


def test_missing_index_is_503_until_built_and_reloaded(tmp_path: Path, bm25_root: Path) -> None:
    root = tmp_path / "later"
    with TestClient(create_app(root, reload_token=RELOAD_TOKEN)) as client:
        for r in (client.get("/api/health"), client.get("/api/search", params={"q": "a"}), client.get(f"/api/papers/{UI_TARS}")):
            assert r.status_code == 503 and "no index" in r.json()["detail"]
        assert client.post("/api/reload", headers={"X-Reload-Token": RELOAD_TOKEN}).status_code == 503
        copy_index(bm25_root, root)
        r = client.post("/api/reload", headers={"X-Reload-Token": RELOAD_TOKEN})
        assert r.status_code == 200 and r.json()["status"] == "reloaded" and r.json()["previous"] is None
        assert client.get("/api/health").json()["papers"] == 72


def test_page_and_static_files(bm25: TestClient) -> None:
    page = bm25.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="q"' in page.text and "/static/app.js" in page.text
    js = bm25.get("/static/app.js")
    assert js.status_code == 200 and "isComposing" in js.text
    assert bm25.get("/static/style.css").status_code == 200
    r = bm25.get("/no/such/route")
    assert r.status_code == 404 and r.json()["detail"]
    assert bm25.get("/openapi.json").json()["paths"].keys() >= {"/api/search", "/api/health", "/api/reload"}


def test_reload_under_concurrent_load_drops_nothing(tmp_path: Path, bm25_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads search a real server while a new build is made and swapped in."""
    import search.serve.holder
    from index.build import build_index

    root = copy_index(bm25_root, tmp_path / "index")
    stop = threading.Event()
    failures: list[str] = []
    builds: Counter[str] = Counter()
    lock = threading.Lock()

    def hammer(base: str, n: int) -> None:
        queries = [QUERY, "GUI agent", "비전 언어 모델", "benchmark"]
        with httpx.Client(base_url=base, timeout=60) as http:
            for i in range(2000):  # bounded even if stop never comes
                if stop.is_set():
                    return
                try:
                    r = http.get("/api/search", params={"q": queries[(i + n) % 4], "k": 5, "mode": "bm25"})
                    ok = r.status_code == 200 and len(r.json()["results"]) == 5
                    with lock:
                        builds[r.headers.get("X-Index-Build", "?")] += 1
                    if not ok:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as e:
                    failures.append(repr(e))

    with serve_in_thread(create_app(root)) as base:
        old = httpx.get(f"{base}/api/health").json()["build_id"]
        workers = [threading.Thread(target=hammer, args=(base, n)) for n in range(4)]
        for w in workers:
            w.start()
        report = build_index([DIGESTS], root, dense="off", full=True)  # a new build (no-op rebuilds make none)

        class SlowLoad(SearchEngine):
            """A load that ends only once searches were answered meanwhile (bounded): a
            fast reload would otherwise leave nothing to observe."""

            def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
                super().__init__(*args, **kwargs)
                with lock:
                    start = sum(builds.values())
                for _ in range(600):
                    with lock:
                        if sum(builds.values()) - start >= 10:
                            break
                    threading.Event().wait(0.05)

        monkeypatch.setattr(search.serve.holder, "SearchEngine", SlowLoad)
        with lock:
            before = sum(builds.values())
        reload = httpx.post(f"{base}/api/reload", timeout=120)
        with lock:
            during = sum(builds.values()) - before  # answered while the new build loaded
        # Let the hammers see the new build before stopping them.
        for _ in range(600):
            with lock:
                if builds[report.build_id] >= 20:
                    break
            threading.Event().wait(0.05)
        stop.set()
        for w in workers:
            w.join(timeout=60)
        health = httpx.get(f"{base}/api/health").json()

    assert reload.status_code == 200, reload.text
    assert reload.json() == {"status": "reloaded", "build_id": report.build_id, "previous": old}
    assert health["build_id"] == report.build_id != old
    assert failures == []
    print(f"reload under load: {dict(builds)}, {during} answered during the reload")
    assert during > 0
    assert builds[old] > 0 and builds[report.build_id] > 0 and set(builds) == {old, report.build_id}


# -- the serve command --------------------------------------------------------------


def test_serve_builds_a_missing_index_then_serves(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from click.testing import CliRunner

    from papersearch.cli_serve import serve_cmd

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    root, model = tmp_path / "index", str(tiny_model_dir)
    source = DIGESTS / "2025-09-10.md"
    args = ["--index", str(root), "--source", str(source), "--model", model, "--port", "8123"]
    result = CliRunner().invoke(serve_cmd, args)
    assert result.exit_code == 0, result.output
    assert "building it from" in result.output and "Serving" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 8123
    with TestClient(served["app"]) as client:
        # BM25 serves at once; the dense leg embeds in the background and swaps itself in.
        deadline = time.monotonic() + 60
        while not (health := client.get("/api/health").json())["dense"] and time.monotonic() < deadline:
            assert health["embedding"] is None or health["embedding"]["legs"] == ["tiny-static"]
            time.sleep(0.05)
        assert health["dense"] is True and health["model"] == model and health["embedding"] is None
        assert 0 < health["papers"] < 72  # one digest file of the five

    # An existing index is served as it is, not rebuilt.
    build = health["build_id"]
    assert CliRunner().invoke(serve_cmd, args).exit_code == 0
    with TestClient(served["app"]) as client:
        assert client.get("/api/health").json()["build_id"] == build


def test_serve_without_build_answers_503_and_bad_index_fails_early(
    tmp_path: Path, bm25_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from click.testing import CliRunner

    from papersearch.cli_serve import serve_cmd

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    result = CliRunner().invoke(serve_cmd, ["--index", str(tmp_path / "none"), "--no-build-if-missing"])
    assert result.exit_code == 0 and "503" in result.output
    assert not (tmp_path / "none").exists()
    with TestClient(served["app"]) as client:
        assert client.get("/api/health").status_code == 503

    # An index this code cannot read is a one-line error before listening, not a traceback.
    broken = copy_index(bm25_root, tmp_path / "copy")
    manifest = (broken / "current" / "manifest.json")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "format_version": 99}), encoding="utf-8")
    served.clear()
    result = CliRunner().invoke(serve_cmd, ["--index", str(broken)])
    assert result.exit_code == 1 and "Error: index format 99" in result.output
    assert served == {}
