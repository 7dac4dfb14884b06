"""Dense retrieval, hybrid fusion, similar papers, and the no-model mode, with a tiny
model built locally (tests/tiny_model.py) and loaded by path like any user's model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from papersearch.cli import main
from search.core.errors import (
    InvalidQuery,
    ModelMismatch,
    ModelUnavailable,
    PaperNotFound,
)
from search.engine import SearchEngine

UI_TARS = "2509.02544"
LEG = "tiny-static"  # the tiny model's folder name is its leg name
UI_TARS_TITLE = "UI-TARS-2 Technical Report: Advancing GUI Agent with Multi-Turn Reinforcement Learning"


def test_manifest_records_model_dimension_prompts_and_index(dense_index: Path, tiny_model_dir: Path) -> None:
    engine = SearchEngine.open(dense_index)
    (dense,) = engine.manifest.dense_legs
    assert dense.name == LEG and dense.backend == "sentence-transformers"
    assert dense.model == str(tiny_model_dir.resolve()) and dense.version
    assert dense.dim == 64 and dense.normalized is True
    assert dense.prompts == {"query": "", "passage": ""}
    assert dense.ann_type == "flat" and dense.text_fields == ("title", "summary")
    # The manifest round-trips through its one codec, keys it does not know included.
    from search.core.manifest import Manifest

    assert Manifest.from_dict(engine.manifest.to_dict()) == engine.manifest
    vectors = np.load(engine.files.leg_vectors(LEG))
    assert vectors.shape == (72, 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_exact_title_finds_the_paper_in_dense_mode(dense_engine: SearchEngine) -> None:
    resp = dense_engine.search(UI_TARS_TITLE, k=3, mode="dense")
    assert resp.mode == "dense" and resp.notice is None
    assert UI_TARS in [h.paper.id for h in resp.results]
    for h in resp.results:
        assert h.bm25 is None and h.legs[LEG] is not None and h.legs[LEG].score == h.score


def test_hybrid_breakdown_matches_each_leg(dense_engine: SearchEngine) -> None:
    query = "다중 턴 강화학습"
    hybrid = dense_engine.search(query, k=20, mode="hybrid", fusion="rrf")
    bm25 = {h.paper.id: h.rank for h in dense_engine.search(query, k=100, mode="bm25").results}
    dense = {h.paper.id: h.rank for h in dense_engine.search(query, k=100, mode="dense").results}
    assert hybrid.mode == "hybrid"
    assert hybrid.legs == ("bm25", LEG)
    both = [h for h in hybrid.results if h.bm25 and h.legs[LEG]]
    assert both, "hybrid should hold hits found by both legs"
    for h in hybrid.results:
        assert set(h.legs) == {"bm25", LEG}
        assert (h.bm25.rank if h.bm25 else None) == bm25.get(h.paper.id)
        assert (h.legs[LEG].rank if h.legs[LEG] else None) == dense.get(h.paper.id)
        expected = sum(1 / (60 + leg.rank) for leg in h.legs.values() if leg)
        assert h.score == pytest.approx(expected)
    scores = [h.score for h in hybrid.results]
    assert scores == sorted(scores, reverse=True)


def test_default_hybrid_score_is_each_legs_z_score_over_the_whole_corpus(dense_engine: SearchEngine) -> None:
    """The default fusion, checked from scratch: every paper's BM25 score and cosine
    similarity computed here, z-scored over all papers, summed."""
    query = "다중 턴 강화학습"
    hybrid = dense_engine.search(query, k=20)
    assert dense_engine.fusion.method == "zscore"
    n = len(dense_engine.ids)
    bm25 = np.zeros(n)
    for h in dense_engine.search(query, k=100, mode="bm25").results:
        bm25[dense_engine.row_of[h.paper.id]] = h.bm25.score
    leg = dense_engine.dense_legs[LEG]
    cos = np.asarray(leg.vectors, dtype=np.float64) @ leg.encoder.encode_query(query).astype(np.float64)
    z = (bm25 - bm25.mean()) / bm25.std() + (cos - cos.mean()) / cos.std()
    want = sorted(range(n), key=lambda r: (-z[r], r))[:20]
    assert [h.paper.id for h in hybrid.results] == [dense_engine.ids[r] for r in want]
    for h in hybrid.results:
        assert h.score == pytest.approx(z[dense_engine.row_of[h.paper.id]], abs=1e-4)


def test_hybrid_when_bm25_finds_nothing_dense_answers(dense_engine: SearchEngine) -> None:
    resp = dense_engine.search("zzqx wwvy", k=5, mode="hybrid")
    assert resp.mode == "hybrid" and len(resp.results) == 5
    assert all(h.bm25 is None and h.legs[LEG] is not None for h in resp.results)


def test_weighted_fusion_mode(dense_engine: SearchEngine) -> None:
    resp = dense_engine.search("다중 턴 강화학습", k=5, fusion="weighted")
    assert resp.results and 0 < resp.results[0].score <= 2.0
    with pytest.raises(InvalidQuery):
        dense_engine.search("x", fusion="borda")


def test_similar_by_id_uses_stored_vector_and_excludes_itself(dense_engine: SearchEngine) -> None:
    resp = dense_engine.similar(paper_id=UI_TARS, k=10, mode="dense")
    ids = [h.paper.id for h in resp.results]
    assert UI_TARS not in ids and len(ids) == 10
    # Same neighbours as a raw FAISS search from the stored vector, minus the paper itself.
    row = dense_engine.row_of[UI_TARS]
    leg = dense_engine.dense_legs[LEG]
    scores, rows = leg.index.search(leg.vector(row)[None, :], 11)
    expected = [dense_engine.ids[r] for r in rows[0] if r != row][:10]
    assert ids == expected


def test_similar_by_text(dense_engine: SearchEngine) -> None:
    paper = dense_engine.paper(UI_TARS)
    resp = dense_engine.similar(text=f"{paper.title}\n{paper.summary}", k=3, mode="dense")
    assert resp.mode == "dense" and resp.results[0].paper.id == UI_TARS
    fused = dense_engine.similar(text=f"{paper.title}\n{paper.summary}", k=3)  # the default
    assert fused.mode == "hybrid" and fused.legs == ("bm25", LEG) and fused.results[0].paper.id == UI_TARS


def test_similar_errors(dense_engine: SearchEngine) -> None:
    with pytest.raises(PaperNotFound):
        dense_engine.similar(paper_id="0000.00000")
    with pytest.raises(InvalidQuery):
        dense_engine.similar()
    with pytest.raises(InvalidQuery):
        dense_engine.similar(text="   ")


def test_bm25_more_like_this_without_vectors(bm25_engine: SearchEngine) -> None:
    resp = bm25_engine.similar(paper_id="2509.02479", k=5)
    assert resp.mode == "bm25" and "BM25 only" in (resp.notice or "")
    ids = [h.paper.id for h in resp.results]
    assert "2509.02479" not in ids and ids


def test_query_side_with_another_model_is_refused(dense_index: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelMismatch, match="built with tiny-static"):
        SearchEngine.open(dense_index, model=str(tmp_path))


def test_same_model_by_relative_path_is_accepted(dense_index: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_model_dir.parent)
    engine = SearchEngine.open(dense_index, model=f"./{tiny_model_dir.name}")
    assert engine.dense_ready


def test_missing_model_at_query_time_falls_back_to_bm25(dense_index: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "ix"
    shutil.copytree(dense_index, copy, symlinks=True)
    manifest_path = copy / "current" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["dense_legs"][0]["model"] = manifest["dense_legs"][0]["source"] = str(tmp_path / "gone")
    manifest_path.write_text(json.dumps(manifest))
    engine = SearchEngine.open(copy)
    resp = engine.search("다중 턴 강화학습", k=3)
    assert resp.mode == "bm25" and "does not exist" in resp.notice
    # Similar by id still works: it reads stored vectors, no model needed.
    assert engine.similar(paper_id=UI_TARS, k=3).mode == "hybrid"


def test_a_named_model_that_cannot_load_fails_the_build(digests: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in --model (or $PAPERSEARCH_MODEL) once built a BM25-only index and exited 0."""
    runner = CliRunner()
    for args, env in [(["--model", "nosuchmodel"], None), ([], "e5,nosuchmodel")]:
        if env:
            monkeypatch.setenv("PAPERSEARCH_MODEL", env)
        result = runner.invoke(main, ["index", "build", "--source", str(digests), "--index", str(tmp_path / "ix"), *args, "--json"])
        assert result.exit_code == 1, result.output
        body = json.loads(result.stdout)
        assert body["ok"] is False and body["code"] == "model_unavailable" and "nosuchmodel" in body["error"]
        assert not (tmp_path / "ix" / "current").exists()  # nothing published, not even BM25


