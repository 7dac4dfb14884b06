"""The Kiwi tokenizer shared by build and query."""

from __future__ import annotations

import dataclasses

import pytest

from search.core.errors import IndexIncompatible
from search.core.tokenizer import KiwiTokenizer, TokenizerSettings


@pytest.fixture(scope="module")
def tok() -> KiwiTokenizer:
    return KiwiTokenizer()


def test_particles_and_endings_are_dropped(tok: KiwiTokenizer) -> None:
    assert tok.tokenize("강화학습을 통해 에이전트가 학습한다") == ["강화", "학습", "에이전트", "학습"]


def test_spacing_variants_give_the_same_terms(tok: KiwiTokenizer) -> None:
    assert tok.tokenize("다중턴 강화학습") == tok.tokenize("다중 턴 강화 학습") == ["다중", "턴", "강화", "학습"]


def test_latin_is_lowercased_stemmed_and_stopworded(tok: KiwiTokenizer) -> None:
    assert tok.tokenize("Can LLMs learn a language from the Agents?") == ["llm", "learn", "languag", "agent"]


def test_verb_stems_roots_and_numbers_are_kept(tok: KiwiTokenizer) -> None:
    terms = tok.tokenize("스마트폰에서 돌아가는 모델은 AIME24에서 50.5점")
    assert "돌아가" in terms and "스마트폰" in terms and "50.5" in terms and "aime" in terms


def test_analyze_offsets_point_at_surface_text(tok: KiwiTokenizer) -> None:
    text = "다중 턴 강화학습을 위한 GUI 에이전트"
    assert [(t.term, text[t.start : t.end]) for t in tok.analyze(text)] == [
        ("다중", "다중"), ("턴", "턴"), ("강화", "강화"), ("학습", "학습"), ("gui", "GUI"), ("에이전트", "에이전트"),
    ]
    # Stemmed words point at the whole word; a sentence-final period is not part of it.
    text = "Agents learning RL."
    assert [(t.term, text[t.start : t.end]) for t in tok.analyze(text)] == [
        ("agent", "Agents"), ("learn", "learning"), ("rl", "RL"),
    ]


def test_batch_tokenization_matches_single(tok: KiwiTokenizer) -> None:
    texts = ["다중 턴 강화학습", "", "Vision-Language Models", "위성 영상에서 학교·공원 분할"]
    assert tok.tokenize_many(texts) == [tok.tokenize(t) for t in texts]


def test_settings_mismatch_is_refused(tok: KiwiTokenizer) -> None:
    tok.check_compatible(tok.settings.to_dict())
    other = dataclasses.replace(tok.settings, latin_stemmer=None).to_dict()
    with pytest.raises(IndexIncompatible, match="latin_stemmer.*rebuild"):
        tok.check_compatible(other)


def test_settings_round_trip_through_json() -> None:
    import json

    s = TokenizerSettings.default()
    assert json.loads(json.dumps(s.to_dict())) == s.to_dict()


def test_sentence_final_period_is_not_part_of_a_latin_term(tok: KiwiTokenizer) -> None:
    text = "이 논문은 Agentic RL. 그리고 e.g. 예시"
    terms = tok.tokenize(text)
    assert "rl" in terms and "rl." not in terms and "e.g" not in terms
    rl = next(t for t in tok.analyze(text) if t.term == "rl")
    assert text[rl.start : rl.end] == "RL"
