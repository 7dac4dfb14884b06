"""The HTTP API on real indexes built from data/digests, through FastAPI's test client."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from papersearch.api import create_app
from search.engine import SearchEngine
from search.query_limits import MAX_QUERY_CHARS, MAX_TEXT_CHARS
from search.records import Paper
from search.snippets import Snippeter, cut, merge
from search.tokenizer import KiwiTokenizer
from tests.api_support import DIGESTS, RELOAD_TOKEN, copy_index, serve_in_thread

QUERY = "다중 턴 강화학습"
UI_TARS = "2509.02544"  # UI-TARS-2: multi-turn RL for GUI agents, a top hit for QUERY


# bm25_index, dense_index (tiny offline model) and tiny_model_dir: session fixtures of
# tests/conftest.py, built once from data/digests. Tests that build into an index copy it.
@pytest.fixture(scope="module")
def bm25_root(bm25_index: Path) -> Path:
    return bm25_index


@pytest.fixture(scope="module")
def dense_root(dense_index: Path) -> Path:
    return dense_index


@pytest.fixture(scope="module")
def bm25(bm25_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(bm25_root, reload_token=RELOAD_TOKEN)) as client:
        yield client


@pytest.fixture(scope="module")
def dense(dense_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(dense_root)) as client:
        yield client


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
    import search.engine_holder
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
        report = build_index([DIGESTS], root, dense="off")

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

        monkeypatch.setattr(search.engine_holder, "SearchEngine", SlowLoad)
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


# -- snippets (unit) ----------------------------------------------------------------


def test_snippet_escapes_html_and_merges_adjacent_morphemes() -> None:
    paper = Paper(id="x", title="t", url="u", summary="<script>alert(1)</script> 다중 턴 강화학습을 쓴다 & 끝")
    snip = Snippeter(KiwiTokenizer()).for_paper(paper, {"강화", "학습", "다중", "턴"})
    assert "<script>" not in snip.html and "&lt;script&gt;" in snip.html and "&amp;" in snip.html
    assert re.findall(r"<mark>(.*?)</mark>", snip.html) == ["다중 턴 강화학습"]


def test_snippet_window_moves_to_the_matches() -> None:
    text = "서론 문장입니다. " * 40 + "마지막에 강화학습 이야기가 나온다."
    spans = [(text.index("강화학습"), text.index("강화학습") + 4)]
    snip = cut(text, spans, 120)
    assert snip.text.startswith("…") and "강화학습" in snip.text and len(snip.text) <= 122
    assert [snip.text[s:e] for s, e in snip.spans] == ["강화학습"]


def test_snippet_prefers_the_field_covering_more_terms() -> None:
    paper = Paper(id="y", title="t", url="u", summary="강화학습 연구", abstract="GUI 에이전트의 다중 턴 강화학습")
    snip = Snippeter(KiwiTokenizer()).for_paper(paper, {"강화", "학습", "다중", "턴", "gui"})
    assert snip.field == "abstract"
    assert merge([(6, 8), (0, 2), (3, 5)], "ab cd ef") == [(0, 8)]
    assert merge([(6, 8), (0, 2)], "ab cd ef") == [(0, 2), (6, 8)]


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
        health = client.get("/api/health").json()
        assert health["dense"] is True and health["model"] == model
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
