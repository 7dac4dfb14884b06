"""Snippets from the build's stored morphemes equal the ones Kiwi gives at query time, and
incremental builds extend the stored morphemes exactly as a full build writes them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import add_papers
from index.build import build_index
from search.core.fields import snippet_fields
from search.core.layout import BuildFiles, IndexLayout
from search.core.records import Paper
from search.core.tokenizer import KiwiTokenizer
from search.engine import SearchEngine
from search.serve.snippets import Snippeter, cut, merge
from search.stores.snippet_spans import StoredSpans

QUERIES = (
    "다중 턴 강화학습",
    "GUI agent",
    "LLM을 genetic algorithm처럼 써서 합성 데이터 생성",
    "세계 모델",
    "환각 줄이기",
    "diffusion 이미지 편집",
    "벤치마크 평가",
)


def test_stored_snippets_equal_kiwi_snippets_on_every_sample_paper(bm25_engine: SearchEngine) -> None:
    engine = bm25_engine
    stored = StoredSpans.open(engine.files)
    assert stored is not None
    from_build = Snippeter(engine.tokenizer, stored=stored)
    at_query_time = Snippeter(engine.tokenizer)  # Kiwi per field, what served before
    compared = highlighted = 0
    for q in QUERIES:
        terms = list(engine.query_terms(q))
        for row, paper in enumerate(engine.papers):
            a = from_build.for_paper(paper, terms, row=row)
            b = at_query_time.for_paper(paper, terms)
            assert a == b, (q, paper.id)
            compared += 1
            highlighted += bool(a.spans)
    assert compared == len(QUERIES) * len(engine.papers)
    assert highlighted > len(engine.papers)  # the queries do match: spans were compared, not just empties


def test_one_answer_of_hits_wanting_different_terms_equals_kiwi_hit_by_hit(bm25_engine: SearchEngine) -> None:
    """As an answer asks: all hits at once, each with its own terms (the query's plus what
    BM25 matched in it), one of them with none, one whose row does not line up."""
    engine = bm25_engine
    stored = StoredSpans.open(engine.files)
    assert stored is not None
    from_build = Snippeter(engine.tokenizer, stored=stored)
    at_query_time = Snippeter(engine.tokenizer)
    highlighted = 0
    for q in QUERIES:
        base = list(engine.query_terms(q))
        papers = engine.papers[:24]
        # Each hit's own extra terms, from its title: other hits' words never light it up.
        terms = [set(base) | set(list(engine.query_terms(p.title))[:2]) if i % 3 else set(base) for i, p in enumerate(papers)]
        terms[5] = set()
        rows: list[int | None] = list(range(len(papers)))
        rows[7] = next(r for r, p in enumerate(engine.papers) if len(snippet_fields(p)) != len(snippet_fields(papers[7])))
        rows[9] = None
        got = from_build.for_papers(papers, terms, rows)
        want = [at_query_time.for_paper(p, t) for p, t in zip(papers, terms)]
        assert got == want, q
        highlighted += sum(bool(s.spans) for s in got)
    assert highlighted > len(QUERIES) * 12


def test_a_row_whose_fields_do_not_line_up_falls_back_to_kiwi(bm25_engine: SearchEngine) -> None:
    engine = bm25_engine
    stored = StoredSpans.open(engine.files)
    assert stored is not None
    paper = engine.papers[0]
    wrong_row = next(r for r, p in enumerate(engine.papers) if len(snippet_fields(p)) != len(snippet_fields(paper)))
    terms = list(engine.query_terms(paper.title))
    got = Snippeter(engine.tokenizer, stored=stored).for_paper(paper, terms, row=wrong_row)
    assert got == Snippeter(engine.tokenizer).for_paper(paper, terms) and got.spans


def _rows(root: Path) -> dict[str, list[list[tuple[str, int, int]]]]:
    """Each paper's stored morphemes per field, as (term, start, end), by paper id."""
    files = BuildFiles(IndexLayout(root).current_build())
    s = StoredSpans(files)
    out = {}
    for row, d in enumerate(files.iter_papers()):
        fields = []
        for f in range(int(s.paper_fields[row]), int(s.paper_fields[row + 1])):
            a, b = int(s.field_offsets[f]), int(s.field_offsets[f + 1])
            fields.append([(s.vocab[t], int(st), int(st + n)) for t, st, n in zip(s.terms[a:b], s.starts[a:b], s.lengths[a:b])])
        out[d["id"]] = fields
    return out


