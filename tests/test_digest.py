"""The parser on the real sample corpus and on hand-made broken digests."""

from __future__ import annotations

import re
from pathlib import Path

from index.parse.digest import parse_file, parse_sources, parse_text

ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")


def _all_ids(digests: Path) -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in digests.glob("*.md"))
    return set(re.findall(r"(?:arxiv\.org/abs|huggingface\.co/papers)/(\d{4}\.\d{4,5})", text))


def test_sample_corpus_parses_every_paper(digests: Path) -> None:
    result = parse_sources([digests])
    ids = {p.id for p in result.papers}
    assert ids == _all_ids(digests)
    assert len(ids) == 72
    assert result.issues == []
    assert result.files == 5
    for p in result.papers:
        assert ARXIV_ID.match(p.id)
        assert p.title and p.url.endswith(p.id)
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", p.date or "")
        assert p.summary, p.id
        assert len(p.sources) == 1


def test_daily_top5_format_fields(digests: Path) -> None:
    papers = {p.id: p for p in parse_sources([digests]).papers}
    p = papers["2601.06943"]
    assert p.title.startswith("Watching, Reasoning, and Searching")
    assert p.date == "2026-01-13"
    assert p.upvotes == 169
    assert p.summary.startswith("본 논문은 영상 시청")
    assert "VideoDR" in p.abstract
    assert len(p.key_points) == 3
    assert not p.key_points[0].startswith("-")
    assert "Thumbnail" not in p.search_text()


def test_post_format_fields(digests: Path) -> None:
    papers = {p.id: p for p in parse_sources([digests]).papers}
    p = papers["2509.02544"]
    assert p.date == "2025-09-03"  # from the front matter, despite the stray quote in title:
    assert p.upvotes is None
    assert set(p.sections) == {"Introduction", "Method", "Results", "Limitations", "Conclusion"}
    # The summary is the Goal and Contribution bullets, labels stripped.
    assert "다중 턴 강화학습" in p.summary and "UI-TARS-2는 데이터 플라이휠" in p.summary
    assert "Goal:" not in p.summary and "Motivation" not in p.summary


def test_post_format_unlabelled_introduction(digests: Path) -> None:
    papers = {p.id: p for p in parse_sources([digests]).papers}
    p = papers["2509.01215"]  # its Introduction bullets carry no Goal:/Contribution: labels
    assert p.summary.startswith("본 논문의 목표는")


def test_corrupted_heading_emoji_file(digests: Path) -> None:
    text = (digests / "2026-01-29.md").read_text(encoding="utf-8")
    assert "\ufffd" in text
    papers, issues = parse_file(digests / "2026-01-29.md")
    assert issues == []
    assert len(papers) == 5
    for p in papers:
        assert p.summary and p.abstract and p.key_points, p.id
        assert not any("\ufffd" in name for name in p.sections)


def _write(tmp: Path, name: str, content: str | bytes) -> Path:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


GOOD_BLOCK = """## 1. [A Good Paper](https://huggingface.co/papers/2601.00001)
**Upvotes**: 7

### 📌 요약
좋은 논문의 요약입니다.
"""


def test_binary_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "binary.md", bytes(range(256)) * 4)
    papers, issues = parse_file(path)
    assert papers == []
    assert len(issues) == 1 and "binary" in issues[0].reason


def test_non_utf8_file_is_reported_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin1.md", "# 2026-01-01 Daily Papers\n\n## 1. [Caf\xe9]".encode("latin-1"))
    papers, issues = parse_file(path)
    assert papers == [] and issues[0].line == 3 and "UTF-8" in issues[0].reason


def test_empty_file_is_reported(tmp_path: Path) -> None:
    papers, issues = parse_file(_write(tmp_path, "empty.md", "  \n\n"))
    assert papers == [] and issues[0].reason == "empty file"


def test_block_without_link_is_skipped_and_the_rest_kept() -> None:
    text = "# 2026-01-02 Daily Papers (Top 5)\n\n## 1. A title with no link\n\n### 📌 요약\n내용\n\n" + GOOD_BLOCK.replace("## 1.", "## 2.")
    papers, issues = parse_text(text, "x.md")
    assert [p.id for p in papers] == ["2601.00001"]
    assert papers[0].date == "2026-01-02"
    assert issues[0].file == "x.md" and issues[0].line == 3 and "link" in issues[0].reason


def test_truncated_block_is_reported() -> None:
    text = GOOD_BLOCK + "\n## 2. [Cut Off](https://arxiv.org/abs/2601.00002)\n**Upvotes**: 3\n"
    papers, issues = parse_text(text, "t.md")
    assert [p.id for p in papers] == ["2601.00001"]
    assert issues[0].line == 7 and "truncated" in issues[0].reason


def test_link_without_arxiv_id_is_reported() -> None:
    text = "## 1. [Blog Post](https://example.com/post)\n\n### 요약\n내용\n"
    papers, issues = parse_text(text, "b.md")
    assert papers == [] and "arXiv id" in issues[0].reason


def test_file_without_paper_blocks_is_reported() -> None:
    papers, issues = parse_text("# Notes\n\nJust some notes.\n", "notes.md")
    assert papers == [] and "no paper blocks" in issues[0].reason


def test_duplicate_id_across_files_is_one_paper_with_both_sources(tmp_path: Path) -> None:
    a = _write(tmp_path, "2026-01-01.md", "# 2026-01-01 Daily Papers\n\n" + GOOD_BLOCK)
    later = GOOD_BLOCK.replace("**Upvotes**: 7", "**Upvotes**: 30").replace(
        "### 📌 요약", "### 📝 초록 (번역)\n초록 본문입니다.\n\n### 📌 요약"
    )
    b = _write(tmp_path, "2026-01-05.md", "# 2026-01-05 Daily Papers\n\n" + later)
    result = parse_sources([tmp_path])
    assert len(result.papers) == 1
    p = result.papers[0]
    assert p.sources == (str(a), str(b))
    assert p.date == "2026-01-01"  # first seen
    assert p.upvotes == 7  # the paper's own (earliest) digest's count
    assert p.abstract == "초록 본문입니다."  # filled in from the later digest
    # The other count is reported, where it is and both values, and not used.
    (issue,) = result.issues
    assert issue.file == str(b) and issue.line == 3
    assert "upvotes: '30' (kept '7')" in issue.reason and f"{a}:3" in issue.reason


def test_missing_source_is_reported(tmp_path: Path) -> None:
    result = parse_sources([tmp_path / "nope"])
    assert result.papers == [] and result.issues[0].reason == "no such file or folder"


def test_title_with_brackets_and_versioned_url() -> None:
    text = "# 1. [Mini-o3 [v2]: Scaling](https://arxiv.org/abs/2509.07969v3)\n\n## Introduction\n\n- Goal: 목표.\n"
    papers, issues = parse_text(text, "v.md")
    assert issues == []
    assert papers[0].id == "2509.07969" and papers[0].title == "Mini-o3 [v2]: Scaling"
    assert papers[0].summary == "목표."
