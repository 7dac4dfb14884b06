"""The checks a digest's values pass before they are indexed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.parse.digest_merge import merge_located
from index.parse.digest_values import (
    BadValue,
    check_arxiv_id,
    check_date,
    check_upvotes,
    paper_link,
    split_lines,
    truncate,
)
from search.core.records import Paper


@pytest.mark.parametrize(
    "url, pid, stored",
    [
        ("https://arxiv.org/abs/2509.02544", "2509.02544", "https://arxiv.org/abs/2509.02544"),
        ("http://arxiv.org/abs/2509.02544v3", "2509.02544", "https://arxiv.org/abs/2509.02544v3"),
        ("https://www.arxiv.org/pdf/2509.02544v1.pdf", "2509.02544", "https://arxiv.org/pdf/2509.02544v1"),
        ("https://export.arxiv.org/abs/2509.02544/", "2509.02544", "https://arxiv.org/abs/2509.02544"),
        ("HTTPS://ARXIV.ORG/ABS/2509.02544", "2509.02544", "https://arxiv.org/abs/2509.02544"),
        ("https://huggingface.co/papers/2601.06943?x=1#y", "2601.06943", "https://huggingface.co/papers/2601.06943"),
        ("https://arxiv.org/abs/1412.1234", "1412.1234", "https://arxiv.org/abs/1412.1234"),
    ],
)
def test_paper_links_accepted_and_normalised(url: str, pid: str, stored: str) -> None:
    link = paper_link(url)
    assert (link.id, link.url) == (pid, stored)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert%28document.domain%29//arxiv.org/abs/2509.02544",
        "javascript://arxiv.org/abs/2509.02544%0Aalert(1)",
        "data:text/html;base64,PHNjcmlwdD4=#arxiv.org/abs/2509.02544",
        "https://evil.example/arxiv.org/abs/2509.02544",
        "https://arxiv.org.evil.example/abs/2509.02544",
        "https://arxiv.org@evil.example/abs/2509.02544",
        "https://arxiv.org/abs/2509.010559",
        "https://arxiv.org/abs/2509.02544x",
        "https://arxiv.org/abs/2509.02544 https://evil.example",
        "https://arxiv.org/papers/2509.02544",
        "https://huggingface.co/abs/2509.02544",
        "https://arxiv.org:8443/abs/2509.02544",
        "ftp://arxiv.org/abs/2509.02544",
        "//arxiv.org/abs/2509.02544",
        "arxiv.org/abs/2509.02544",
        "https://arxiv.org/abs/0000.0000",
        "https://arxiv.org/abs/2599.00032",
        "https://arxiv.org/abs/2509.1234",  # 4 digits after 2014
        "https://arxiv.org/abs/1401.12345",  # 5 digits before 2015
        "https://arxiv.org/abs/0612.1234",  # before new-style ids
    ],
)
def test_other_links_refused(url: str) -> None:
    with pytest.raises(BadValue):
        paper_link(url)


def test_arxiv_id_months() -> None:
    assert check_arxiv_id("0704.0001") == "0704.0001"
    with pytest.raises(BadValue, match="no month"):
        check_arxiv_id("2500.00001")


@pytest.mark.parametrize("value, ok", [("2025-09-03", True), ("2024-02-29", True), ("2025-02-29", False), ("2025-13-45", False), ("1970-01-01", False)])
def test_dates_are_calendar_dates(value: str, ok: bool) -> None:
    if ok:
        assert check_date(value) == value
    else:
        with pytest.raises(BadValue):
            check_date(value)


def test_upvotes_range() -> None:
    assert check_upvotes("169") == 169
    with pytest.raises(BadValue):
        check_upvotes("9" * 40)


def test_only_newline_and_crlf_end_lines() -> None:
    lines, first = split_lines("a\r\nb\u2028c\x85d\x0be\x0cf\rg\x1b[1mh\x07\ni\tj")
    assert lines == ["a", "b c d e f g[1mh", "i j"] and first == 2


def test_truncate_cuts_at_a_sentence_end_then_a_space() -> None:
    text = "첫 문장입니다. 두 번째 문장은 조금 더 깁니다 그리고 계속됩니다"
    assert truncate(text, 30) == "첫 문장입니다.…"
    assert truncate("가나다 라마바 사아자", 9) == "가나다 라마바…"
    assert truncate("짧다", 10) == "짧다"
    assert len(truncate("x" * 100, 10)) == 10  # no space at all: a hard cut, still bounded


def _p(pid: str, title: str, date: str, src: str) -> Paper:
    return Paper(id=pid, title=title, url="u", date=date, summary=f"{title} 요약", sources=(src,))


def test_conflicting_titles_keep_the_served_then_the_earliest() -> None:
    real, forged = _p("2509.02544", "Real Title", "2025-09-03", "a.md"), _p("2509.02544", "Forged", "2025-01-01", "b.md")
    kept, issues = merge_located([(real, 5), (forged, 7)])
    assert [p.title for p in kept] == ["Forged"] and "b.md:7" in issues[0].reason  # earliest digest, no served index
    # The served record came from a file no longer read (c.md): the served title decides.
    served = replace(real, title="real title!", sources=("c.md",))
    kept, issues = merge_located([(real, 5), (forged, 7)], incumbent=lambda ids: {"2509.02544": served})
    assert [p.title for p in kept] == ["Real Title"] and issues[0].file == "b.md" and issues[0].line == 7
    assert "a.md:5" in issues[0].reason and "'Forged'" in issues[0].reason


def test_the_served_papers_own_digest_keeps_it_even_when_it_renames_it() -> None:
    # a.md, the digest the served paper came from, retitles it; b.md (dated earlier) has
    # the served title: a.md's record is the paper, b.md's is reported and dropped.
    served = _p("2509.02544", "Old Title", "2025-09-03", "a.md")
    renamed, copy = replace(served, title="New Title"), replace(served, date="2025-01-01", sources=("b.md",))
    kept, issues = merge_located([(copy, 2), (renamed, 9)], incumbent=lambda ids: {"2509.02544": served})
    assert [p.title for p in kept] == ["New Title"] and issues[0].file == "b.md"
    assert "the served paper's own digest" in issues[0].reason


def test_agreeing_titles_merge() -> None:
    a = _p("2601.00001", "Same Title", "2026-01-01", "a.md")
    b = replace(a, date="2026-01-05", abstract="초록", sources=("b.md",))
    kept, issues = merge_located([(b, 1), (a, 1)])
    assert issues == [] and kept[0].sources == ("a.md", "b.md") and kept[0].abstract == "초록"


def test_a_title_equal_but_for_case_and_punctuation_is_reported_not_merged_in() -> None:
    a = _p("2601.00001", "Same  Title", "2026-01-01", "a.md")
    b = replace(a, title="same title.", date="2026-01-05", sources=("b.md",))
    kept, issues = merge_located([(b, 4), (a, 1)])
    assert kept[0].title == "Same  Title" and kept[0].sources == ("a.md",)
    assert issues[0].file == "b.md" and issues[0].line == 4
    assert "title: 'same title.' (kept 'Same  Title')" in issues[0].reason and "a.md:1" in issues[0].reason


def test_the_served_text_stays_its_own_when_its_file_is_spelled_otherwise() -> None:
    # Served from a relative path; read now by its absolute path (another working
    # directory), beside a forgery dated earlier with the same title: the served text wins.
    real = _p("2501.00001", "T", "2025-01-05", "/srv/data/digests/2025-01-05.md")
    served = replace(real, sources=("data/digests/2025-01-05.md",))
    forged = replace(real, date="2025-01-01", summary="FORGED", sources=("data/digests/2025-01-01.md",))
    kept, issues = merge_located([(real, 3), (forged, 3)], incumbent=lambda ids: {"2501.00001": served})
    assert kept[0].summary == real.summary and kept[0].date == "2025-01-05"
    assert issues[0].file == "data/digests/2025-01-01.md" and "'FORGED'" in issues[0].reason


def test_a_served_value_from_another_digest_stays_when_that_digest_changes_it() -> None:
    a = _p("2501.00002", "T2", "2025-01-01", "a.md")  # the own digest: no upvotes
    b = replace(a, date="2025-01-05", upvotes=40, sources=("b.md",))
    served = replace(a, upvotes=30, sources=("a.md", "b.md"))  # 30 came from b.md once
    kept, issues = merge_located([(a, 1), (b, 1)], incumbent=lambda ids: {"2501.00002": served})
    assert kept[0].upvotes == 30 and "upvotes: '40' (kept the served '30')" in issues[0].reason
