"""The fast phrase counter counts what the plain scan counts; a small incremental build
merges the new papers' glosses into the served glossary, a full build mines again; the
sample corpus's glossary is what it was before the counter changed."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from index.artifacts.bm25_build import TokenDocs
from index.artifacts.glossary import mine_glossary
from index.artifacts.glossary_update import merge_glossaries, small_change
from index.artifacts.phrase_counter import PhraseCounter, distinct_terms
from index.build import build_index
from search.core.layout import BuildFiles, IndexLayout
from search.core.tokenizer import KiwiTokenizer

NEW_DIGEST = """# 2026-02-01 Daily Papers (Top 1)

## 1. [Zorbulax Lattice Tuning for Agents](https://huggingface.co/papers/2602.00001)
**Upvotes**: 7

### 📌 요약
본 논문은 초격자 조율(Zorbulax Lattice Tuning)을 제안하여 에이전트의 계획 능력을 높였습니다.

### 📝 초록 (번역)
우리는 초격자 조율(Zorbulax Lattice Tuning)이라는 새로운 방법을 소개합니다.
"""


def naive_count(docs: Sequence[Sequence[str]], terms: Sequence[str]) -> int:
    """The plain scan the fast counter replaced: every start position, every document."""
    k = len(terms)
    return sum(1 for d in docs for i in range(len(d) - k + 1) if list(d[i : i + k]) == list(terms)) if k else 0


def phrases_of(docs: Sequence[Sequence[str]], n: int, seed: int = 0) -> list[tuple[str, ...]]:
    """Phrases that occur (random n-grams), phrases across a document boundary, and ones
    that do not occur."""
    rng = random.Random(seed)
    out: list[tuple[str, ...]] = []
    for _ in range(n):
        d = rng.choice([d for d in docs if d])
        k = rng.randint(1, 4)
        i = rng.randrange(len(d))
        out.append(tuple(d[i : i + k]))
    for a, b in zip(docs, docs[1:]):
        if a and b:
            out.append((a[-1], b[0]))  # counts only where it occurs inside a document
    out += [("없는말",), (docs[0][0], "없는말"), ()]
    return out


@pytest.fixture(scope="module")
def sample_docs(bm25_index: Path) -> tuple[list[str], list[list[str]], dict]:
    """The sample corpus's search texts and BM25 token lists, and its served glossary."""
    from search.engine import SearchEngine

    engine = SearchEngine.open(bm25_index, load_model=False)
    tok = KiwiTokenizer()
    texts = [p.search_text() for p in engine.papers]
    titles = tok.tokenize_many([p.title for p in engine.papers])
    bodies = tok.tokenize_many(texts)
    docs = [t * 2 + b for t, b in zip(titles, bodies)]
    glossary = json.loads(BuildFiles(IndexLayout(bm25_index).current_build()).glossary.read_text(encoding="utf-8"))
    return texts, docs, glossary


def test_counter_equals_the_plain_scan_on_hand_made_docs() -> None:
    docs = [["a", "a", "a"], ["a", "b"], ["b", "a", "a"], [], ["x", "a"], ["b", "y"]]
    for counter in (PhraseCounter(docs), PhraseCounter(TokenDocs.from_tokens(docs))):
        assert counter.count(["a", "a"]) == 3  # overlapping occurrences count
        assert counter.count(["a", "b"]) == 1  # "x a" | "b y" crosses a document boundary
        assert counter.count(["a"]) == 7
        assert counter.count(["b", "a", "a"]) == 1
        assert counter.count(["z"]) == counter.count([]) == counter.count(["a", "z"]) == 0
        for phrase in phrases_of(docs, 50):
            assert counter.count(phrase) == naive_count(docs, phrase), phrase


def test_counter_equals_the_plain_scan_on_the_corpus(sample_docs: tuple) -> None:
    _, docs, _ = sample_docs
    phrases = phrases_of(docs, 300)
    lists, ids = PhraseCounter(docs), PhraseCounter(TokenDocs.from_tokens(docs))
    for phrase in phrases:
        expected = naive_count(docs, phrase)
        assert lists.count(phrase) == ids.count(phrase) == expected, phrase
    assert any(naive_count(docs, p) > 1 and len(p) > 1 for p in phrases)  # not all trivial


