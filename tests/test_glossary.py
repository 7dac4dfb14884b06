"""Glossary mining on hand-made text (both directions, nesting, acronyms, lists) and on the corpus."""

from __future__ import annotations

import json

import pytest

from index.artifacts.glossary import mine_glossary
from search.core.tokenizer import KiwiTokenizer


@pytest.fixture(scope="module")
def tok() -> KiwiTokenizer:
    return KiwiTokenizer(num_workers=1)


def pairs_of(texts: list[str], tok: KiwiTokenizer) -> set[tuple[str, str]]:
    docs = tok.tokenize_many(texts)
    g = mine_glossary(texts, docs, tok)
    json.dumps(g)  # plain JSON, nothing else
    return {(p["a"]["text"], p["b"]["text"]) for p in g["pairs"]}


def test_korean_then_english_with_acronym(tok: KiwiTokenizer) -> None:
    found = pairs_of(["우리는 병렬 조정 추론(Parallel Coordinated Reasoning, PaCoRe)을 제안한다."], tok)
    assert ("병렬 조정 추론", "Parallel Coordinated Reasoning") in found
    assert ("병렬 조정 추론", "PaCoRe") in found
    assert ("Parallel Coordinated Reasoning", "PaCoRe") in found


def test_phrase_starts_after_the_particle(tok: KiwiTokenizer) -> None:
    found = pairs_of(["본 연구는 소형 효율성(compact efficiency)을 목표로 한다."], tok)
    assert found == {("소형 효율성", "compact efficiency")}


def test_english_then_korean(tok: KiwiTokenizer) -> None:
    found = pairs_of(["계산을 늘리기 위해 PaCoRe(병렬 조정 추론)를 쓴다."], tok)
    assert found == {("병렬 조정 추론", "PaCoRe")}


def test_nested_parentheses_close_at_the_right_place(tok: KiwiTokenizer) -> None:
    found = pairs_of(["본 연구는 희소 오토인코더(Sparse Autoencoders (v2))를 쓴다. 다음 문장(next)."], tok)
    assert ("희소 오토인코더", "Sparse Autoencoders") in found
    assert not any("v2" in b for _a, b in found)
    assert ("문장", "next") in found


def test_acronym_length_bounds_the_korean_phrase(tok: KiwiTokenizer) -> None:
    # "최근" is a noun too; the two-letter acronym says the term has two words.
    found = pairs_of(["최근 강화 학습(RL)이 널리 쓰인다."], tok)
    assert found == {("강화 학습", "RL")}


def test_lists_examples_and_numbers_are_not_glosses(tok: KiwiTokenizer) -> None:
    texts = [
        "다중 모달 관찰(텍스트, 이미지, 비디오)을 받는다.",
        "모든 과정(데이터 수집, SFT, RL 등)을 공개한다.",
        "기존 범주(예: 학교, 공원)를 넘어선다.",
        "Whisper Small(9배 크기)를 능가한다.",
        "선형 시간 복잡도(O(N))를 달성한다.",
    ]
    assert pairs_of(texts, tok) == set()


def test_a_particle_before_the_parenthesis_breaks_the_gloss(tok: KiwiTokenizer) -> None:
    assert pairs_of(["모델을 (다시) 학습한다."], tok) == set()


def test_counts_and_word_pairs(tok: KiwiTokenizer) -> None:
    texts = [
        "확산 변환기(Diffusion Transformer)를 쓴다.",
        "확산 정책(diffusion policy)을 학습한다.",
        "증류(distillation)는 빠르다.",
    ]
    g = mine_glossary(texts, tok.tokenize_many(texts), tok)
    words = {(w["ko"], w["en"]) for w in g["words"]}
    assert ("확산", "diffus") in words  # two glosses agree
    assert ("증류", "distil") in words  # a one-word gloss
    assert ("정책", "polici") not in words  # one positional match only: not enough evidence


def test_transliteration_keys_only_for_loanwords(tok: KiwiTokenizer) -> None:
    texts = ["에이전트 기반 학습. The agent learns."]
    g = mine_glossary(texts, tok.tokenize_many(texts), tok)
    assert "에이전트" in g["translit"]["ko"]
    assert "학습" not in g["translit"]["ko"]  # Sino-Korean: no English sound-alike
    assert g["translit"]["en"]["agent"][0] == g["translit"]["ko"]["에이전트"]


def test_corpus_glossary_is_stored_with_the_build(bm25_index) -> None:
    from search.core.layout import BuildFiles, IndexLayout

    g = json.loads(BuildFiles(IndexLayout(bm25_index).current_build()).glossary.read_text(encoding="utf-8"))
    found = {(p["a"]["text"], p["b"]["text"]) for p in g["pairs"]}
    assert ("병렬 조정 추론", "Parallel Coordinated Reasoning") in found
    assert ("희소 오토인코더", "Sparse Autoencoders") in found
    assert all(p["count"] >= 1 for p in g["pairs"])
