"""Ranking is a total order: score descending, then row (date) order. Pages of a query
with many tied scores never repeat or skip a paper, and a query is analysed the same way
in every process (no set iteration order, whatever PYTHONHASHSEED is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.artifacts.bm25_build import BM25Params, write_bm25
from index.build import build_index
from search.core.tokenizer import KiwiTokenizer
from search.engine import SearchEngine
from search.legs.bm25 import BM25Retriever
from search.legs.retriever import top_rows

REPO = Path(__file__).resolve().parent.parent


def test_top_rows_breaks_ties_by_row_whatever_the_size() -> None:
    rng = np.random.default_rng(0)
    for n, k, values in ((50, 7, 6), (30_000, 10, 6), (30_000, 100, 6), (5_000, 1, 6), (100_000, 10, 1000), (100_000, 30, 2), (100_000, 10, 3)):
        scores = rng.integers(0, values, n).astype(np.float32)  # few distinct values: ties everywhere
        if values == 1000:
            scores[rng.random(n) < 0.7] = 0  # mostly non-matching, as BM25 at 100k
        if values == 3:
            scores[rng.random(n) < 0.9995] = 0  # a rare term: the sample holds too few matches
        want = sorted(np.flatnonzero(scores > 0).tolist(), key=lambda r: (-scores[r], r))[:k]
        assert top_rows(scores, k, min_score=0.0).tolist() == want
        everything = sorted(range(n), key=lambda r: (-scores[r], r))[:k]
        assert top_rows(scores, k).tolist() == everything


@pytest.fixture(scope="module")
def tied(tmp_path_factory: pytest.TempPathFactory) -> BM25Retriever:
    """70 documents of the same length with one "agent", all tied; 13 with it twice."""
    docs = []
    for i in range(100):
        if i % 8 == 3:
            docs.append(["agent", "agent", "model"])
        elif i % 5 == 4:
            docs.append(["other", "thing", "here"])
        else:
            docs.append(["agent", "model", f"w{i}"])
    out = tmp_path_factory.mktemp("tied") / "bm25"
    write_bm25(docs, out, BM25Params(title_weight=1))
    return BM25Retriever(out, [f"p{i:03d}" for i in range(len(docs))], KiwiTokenizer())


def test_pages_of_tied_hits_concatenate_to_one_big_page(tied: BM25Retriever) -> None:
    whole, total = tied.search_terms({"agent": 1.0}, 100)
    assert total == len(whole) == 83
    pages = []
    for offset in range(0, 83, 7):
        hits, _ = tied.search_terms({"agent": 1.0}, offset + 7)
        pages += hits[offset : offset + 7]
    assert [h.id for h in pages] == [h.id for h in whole]
    assert len({h.id for h in pages}) == 83
    scores = [h.score for h in whole]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 2
    # within a tie, row (date) order
    for s in set(scores):
        ids = [h.id for h in whole if h.score == s]
        assert ids == sorted(ids)


def test_engine_pages_with_ties_never_repeat_or_skip(tmp_path: Path) -> None:
    """Through the engine (and its fusion step): 40 papers whose texts tie exactly."""
    lines = ["# 2025-09-03 Daily Papers", ""]
    for i in range(40):
        lines += [
            f"## {i + 1}. [Study {i + 1}](https://arxiv.org/abs/2509.{10000 + i})",
            "",
            "### 📌 요약",
            "강화학습 에이전트를 위한 새로운 벤치마크를 제안한다." if i % 3 else "강화학습 강화학습 에이전트 벤치마크를 제안한다.",
            "",
        ]
    src = tmp_path / "2025-09-03.md"
    src.write_text("\n".join(lines), encoding="utf-8")
    build_index([src], tmp_path / "index", dense="off", progress=False)
    engine = SearchEngine.open(tmp_path / "index", load_model=False)
    whole = engine.search("강화학습", mode="bm25", k=40)
    assert whole.total == 40
    paged = []
    for offset in range(0, 40, 6):
        paged += engine.search("강화학습", mode="bm25", k=6, offset=offset).results
    assert [h.paper.id for h in paged] == [h.paper.id for h in whole.results]
    assert len({h.paper.id for h in paged}) == 40


EXPAND = """
import json
from search.legs.expansion import Expander
own = {f"term{i}": 1.0 for i in range(8)}
glossary = {"words": [{"ko": f"term{i}", "en": f"trans{i}{j}"} for i in range(8) for j in range(3)],
            "pairs": [{"a": {"terms": ["term0", f"term{i}"]}, "b": {"terms": [f"phrase{i}", "x"]}} for i in range(1, 8)]}
out = Expander(glossary, lambda t: 3 + len(t), 1000).expand("", own)
print(json.dumps(list(out.items())))
"""

SCRIPT = """
import json, sys
from search.engine import SearchEngine
engine = SearchEngine.open(sys.argv[1], load_model=False)
out = {}
for q in json.loads(sys.argv[2]):
    r = engine.search(q, mode="bm25", k=10)
    out[q] = {"terms": list(r.terms.items()), "hits": [[h.paper.id, h.score, list(h.matched)] for h in r.results]}
print(json.dumps(out, ensure_ascii=False))
"""


def test_query_analysis_is_the_same_in_every_process(bm25_index: Path) -> None:
    queries = ["LLM을 genetic algorithm처럼 써서 합성 데이터 생성", "multi-turn agent 강화학습", "환각 hallucination 줄이기", "diffusion 이미지 생성 모델"]
    outs, expanded = [], []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        res = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(bm25_index), json.dumps(queries)],
            env=env, capture_output=True, text=True, check=True, timeout=300,
        )
        outs.append(json.loads(res.stdout))
        # Many expansions from one query: any set order would show here.
        res = subprocess.run([sys.executable, "-c", EXPAND], env=env, capture_output=True, text=True, check=True, timeout=60)
        expanded.append(json.loads(res.stdout))
    assert outs[0] == outs[1]
    assert expanded[0] == expanded[1] and len(expanded[0]) == 8 + 8 * 3 + 7 + 1
    assert any(w < 1.0 for q in queries for _t, w in outs[0][q]["terms"])  # expansions were exercised


def test_search_response_carries_the_terms_it_used(bm25_engine: SearchEngine) -> None:
    q = "LLM을 genetic algorithm처럼 써서 합성 데이터 생성"
    r = bm25_engine.search(q, mode="bm25")
    assert r.terms == bm25_engine.query_terms(q)
    assert {t: round(w, 3) for t, w in r.terms.items() if w < 1.0} == r.to_dict()["expansions"]
