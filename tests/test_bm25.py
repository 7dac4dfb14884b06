"""BM25 ranking on the real corpus."""

from __future__ import annotations

import pytest

from search.engine import SearchEngine


def top_ids(engine: SearchEngine, query: str, k: int = 10) -> list[str]:
    return [h.paper.id for h in engine.search(query, k=k, mode="bm25").results]


def test_multi_turn_rl_finds_the_multi_turn_papers(bm25_engine: SearchEngine) -> None:
    top3 = top_ids(bm25_engine, "다중 턴 강화학습", 3)
    assert {"2509.02544", "2509.02479"} & set(top3)


def test_spacing_variant_gives_the_same_ranking(bm25_engine: SearchEngine) -> None:
    assert top_ids(bm25_engine, "다중턴 강화 학습") == top_ids(bm25_engine, "다중 턴 강화학습")


def test_english_query_matches_english_titles(bm25_engine: SearchEngine) -> None:
    assert top_ids(bm25_engine, "visual SLAM symmetric two-view association", 1) == ["2509.01584"]


def test_acronym_query(bm25_engine: SearchEngine) -> None:
    assert top_ids(bm25_engine, "SAPO", 1) == ["2509.08721"]


def test_hits_report_matched_terms_and_descending_scores(bm25_engine: SearchEngine) -> None:
    resp = bm25_engine.search("위성 영상 분할", k=5, mode="bm25")
    scores = [h.score for h in resp.results]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    for h in resp.results:
        assert h.bm25 is not None and h.bm25.score == h.score
        # Own terms, or expansion terms the response reports (weighted below 1).
        assert set(h.matched) <= {"위성", "영상", "분할"} | set(resp.expansions) and h.matched
        assert set(h.matched) & {"위성", "영상", "분할"}
    assert resp.results[0].paper.id == "2601.10477"


def test_query_with_no_known_terms_finds_nothing(bm25_engine: SearchEngine) -> None:
    resp = bm25_engine.search("zzzqqq xyzzy", mode="bm25")
    assert resp.results == [] and resp.total == 0


def test_weighted_terms_change_the_order(bm25_engine: SearchEngine) -> None:
    plain = bm25_engine.bm25.retrieve_terms({"slam": 1.0, "의료": 1.0}, 2)
    heavy = bm25_engine.bm25.retrieve_terms({"slam": 0.1, "의료": 1.0}, 2)
    assert plain[0].id != heavy[0].id


def test_bm25_scores_match_an_independent_oracle(bm25_index) -> None:
    """Scores equal an independent implementation of Lucene's BM25 (the variant bm25s's
    "lucene" method follows: idf = ln(1 + (N − df + .5)/(df + .5)), no (k1 + 1) factor)."""
    import math

    from index.artifacts.bm25_build import BM25Params, document_tokens
    from index.parse.digest import parse_sources
    from search.core.fields import snippet_fields
    from search.core.tokenizer import KiwiTokenizer
    from tests.conftest import DIGESTS

    papers = parse_sources([DIGESTS]).papers
    tok = KiwiTokenizer()
    p = BM25Params()
    # A body is the paper's snippet fields, each analysed alone (index/artifacts/bm25_documents.py).
    docs = [
        document_tokens(tok.tokenize(x.title), [t for _n, f in snippet_fields(x) for t in tok.tokenize(f)], p)
        for x in papers
    ]
    n, avg = len(docs), sum(map(len, docs)) / len(docs)
    query = tok.tokenize("멀티모달 의료 영상 분할")

    def score(doc: list[str]) -> float:
        s = 0.0
        for t in set(query):
            df = sum(1 for d in docs if t in d)
            tf = doc.count(t)
            if tf:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                s += idf * tf / (tf + p.k1 * (1 - p.b + p.b * len(doc) / avg))
        return s

    expected = sorted(((score(d), x.id) for d, x in zip(docs, papers)), key=lambda t: (-t[0], t[1]))[:5]
    from search.engine import SearchEngine

    got = SearchEngine.open(bm25_index).bm25.retrieve_terms({t: 1.0 for t in query}, 5)
    assert [g.id for g in got] == [e[1] for e in expected]
    for g, (s, _) in zip(got, expected):
        assert abs(g.score - s) < 1e-3


def test_total_counts_every_matching_paper_not_just_the_page(bm25_engine: SearchEngine) -> None:
    page = bm25_engine.search("강화학습", k=3, mode="bm25")
    everything = bm25_engine.search("강화학습", k=100, mode="bm25")
    assert len(page.results) == 3
    assert page.total == everything.total == len(everything.results) > 3
    assert [h.paper.id for h in page.results] == [h.paper.id for h in everything.results[:3]]


@pytest.mark.parametrize("n_terms", [5, 80], ids=["few-terms", "more-terms-than-bits"])
def test_matched_terms_are_the_terms_whose_postings_hold_the_hit(bm25_engine: SearchEngine, n_terms: int) -> None:
    bm25 = bm25_engine.bm25
    # bm25s keeps an empty token in its vocabulary (no column of its own); queries never hold it.
    words = [t for t in bm25.vocab if t]
    terms = {t: 1.0 for t in sorted(words, key=lambda t: -bm25.document_frequency(t))[:n_terms]}
    hits, _total = bm25.search_terms(terms, 40)
    assert len(hits) == 40
    for hit in hits:
        row = bm25_engine.row_of[hit.id]
        holding = tuple(
            t for t in terms if row in set(bm25._indices[bm25._indptr[bm25.vocab[t]] : bm25._indptr[bm25.vocab[t] + 1]].tolist())
        )
        assert hit.terms == holding
