"""The digest parser on generated input: random bytes and Markdown-shaped junk (paper
headings, look-alike digits, comments, fences, hidden HTML, long runs of spaces) never
raise, and every paper that comes out has an ASCII arXiv id, a canonical link and a
title. How long a file takes is measured by ``python -m bench.parse_bench``, not here."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.parse.digest import parse_text
from index.parse.digest_files import UnreadableDigest, decode_digest

PIECES = [
    "## 1. [", "# 2. [", "### 3. [", "Title", "](", ")", "https://arxiv.org/abs/", "https://huggingface.co/papers/",
    "2509.02544", "２５０９.０２５４４", "٢٥٠٩.٠١٠٥٥", "𝟐𝟓𝟎𝟗", "arxıv.org", "\n", "\n\n", "\r\n", "\r", "\u2028", "\x00",
    "### 📌 요약\n", "### 📝 초록 (번역)\n", "## Method\n", "## Introduction\n- Goal: 목표\n", "**Upvotes**: ", "**Upvotes**",
    "12", "999999999999", "<!--", "-->", "```", "~~~", "    ", "<div hidden>", "</div>", "<script>", "</script>",
    '<p style="display:none">', "<template>", "---\n", "date: 2025-09-03\n", "- ", "* ", "![img](x)", "강화학습", " " * 200, "\t",
]
ID = re.compile(r"^[0-9]{4}\.[0-9]{4,5}$")
URL = re.compile(r"^https://(arxiv\.org/(abs|pdf)|huggingface\.co/papers)/[0-9]{4}\.[0-9]{4,5}(v[0-9]+)?$")


def _check(papers) -> None:
    for p in papers:
        assert ID.match(p.id) and p.id.isascii(), p.id
        assert URL.match(p.url) and p.url.isascii(), p.url
        assert p.title.strip()
        assert p.upvotes is None or 0 <= p.upvotes <= 1_000_000_000


@given(st.lists(st.sampled_from(PIECES), max_size=80), st.integers(0, 3000))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_markdown_shaped_junk_never_raises_and_yields_only_sound_papers(pieces: list[str], spaces: int) -> None:
    text = "".join(pieces)
    text = text[: len(text) // 2] + " " * spaces + text[len(text) // 2 :]  # a long run somewhere
    papers, issues = parse_text(text, "junk.md")
    _check(papers)
    assert all(i.file == "junk.md" and i.reason for i in issues)


@given(st.binary(max_size=4000))
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_bytes_never_raise(raw: bytes) -> None:
    try:
        text = decode_digest(raw)
    except UnreadableDigest:
        return
    papers, _issues = parse_text(text, "bytes.md")
    _check(papers)


def test_a_heading_hidden_every_way_is_no_paper_and_each_is_reported() -> None:
    head = "## {n}. [Paper {n}](https://arxiv.org/abs/2509.0000{n})\n\n### 📌 요약\n요약 {n}\n"
    text = "\n".join(
        [
            "<!--\n" + head.format(n=1) + "-->\n",
            "```\n" + head.format(n=2) + "```\n",
            "~~~\n" + head.format(n=3) + "~~~\n",
            "<div hidden>\n\n" + head.format(n=4) + "\n</div>\n",
            '<div style="visibility: hidden">\n\n' + head.format(n=5) + "\n</div>\n",
            "<template>\n\n" + head.format(n=6) + "\n</template>\n",
            head.format(n=7),
        ]
    )
    papers, issues = parse_text(text, "h.md")
    assert [p.id for p in papers] == ["2509.00007"]
    unseen = [i for i in issues if "paper heading inside" in i.reason]
    headings = [n + 1 for n, line in enumerate(text.split("\n")) if line.startswith("## ") and "Paper 7" not in line]
    assert [i.line for i in unseen] == headings and len(headings) == 6


SHADOW = "# 1. [Shadow](https://arxiv.org/abs/2501.00001)\n\n## Introduction\n\n- Goal: 목표.\n"
REAL = "# 2. [Real](https://arxiv.org/abs/2501.00002)\n\n## Introduction\n\n- Goal: 진짜.\n"


@pytest.mark.parametrize(
    "wrapped",
    [
        '<div title=">" hidden>\n\n' + SHADOW + "\n</div>\n\n",  # a ">" inside a quoted value ends no tag
        '<div style="display:&#110;one">\n\n' + SHADOW + "\n</div>\n\n",  # entities are decoded, as a browser does
        "<DIV HIDDEN>\n\n" + SHADOW + "\n</DIV>\n\n",
        "<dialog>\n\n" + SHADOW + "\n</dialog>\n\n",  # closed unless it says open
        "<datalist>\n\n" + SHADOW + "\n</datalist>\n\n",
        "<div><section hidden><div>\n\n" + SHADOW + "\n</div>\n\n</section></div>\n\n",  # an inner close ends only its own
    ],
)
def test_hidden_html_hides_its_paper_however_it_is_spelled(wrapped: str) -> None:
    papers, issues = parse_text(wrapped + REAL, "h.md")
    assert [p.id for p in papers] == ["2501.00002"]
    assert any("paper heading inside hidden HTML" in i.reason and i.notice for i in issues)


def test_what_a_browser_shows_stays_shown() -> None:
    shown = parse_text('<dialog open>\n\n' + SHADOW + "\n</dialog>\n\n" + REAL, "a.md")[0]
    assert [p.id for p in shown] == ["2501.00001", "2501.00002"]
    # A hidden element closed inside a Markdown paragraph: what follows is visible again.
    after = parse_text("<div hidden>\n\nnote</div>\n\n" + REAL, "b.md")[0]
    assert [p.id for p in after] == ["2501.00002"]


def test_a_tag_that_never_ends_hides_the_rest_as_a_browser_would() -> None:
    for opening in ('<div title="x>\n\n', "<div hidden/>\n\n"):  # an unclosed quote; HTML ignores "/" on a div
        papers, issues = parse_text(opening + SHADOW + "\n" + REAL, "c.md")
        assert papers == [] and sum("paper heading inside hidden HTML" in i.reason for i in issues) == 2


def test_a_daily_heading_in_a_code_block_dates_nothing() -> None:
    papers, _ = parse_text("```\n# 2020-01-01\n```\n\n" + REAL, "2025-02-02.md")
    assert [p.date for p in papers] == ["2025-02-02"]  # from the file name, not the code block