def test_build_with_missing_model_falls_back_with_one_line(digests: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--model", "/does/not/exist", "--allow-bm25-only", "--json"]
    result = runner.invoke(main, ["index", "build", "--source", str(digests), "--index", str(tmp_path / "ix"), *args])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["dense"] is False and out["papers"] == 72
    notice = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(notice) == 1 and "/does/not/exist does not exist" in notice[0] and "BM25-only" in notice[0]
    search = json.loads(runner.invoke(main, ["search", "다중 턴 강화학습", "--index", str(tmp_path / "ix"), "--json"]).stdout)
    assert search["mode"] == "bm25" and search["requested_mode"] == "hybrid"
    dense = json.loads(runner.invoke(main, ["search", "다중 턴 강화학습", "--index", str(tmp_path / "ix"), "--json", "--mode", "dense"]).stdout)
    assert dense["mode"] == "bm25" and dense["notice"]


def test_require_dense_fails_when_model_missing(digests: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["index", "build", "--source", str(digests), "--index", str(tmp_path / "ix"), "--model", "/does/not/exist", "--require-dense"])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (tmp_path / "ix" / "current").exists()


def test_encoder_reports_unavailable_hub_model_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    from search.core.encoders import load_encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        load_encoder("intfloat/multilingual-e5-small")


def test_known_model_prompts() -> None:
    from search.core.encoders import Prompts
    from search.core.encoders.st_backend import resolve_prompts

    assert resolve_prompts("intfloat/multilingual-e5-small", None) == Prompts("query: ", "passage: ")
    assert resolve_prompts("/models/multilingual-e5-base", None) == Prompts("query: ", "passage: ")
    assert resolve_prompts("BAAI/bge-m3", None) == Prompts("", "")
    assert resolve_prompts("x/y", {"query": "q: ", "document": "d: "}) == Prompts("q: ", "d: ")


def test_cli_dense_and_similar(dense_index: Path) -> None:
    runner = CliRunner()
    out = json.loads(runner.invoke(main, ["search", UI_TARS_TITLE, "--index", str(dense_index), "--mode", "dense", "--json", "--k", "3"]).stdout)
    assert out["mode"] == "dense" and UI_TARS in [r["id"] for r in out["results"]]
    out = json.loads(runner.invoke(main, ["similar", UI_TARS, "--index", str(dense_index), "--json", "--k", "5"]).stdout)
    assert len(out["results"]) == 5 and UI_TARS not in [r["id"] for r in out["results"]]
    out = json.loads(runner.invoke(main, ["similar", "--text", "GUI 에이전트 강화학습", "--index", str(dense_index), "--json"]).stdout)
    assert out["mode"] == "hybrid" and out["results"]
    out = json.loads(runner.invoke(main, ["similar", UI_TARS, "--mode", LEG, "--index", str(dense_index), "--json"]).stdout)
    assert out["mode"] == LEG and out["legs"] == [LEG]


def test_a_loaded_model_is_reused_for_the_same_index_model(dense_index: Path, dense_engine: SearchEngine) -> None:
    again = SearchEngine(dense_engine.files.path, encoders=dense_engine.encoders)
    assert again.dense_legs[LEG].encoder is dense_engine.dense_legs[LEG].encoder
    assert again.search("다중 턴 강화학습", k=3).mode == "hybrid"


def test_dense_total_is_every_paper(dense_engine: SearchEngine) -> None:
    resp = dense_engine.search("강화학습", k=5, mode="dense")
    assert resp.total == 72 and len(resp.results) == 5


def test_query_time_settings_do_not_force_an_ann_rebuild() -> None:
    """efSearch is applied on load from the manifest: a build that changes only it
    extends the served graph; anything that shapes the graph rebuilds it."""
    from dataclasses import replace

    from index.artifacts.dense_build import choose_index
    from search.core.manifest import DenseLegSpec

    a = DenseLegSpec.from_dict({"name": "x", "backend": "b", "model": "m", "dim": 8, "index": choose_index(30_000)})
    b = replace(a, index={**a.index, "efSearch": 64})
    assert a.same_graph(b)
    assert not a.same_graph(replace(b, index={**b.index, "M": 16}))
    assert not a.same_graph(replace(a, model="other")) and not a.same_graph(None)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_served_vectors_are_memory_mapped_and_answer_as_when_read_in(tmp_path: Path, kind: str) -> None:
    """Worker processes share a leg's vectors through the page cache: the index the query
    side opens keeps them in the file (flat codes, or an HNSW graph's storage), and it
    answers exactly as the same file read into memory."""
    import faiss

    from index.artifacts.dense_build import choose_index, write_dense
    from search.core.layout import BuildFiles
    from search.core.manifest import DenseLegSpec
    from search.legs.dense import DenseRetriever

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    spec = choose_index(len(vectors), kind)
    files = BuildFiles(tmp_path)
    files.leg_vectors("x").parent.mkdir(parents=True)
    write_dense(vectors, files.leg_vectors("x"), files.leg_faiss("x"), spec)
    leg_spec = DenseLegSpec.from_dict({"name": "x", "backend": "b", "model": "m", "dim": 16, "index": spec})
    leg = DenseRetriever("x", files, [f"p{i}" for i in range(300)], leg_spec)
    index = faiss.downcast_index(leg.index)
    codes = (faiss.downcast_index(index.storage) if kind == "hnsw" else index).codes
    assert codes.size() == vectors.nbytes and not codes.is_owned
    in_memory = faiss.read_index(str(files.leg_faiss("x")))
    if kind == "hnsw":
        in_memory.hnsw.efSearch = leg.index.hnsw.efSearch
    queries = vectors[:20] + rng.normal(scale=0.1, size=(20, 16)).astype(np.float32)
    assert [np.array_equal(a, b) for a, b in zip(leg.index.search(queries, 10), in_memory.search(queries, 10))] == [True, True]
