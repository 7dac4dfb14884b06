"""The Milvus engine on Milvus Lite (a local file, offline): publish, every mode against the
local engine, filters, paging, similar, the alias swap, a killed publish, CLI and API."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="the milvus extra is not installed: pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="milvus-lite (the milvus extra) is not installed: pip install -e '.[milvus]'")

from bench.milvus import dev_queries, mean_overlap  # noqa: E402
from index.publish.milvus_build import publish_build  # noqa: E402
from index.storage import write_json  # noqa: E402
from search.core.errors import InvalidQuery, PaperNotFound  # noqa: E402
from search.core.filters import Filters  # noqa: E402
from search.core.layout import IndexLayout, read_json  # noqa: E402
from search.engine import SearchEngine  # noqa: E402
from search.milvus_engine import MilvusEngine  # noqa: E402
from search.stores.milvus_client import (  # noqa: E402
    DEFAULT_ALIAS,
    MilvusUnavailable,
    build_collections,
    connect,
    filter_expression,
    served_collection,
)

QUERY = "다중 턴 강화학습"
_SHARED: set[str] = set()  # the module fixture's Milvus Lite file, served for every test


def copy_build(build: Path, dest: Path, build_id: str) -> Path:
    """The same build under another id: a distinct collection, made in milliseconds."""
    shutil.copytree(build, dest)
    manifest = read_json(dest / "manifest.json")
    write_json(dest / "manifest.json", {**manifest, "build_id": build_id})
    return dest


@pytest.fixture(autouse=True)
def _stop_lite_servers():  # type: ignore[no-untyped-def]
    """Milvus Lite serves each file from gRPC threads inside this process until it exits;
    a dozen of them at once starve each other on a small machine (new connections time
    out), so each test's own files are released when it ends (the module's one is kept)."""
    yield
    from milvus_lite.server_manager import server_manager_instance as servers

    for path in list(servers._servers):
        if path not in _SHARED:
            servers.release_server(path)


@pytest.fixture(scope="module")
def local(dense_engine: SearchEngine) -> SearchEngine:
    return dense_engine


@pytest.fixture(scope="module")
def milvus_uri(dense_index: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = str(tmp_path_factory.mktemp("milvus") / "ix.db")
    _SHARED.add(str(Path(uri).resolve()))
    publish_build(IndexLayout(dense_index).current_build(), uri)
    return uri


@pytest.fixture(scope="module")
def milvus(milvus_uri: str) -> MilvusEngine:
    return MilvusEngine(milvus_uri)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid", "tiny-static"])
def test_every_mode_agrees_with_the_local_engine(local: SearchEngine, milvus: MilvusEngine, mode: str) -> None:
    # BM25 rows are this project's weights and query terms its weighted terms, so scores
    # match; an exact tie at rank 10 may still be ordered otherwise.
    assert mean_overlap(local, milvus, dev_queries(), mode) >= 0.95
    a, b = local.search(QUERY, k=5, mode=mode), milvus.search(QUERY, k=5, mode=mode)
    assert [h.paper.id for h in a.results] == [h.paper.id for h in b.results]
    for x, y in zip(a.results, b.results):
        assert y.score == pytest.approx(x.score, rel=1e-5)
        assert x.legs.keys() == y.legs.keys()
        assert {n: v is None for n, v in x.legs.items()} == {n: v is None for n, v in y.legs.items()}
        assert x.matched == y.matched
    assert b.mode == mode and b.expansions == a.expansions
    assert (b.legs, b.notice_code, b.terms) == (a.legs, a.notice_code, a.terms)


def test_json_shape_is_the_local_one(local: SearchEngine, milvus: MilvusEngine) -> None:
    a, b = local.search(QUERY, k=3).to_dict(), milvus.search(QUERY, k=3).to_dict()
    assert a.keys() == b.keys() and a["legs"] == b["legs"] == ["bm25", "tiny-static"]
    assert [r.keys() for r in a["results"]] == [r.keys() for r in b["results"]]
    assert [r["legs"].keys() for r in a["results"]] == [r["legs"].keys() for r in b["results"]]
    assert [r["bm25"] and r["bm25"].keys() for r in a["results"]] == [r["bm25"] and r["bm25"].keys() for r in b["results"]]
    assert (milvus.modes, milvus.ready_legs) == (local.modes, local.ready_legs)
    assert {r["id"] for r in b["results"][:3]} & {"2509.02544", "2509.02479"}


def test_sorting_reorders_the_pool_like_the_local_engine(local: SearchEngine, milvus: MilvusEngine) -> None:
    for sort in ("newest", "upvotes"):
        a, b = local.search(QUERY, k=10, sort=sort), milvus.search(QUERY, k=10, sort=sort)
        assert [h.paper.id for h in a.results] == [h.paper.id for h in b.results], sort
    dates = [h.paper.date or "" for h in milvus.search(QUERY, k=10, sort="newest").results]
    assert dates == sorted(dates, reverse=True)


def test_filters_are_milvus_expressions(local: SearchEngine, milvus: MilvusEngine) -> None:
    f = Filters(date_from="2026-01-01", date_to="2026-01-20", min_upvotes=5)
    got = milvus.search("강화학습 에이전트", k=20, mode="bm25", filters=f).results
    assert got and all(h.paper.date and "2026-01-01" <= h.paper.date <= "2026-01-20" for h in got)
    assert all((h.paper.upvotes or 0) >= 5 for h in got)
    # One leg: ranking within the filter equals filtering the full ranking (the local way).
    want = local.search("강화학습 에이전트", k=20, mode="bm25", filters=f).results
    assert [h.paper.id for h in got] == [h.paper.id for h in want]


def test_filter_expression_takes_only_validated_values() -> None:
    assert filter_expression("2025-09-01", None, 3) == 'date >= "2025-09-01" and upvotes >= 3'
    assert filter_expression(None, "2025-09-30", None) == 'date <= "2025-09-30" and date != ""'
    with pytest.raises(ValueError):
        filter_expression('2025" or id != "', None, None)


def test_paging_continues_the_ranking(milvus: MilvusEngine) -> None:
    full = [h.paper.id for h in milvus.search(QUERY, k=10).results]
    page2 = milvus.search(QUERY, k=5, offset=5)
    assert [h.paper.id for h in page2.results] == full[5:10]
    assert [h.rank for h in page2.results] == [6, 7, 8, 9, 10]


def test_similar_paper_and_text_and_records(local: SearchEngine, milvus: MilvusEngine) -> None:
    a, b = local.similar("2509.02544", k=5), milvus.similar("2509.02544", k=5)  # the same default mode and weights
    assert (b.mode, b.legs) == (a.mode, a.legs) == ("hybrid", ("bm25", "tiny-static"))
    assert [h.paper.id for h in b.results] == [h.paper.id for h in a.results]
    assert [h.matched for h in b.results] == [h.matched for h in a.results]
    for mode in ("dense", "bm25", "hybrid", "tiny-static"):
        a = [h.paper.id for h in local.similar("2509.02544", k=5, mode=mode).results]
        b = [h.paper.id for h in milvus.similar("2509.02544", k=5, mode=mode).results]
        assert "2509.02544" not in b and len(set(a) & set(b)) >= 4, mode
    text = milvus.similar(text="멀티턴 강화학습으로 GUI 에이전트를 학습한다", k=3)
    assert len(text.results) == 3
    assert milvus.paper("2509.02479") == local.paper("2509.02479")
    with pytest.raises(PaperNotFound):
        milvus.paper("0000.00000")
    with pytest.raises(InvalidQuery):
        milvus.search(" ")
    assert sorted(milvus.ids) == sorted(local.ids)


def test_swap_moves_the_alias_and_drops_old_collections(dense_index: Path, tmp_path: Path) -> None:
    uri = str(tmp_path / "swap.db")
    build = IndexLayout(dense_index).current_build()
    first = publish_build(copy_build(build, tmp_path / "b1", "20300101T000000.000001-aaaa"), uri)
    engine = MilvusEngine(uri)
    second = publish_build(copy_build(build, tmp_path / "b2", "20300101T000000.000002-bbbb"), uri)
    client = connect(uri)
    assert served_collection(client, DEFAULT_ALIAS) == second.collection and second.previous == first.collection
    # The engine resolved the alias once: it keeps answering from the previous collection.
    assert engine.collection == first.collection and engine.search(QUERY, k=3).results
    assert MilvusEngine(uri).build_id == "20300101T000000.000002-bbbb"
    third = publish_build(copy_build(build, tmp_path / "b3", "20300101T000000.000003-cccc"), uri)
    assert third.dropped == [first.collection]
    assert build_collections(client, DEFAULT_ALIAS) == [second.collection, third.collection]


def test_killed_publish_leaves_the_served_alias(dense_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = str(tmp_path / "killed.db")
    build = IndexLayout(dense_index).current_build()
    served = publish_build(copy_build(build, tmp_path / "b1", "20300101T000000.000001-aaaa"), uri)
    from pymilvus import MilvusClient

    real_insert, calls = MilvusClient.insert, []

    def dying_insert(self, name, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(name)
        if len(calls) == 2:  # the second batch: the collection is half written
            raise KeyboardInterrupt("killed")
        return real_insert(self, name, data, *args, **kwargs)

    monkeypatch.setattr(MilvusClient, "insert", dying_insert)
    with pytest.raises(KeyboardInterrupt):
        publish_build(copy_build(build, tmp_path / "b2", "20300101T000000.000002-bbbb"), uri, batch_rows=20)
    monkeypatch.setattr(MilvusClient, "insert", real_insert)
    client = connect(uri)
    assert served_collection(client, DEFAULT_ALIAS) == served.collection
    engine = MilvusEngine(uri)
    assert engine.build_id == "20300101T000000.000001-aaaa" and len(engine.search(QUERY, k=10).results) == 10
    half_built = "papersearch_20300101T000000_000002_bbbb"
    assert half_built in build_collections(client, DEFAULT_ALIAS)
    after = publish_build(copy_build(build, tmp_path / "b3", "20300101T000000.000003-cccc"), uri)
    assert half_built in after.dropped
    assert build_collections(client, DEFAULT_ALIAS) == [served.collection, after.collection]


def test_missing_pymilvus_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # makes `import pymilvus` fail
    with pytest.raises(MilvusUnavailable, match=r"pip install -e '\.\[milvus\]'"):
        connect("/nonexistent/ix.db")


def test_an_empty_uri_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(MilvusUnavailable, match="index build --engine milvus"):
        MilvusEngine(str(tmp_path / "empty.db"))


def test_cli_build_search_info_on_milvus(digests: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from papersearch.cli import main

    runner, uri, root = CliRunner(), str(tmp_path / "cli.db"), str(tmp_path / "ix")
    built = runner.invoke(main, ["index", "build", "--source", str(digests), "--index", root, "--no-dense",
                                 "--engine", "milvus", "--milvus-uri", uri, "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["milvus"]["papers"] == 72
    env = {"PAPERSEARCH_ENGINE": "milvus", "PAPERSEARCH_MILVUS_URI": uri}
    found = runner.invoke(main, ["search", QUERY, "--json", "--index", str(tmp_path / "nowhere")], env=env)
    assert found.exit_code == 0, found.output
    out = json.loads(found.stdout)
    assert {r["id"] for r in out["results"][:3]} & {"2509.02544", "2509.02479"}
    info = runner.invoke(main, ["info", "--json"], env=env)
    assert json.loads(info.stdout)["engine"] == "milvus"
    assert json.loads(runner.invoke(main, ["info", "--json", "--index", root]).stdout)["engine"] == "local"
    missing = runner.invoke(main, ["search", QUERY, "--engine", "milvus"], env={"PAPERSEARCH_MILVUS_URI": ""})
    assert missing.exit_code == 2 and "--milvus-uri" in missing.output


def test_api_serves_the_milvus_engine(milvus_uri: str, local: SearchEngine) -> None:
    from fastapi.testclient import TestClient

    from papersearch.api import create_app
    from search.serve.milvus_holder import MilvusHolder

    holder = MilvusHolder(milvus_uri)
    with TestClient(create_app("/unused", holder=holder)) as client:
        r = client.get("/api/search", params={"q": QUERY, "k": 3})
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["snippet"]
        health = client.get("/api/health").json()
        assert health["index"] == milvus_uri and health["papers"] == len(local.ids)
        assert client.get("/api/papers/2509.02479").json()["id"] == "2509.02479"
        assert client.get("/api/papers/0000.00000").status_code == 404
        assert holder.reload()["status"] == "unchanged"  # the alias has not moved


def test_several_dense_legs_each_get_a_field_and_a_mode(dense_index: Path, tmp_path: Path) -> None:
    # Two legs (the tiny model's vectors twice, under another leg name): one Milvus field
    # each, every mode of the local engine, and a leg that cannot load leaves a notice.
    build = copy_build(IndexLayout(dense_index).current_build(), tmp_path / "b", "20300101T000000.000001-legs")
    manifest = read_json(build / "manifest.json")
    (tiny,) = manifest["dense_legs"]
    shutil.copytree(build / "dense" / "tiny-static", build / "dense" / "twin")
    write_json(build / "manifest.json", {**manifest, "dense_legs": [tiny, {**tiny, "name": "twin"}]})
    uri = str(tmp_path / "legs.db")
    assert publish_build(build, uri).legs == ["tiny-static", "twin"]
    engine = MilvusEngine(uri)
    assert list(engine.dense_legs) == ["tiny-static", "twin"] and engine.ready_legs == ["tiny-static", "twin"]
    assert engine.modes == ["hybrid", "bm25", "dense", "tiny-static", "twin"]
    one = [h.paper.id for h in engine.search(QUERY, k=5, mode="twin").results]
    dense = engine.search(QUERY, k=5, mode="dense")
    assert [h.paper.id for h in dense.results] == one and dense.legs == ("tiny-static", "twin")
    hybrid = engine.search(QUERY, k=5, mode="hybrid")
    assert hybrid.legs == ("bm25", "tiny-static", "twin")
    assert hybrid.results[0].bm25 is not None and set(hybrid.results[0].legs) == {"bm25", "tiny-static", "twin"}
    with pytest.raises(InvalidQuery):
        engine.search(QUERY, mode="nope")
    engine.dense_legs["twin"].encoder, engine.dense_legs["twin"].notice = None, "model gone"
    partial = engine.search(QUERY, k=5, mode="hybrid")
    assert partial.legs == ("bm25", "tiny-static") and partial.notice_code == "legs_missing"
    assert "twin" in (partial.notice or "")
    off = MilvusEngine(uri, load_model=False).search(QUERY, k=5, mode="twin")
    assert (off.mode, off.notice_code, off.legs) == ("bm25", "dense_unavailable", ("bm25",))


def test_tune_with_the_milvus_engine_publishes_the_recorded_settings(dense_index: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from index.storage import republish
    from papersearch.cli import main
    from tests.conftest import DEV_QRELS

    root, uri = tmp_path / "ix", str(tmp_path / "tune.db")
    shutil.copytree(dense_index, root, symlinks=True)
    publish_build(IndexLayout(root).current_build(), uri)
    assert MilvusEngine(uri, load_model=False).fusion.tuned is None
    out = CliRunner().invoke(main, ["tune", str(DEV_QRELS), "--index", str(root), "--engine", "milvus", "--milvus-uri", uri, "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["milvus"]["collection"] and report["chosen"]["tuned"]["qrels"] == str(DEV_QRELS)
    served = MilvusEngine(uri, load_model=False)
    assert served.fusion.to_dict() == report["chosen"] == SearchEngine.open(root, load_model=False).fusion.to_dict()
    # Settings that are not the default answer alike on both engines.
    from search.core.fusion_settings import FusionSettings

    republish(IndexLayout(root), lambda m: m.with_fusion(FusionSettings("rrf", 20, {"bm25": 2.0})))
    publish_build(IndexLayout(root).current_build(), uri)
    a, b = SearchEngine.open(root).search(QUERY, k=5), MilvusEngine(uri).search(QUERY, k=5)
    assert [h.paper.id for h in a.results] == [h.paper.id for h in b.results]
    assert b.results[0].score == pytest.approx(a.results[0].score, rel=1e-6)


def test_both_stores_answer_the_dev_set_alike_in_every_mode(local: SearchEngine, milvus: MilvusEngine) -> None:
    """One pipeline over two stores: every dev query in every mode and fusion, every
    similar item in every mode, and papers like several papers, in the same order with
    the same scores (filtered hybrid searches may differ: README, "Scale out on Milvus")."""
    from search.evaluate import load_qrels
    from tests.conftest import DEV_QRELS

    qrels = load_qrels(DEV_QRELS)

    def same(a, b, what: str) -> None:  # type: ignore[no-untyped-def]
        assert [h.paper.id for h in a.results] == [h.paper.id for h in b.results], what
        assert [h.score for h in b.results] == pytest.approx([h.score for h in a.results], rel=1e-5, abs=1e-9), what
        assert (a.mode, a.legs, a.total, a.notice_code) == (b.mode, b.legs, b.total, b.notice_code), what

    for q in [item["query"] for item in qrels["queries"]]:
        for mode in ("bm25", "dense", "hybrid", "tiny-static"):
            same(local.search(q, k=10, mode=mode), milvus.search(q, k=10, mode=mode), f"{mode} {q}")
        for fusion in ("rrf", "dbsf", "weighted"):
            same(local.search(q, k=10, fusion=fusion), milvus.search(q, k=10, fusion=fusion), f"{fusion} {q}")
    for item in qrels["similar"]:
        for mode in ("bm25", "dense", "hybrid"):
            same(local.similar(item["id"], k=10, mode=mode), milvus.similar(item["id"], k=10, mode=mode), f"similar {mode}")
    ids = [item["id"] for item in qrels["similar"][:2]]
    same(local.similar_many(ids, k=10), milvus.similar_many(ids, k=10), "papers like these")