def test_sample_corpus_glossary_is_unchanged(sample_docs: tuple) -> None:
    texts, docs, served = sample_docs
    tok = KiwiTokenizer()
    for d in (docs, TokenDocs.from_tokens(docs)):
        g = mine_glossary(texts, d, tok)
        assert {k: g[k] for k in ("pairs", "words", "translit")} == {k: served[k] for k in ("pairs", "words", "translit")}
    # Known values from before the fast counter (the glossary mined by the plain scan).
    assert len(served["pairs"]) == 158
    pairs = {(p["a"]["text"], p["b"]["text"]): p["count"] for p in served["pairs"]}
    assert pairs[("강화 학습", "RL")] == 6
    assert pairs[("병렬 조정 추론", "PaCoRe")] == 3
    assert pairs[("Parallel Coordinated Reasoning", "PaCoRe")] == 1
    assert served["mode"] == "full" and served["papers_mined"] == len(texts)


def test_distinct_terms_keeps_first_occurrence_order() -> None:
    docs = [["b", "a"], ["c", "a", "b"], ["d"]]
    assert distinct_terms(docs) == distinct_terms(TokenDocs.from_tokens(docs)) == ["b", "a", "c", "d"]


def test_small_change_threshold() -> None:
    assert small_change(100, 1000) and not small_change(101, 1000)
    assert small_change(1000, 100_000) and not small_change(1001, 100_000)


def test_merge_adds_counts_and_keeps_old_pairs() -> None:
    def side(text: str, kind: str) -> dict:
        return {"text": text, "terms": text.lower().split(), "kind": kind}

    old = {"version": 1, "mode": "full", "papers_mined": 5,
           "pairs": [{"a": side("확산 모델", "ko"), "b": side("diffusion model", "en"), "count": 3, "texts": 2}],
           "words": [], "translit": {"ko": {"에이전트": "VSNT"}, "en": {"agent": ["VSNT", "agent"]}}}
    new = {"version": 1, "mode": "full", "papers_mined": 2,
           "pairs": [{"a": side("확산 모델", "ko"), "b": side("diffusion model", "en"), "count": 1, "texts": 1},
                     {"a": side("확산 정책", "ko"), "b": side("diffusion policy", "en"), "count": 1, "texts": 1}],
           "words": [], "translit": {"ko": {"에이전트": "other", "트랜스포머": "TRNSPM"}, "en": {}}}
    g = merge_glossaries(old, new)
    rows = {(p["a"]["text"], p["b"]["text"]): (p["count"], p["texts"]) for p in g["pairs"]}
    assert rows == {("확산 모델", "diffusion model"): (4, 3), ("확산 정책", "diffusion policy"): (1, 1)}
    assert (g["mode"], g["papers_mined"], g["merged_into"]) == ("merged", 2, 7)
    assert g["translit"]["ko"] == {"에이전트": "VSNT", "트랜스포머": "TRNSPM"}  # old key kept, new added
    assert {(w["ko"], w["en"]) for w in g["words"]} >= {("확산", "diffusion")}  # two merged pairs agree


def test_incremental_build_merges_and_full_build_mines_again(bm25_index: Path, digests: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(digests, corpus)
    root = tmp_path / "index"
    # The session index's caches make the first build here cheap (Kiwi caches by text).
    shutil.copytree(bm25_index / "cache", root / "cache")
    build_index([corpus], root, dense="off", progress=False)
    before = json.loads(BuildFiles(IndexLayout(root).current_build()).glossary.read_text(encoding="utf-8"))
    assert before["mode"] == "full"

    (corpus / "2026-02-01.md").write_text(NEW_DIGEST, encoding="utf-8")
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert report["added"] == 1
    merged = json.loads(BuildFiles(IndexLayout(root).current_build()).glossary.read_text(encoding="utf-8"))
    assert (merged["mode"], merged["papers_mined"]) == ("merged", 1)
    pairs = {(p["a"]["text"], p["b"]["text"]): p for p in merged["pairs"]}
    assert pairs[("초격자 조율", "Zorbulax Lattice Tuning")]["count"] == 2
    old_pairs = {(p["a"]["text"], p["b"]["text"]) for p in before["pairs"]}
    assert old_pairs < set(pairs)

    report = build_index([corpus], root, dense="off", progress=False, full=True).to_dict()
    full = json.loads(BuildFiles(IndexLayout(root).current_build()).glossary.read_text(encoding="utf-8"))
    assert (full["mode"], full["papers_mined"]) == ("full", report["papers"])
    assert ("초격자 조율", "Zorbulax Lattice Tuning") in {(p["a"]["text"], p["b"]["text"]) for p in full["pairs"]}