@pytest.fixture
def corpus(tmp_path: Path, digests: Path) -> Path:
    shutil.copytree(digests, tmp_path / "corpus")
    return tmp_path / "corpus"


def test_incremental_builds_extend_stored_morphemes_like_a_full_build(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.artifacts import snippet_build

    root = tmp_path / "index"
    build_index([corpus], root, dense="off", progress=False)
    analysed: list[int] = []
    real = snippet_build._analyse
    monkeypatch.setattr(snippet_build, "_analyse", lambda papers, *a: analysed.append(len(papers)) or real(papers, *a))

    add_papers(corpus / "new", 0, 3)  # the daily case: rows appended
    build_index([corpus], root, dense="off", progress=False)
    assert analysed[-1] == 3

    edited = corpus / "2025-09-03.md"  # a change and a removal: rows gathered from both
    edited.write_text(edited.read_text(encoding="utf-8").replace("데이터 플라이휠 파이프라인", "데이터 플라이휠 Zorbulaxian"), encoding="utf-8")
    (corpus / "2026-01-13.md").unlink()
    build_index([corpus], root, dense="off", progress=False)
    assert analysed[-1] == 1

    full = tmp_path / "full"
    build_index([corpus], full, dense="off", progress=False, full=True)
    assert _rows(root) == _rows(full)
    engine = SearchEngine.open(root, load_model=False)
    stored = StoredSpans.open(engine.files)
    row = engine.row_of["2509.02544"]
    snip = Snippeter(engine.tokenizer, stored=stored).for_paper(engine.papers[row], ["zorbulaxian"], row=row)
    assert "<mark>Zorbulaxian</mark>" in snip.html


def test_old_build_without_stored_morphemes_still_highlights(bm25_index: Path, tmp_path: Path) -> None:
    root = tmp_path / "old"
    shutil.copytree(bm25_index, root, symlinks=True)
    files = BuildFiles(IndexLayout(root).current_build())
    shutil.rmtree(files.snippets)
    engine = SearchEngine.open(root, load_model=False)
    assert StoredSpans.open(engine.files) is None
    snip = Snippeter(engine.tokenizer, stored=None).for_paper(engine.papers[0], list(engine.query_terms(engine.papers[0].title)), row=0)
    assert snip.spans and np.all([e > s for s, e in snip.spans])


def test_snippet_escapes_html_and_merges_adjacent_morphemes() -> None:
    paper = Paper(id="x", title="t", url="u", summary="<script>alert(1)</script> 다중 턴 강화학습을 쓴다 & 끝")
    snip = Snippeter(KiwiTokenizer()).for_paper(paper, {"강화", "학습", "다중", "턴"})
    assert "<script>" not in snip.html and "&lt;script&gt;" in snip.html and "&amp;" in snip.html
    assert re.findall(r"<mark>(.*?)</mark>", snip.html) == ["다중 턴 강화학습"]


def test_snippet_window_moves_to_the_matches() -> None:
    text = "서론 문장입니다. " * 40 + "마지막에 강화학습 이야기가 나온다."
    spans = [(text.index("강화학습"), text.index("강화학습") + 4)]
    snip = cut(text, spans, 120)
    assert snip.text.startswith("…") and "강화학습" in snip.text and len(snip.text) <= 122
    assert [snip.text[s:e] for s, e in snip.spans] == ["강화학습"]


def test_snippet_prefers_the_field_covering_more_terms() -> None:
    paper = Paper(id="y", title="t", url="u", summary="강화학습 연구", abstract="GUI 에이전트의 다중 턴 강화학습")
    snip = Snippeter(KiwiTokenizer()).for_paper(paper, {"강화", "학습", "다중", "턴", "gui"})
    assert snip.field == "abstract"
    assert merge([(6, 8), (0, 2), (3, 5)], "ab cd ef") == [(0, 8)]
    assert merge([(6, 8), (0, 2)], "ab cd ef") == [(0, 2), (6, 8)]
