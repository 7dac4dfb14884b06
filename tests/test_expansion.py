"""Query expansion: transliteration keys, spacing, glossary bridge, weights below the own terms."""

from __future__ import annotations

import pytest

from search.core.translit import hangul_key, latin_key, looks_loanword
from search.legs.expansion import Expander


@pytest.mark.parametrize(
    "ko,en",
    [("에이전트", "agent"), ("트랜스포머", "transformer"), ("벤치마크", "benchmark"), ("프롬프트", "prompt"),
     ("디퓨전", "diffusion"), ("어텐션", "attention"), ("캡션", "caption"), ("컨텍스트", "context")],
)
def test_loanwords_share_the_key_of_their_english_word(ko: str, en: str) -> None:
    assert hangul_key(ko) == latin_key(en)
    assert looks_loanword(ko)


@pytest.mark.parametrize("word", ["학습", "확산", "강화", "사람", "특징", "상세"])
def test_sino_korean_and_native_words_are_not_loanwords(word: str) -> None:
    assert not looks_loanword(word)


def make(vocab: dict[str, int], glossary: dict | None = None) -> Expander:
    return Expander(glossary, lambda t: vocab.get(t, 0), n_docs=100)


def test_glossary_phrase_bridges_english_to_korean_below_own_weight() -> None:
    glossary = {"pairs": [{"a": {"terms": ["병렬", "조정", "추론"]}, "b": {"terms": ["parallel", "coordin", "reason"]}}]}
    ex = make({"병렬": 3, "조정": 5, "추론": 20, "parallel": 2, "coordin": 1, "reason": 9}, glossary)
    out = ex.expand("parallel coordinated reasoning", {"parallel": 1.0, "coordin": 1.0, "reason": 1.0})
    assert {"병렬", "조정", "추론"} <= set(out)
    assert all(0 < out[t] < 1 for t in ("병렬", "조정", "추론"))
    assert out["parallel"] == 1.0
    # Half a phrase is not the phrase.
    assert "병렬" not in ex.expand("parallel", {"parallel": 1.0})


def test_a_rarer_translation_weighs_less() -> None:
    glossary = {"words": [{"ko": "모델", "en": "model"}]}
    ex = make({"모델": 90, "model": 5}, glossary)
    w = ex.expand("모델", {"모델": 1.0})["model"]
    assert 0 < w < 0.1  # "model" is rare in Korean prose: it must not outweigh 모델


def test_transliteration_both_ways_and_spelling_variants() -> None:
    glossary = {"translit": {"ko": {"에이전트": "VSNT", "트랜스포머": "TRNSPM"},
                             "en": {"agent": ["VSNT", "agent"], "transform": ["TRNSPM", "transformer"]}}}
    ex = make({"에이전트": 10, "agent": 10, "트랜스포머": 4, "transform": 4}, glossary)
    assert "agent" in ex.expand("에이전트", {"에이전트": 1.0})
    assert "에이전트" in ex.expand("agents", {"agent": 1.0})
    out = ex.expand("트렌스포머", {"트렌스포머": 1.0})  # misspelt: not in the corpus
    assert "트랜스포머" in out and "transform" in out


def test_transliteration_memo_gives_the_same_answers_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import search.legs.expansion as expansion

    glossary = {"translit": {"ko": {"에이전트": "VSNT"}, "en": {"agent": ["VSNT", "agent"]}}}
    ex = make({"에이전트": 10, "agent": 10}, glossary)
    first = ex.expand("에이전트 agents", {"에이전트": 1.0, "agent": 1.0})
    assert ex.expand("에이전트 agents", {"에이전트": 1.0, "agent": 1.0}) == first  # from the memo
    monkeypatch.setattr(expansion, "MEMO_SIZE", 5)
    for i in range(40):  # a stream of distinct (hostile) words, Latin and Hangul
        latin, hangul = "zq" + chr(97 + i % 26) + chr(97 + i // 26), "단어" + chr(0xAC00 + i)
        ex.expand(f"{latin} {hangul}", {latin: 1.0, hangul: 1.0})
    assert len(ex._latin_memo) <= 5 and len(ex._hangul_memo) <= 5
    assert ex.expand("에이전트 agents", {"에이전트": 1.0, "agent": 1.0}) == first


def test_compound_split_only_where_kiwi_failed() -> None:
    ex = make({"캡션": 2, "손실": 8, "공정": 3, "성과": 6})
    out = ex.expand("캡션손실만으로", {"션": 1.0, "손실": 1.0})
    assert 0 < out["캡션"] < 1
    # Kiwi read 공정성과 right (공정 + particle): no "성과" from a blind split.
    assert "성과" not in ex.expand("공정성과", {"공정": 1.0})


def test_spaced_words_join_when_the_corpus_writes_them_as_one() -> None:
    ex = make({"다중턴": 3, "다중": 9, "턴": 4})
    assert "다중턴" in ex.expand("다중 턴", {"다중": 1.0, "턴": 1.0})


def test_engine_reports_expansions_and_matched_terms(bm25_engine) -> None:
    resp = bm25_engine.search("sparse autoencoder", k=5, mode="bm25")
    assert resp.expansions and all(w < 1 for w in resp.expansions.values())
    assert "희소" in resp.expansions
    top = resp.results[0].to_dict()
    assert set(top["bm25"]["matched"]) & set(resp.expansions)


def test_korean_query_reaches_english_only_term(bm25_engine) -> None:
    terms = bm25_engine.query_terms("에이전트 강화학습")
    assert terms["에이전트"] == 1.0 and 0 < terms.get("agent", 0) < 1


def test_a_once_seen_method_name_is_no_translation_of_a_common_phrase(bm25_engine) -> None:
    # "강화학습(ReReFL)" once in the corpus, "강화 학습(RL)" many times: the method name
    # must not be offered as an expansion of 강화학습 (it once was, as `rerefl`).
    terms = bm25_engine.query_terms("다중 턴 강화학습")
    assert "rerefl" not in terms
    assert "rl" in terms and terms["rl"] < 1.0


def test_dominant_pairs_keep_equally_common_glosses() -> None:
    from search.legs.expansion import dominant_pairs

    def row(a: list[str], b: list[str], n: int, kind: str = "acr") -> dict:
        return {"a": {"terms": a, "kind": "ko"}, "b": {"terms": b, "kind": kind}, "count": n}

    pairs = dominant_pairs([row(["강화", "학습"], ["rl"], 6), row(["강화", "학습"], ["rl"], 2), row(["강화", "학습"], ["rerefl"], 1),
                            row(["강화", "학습"], ["reinforc", "learn"], 1, "en"), row(["알고리즘"], ["grpo"], 1), row(["알고리즘"], ["dgpo"], 1)])
    targets = {dst for src, dst in pairs if src == ("강화", "학습")}
    assert targets == {("rl",), ("reinforc", "learn")}  # kinds compete only among themselves
    assert {dst for src, dst in pairs if src == ("알고리즘",)} == {("grpo",), ("dgpo",)}
    assert (("rerefl",), ("강화", "학습")) in pairs  # the method name still finds its own phrase
