"""Parse Markdown paper digests into :class:`Paper` records.

Two formats are in use (see ``data/digests``):

* daily "Top 5" pages: ``# YYYY-MM-DD Daily Papers (Top 5)``, papers as
  ``## N. [Title](https://huggingface.co/papers/ID)`` with ``**Upvotes**: N`` and
  ``### 📌 요약`` / ``### 📝 초록 (번역)`` / ``### 🔑 핵심 포인트`` sections;
* dated posts with YAML front matter, papers as ``# N. [Title](https://arxiv.org/abs/ID)``
  with ``## Introduction`` (Goal / Motivation / Contribution bullets), ``## Method``, ...

Section headings are recognised by their words, never their emoji: one digest has its
emoji corrupted to U+FFFD. A broken file or block is reported as a :class:`ParseIssue`
and skipped; it never stops the rest of the parse. Digests are untrusted input: links,
values, sizes and characters are checked in ``index.parse.digest_values``, files found and
read in ``index.parse.digest_files``, one paper's block read in ``index.parse.digest_block``, and one
id's records reconciled in ``index.parse.digest_merge``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.parse.digest_block import HEADING, PAPER_HEADING, parse_block
from index.parse.digest_files import (
    DIGEST_SUFFIXES,
    UnreadableDigest,
    collect_digest_files,
    decode_digest,
    read_digest_bytes,
)
from index.parse.digest_merge import merge_located, merge_papers
from index.parse.digest_values import (
    MAX_ISSUES_PER_FILE,
    MAX_LINE_CHARS,
    MAX_PARSE_SECONDS,
    BadValue,
    check_date,
    split_lines,
)
from index.parse.digest_visible import ReaderView, reader_view
from search.core.records import Paper, ParseIssue

__all__ = [
    "DIGEST_SUFFIXES", "ParseResult", "collect_digest_files", "merge_papers", "parse_file",
    "parse_file_located", "parse_sources", "parse_text", "resolve_sources",
]

# ASCII digits only ([0-9], not \d): \d and int() accept every script's digits, and a
# fullwidth "２０２５" is no date a reader would type.
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})")
_DAILY_HEADING = re.compile(r"^#\s+([0-9]{4}-[0-9]{2}-[0-9]{2})(?![0-9])")
_PAPER_PREFIX = re.compile(r"^#{1,3}\s+[0-9]+\.")  # cheap test before the full heading match


@dataclass
class ParseResult:
    papers: Sequence[Paper] = field(default_factory=list)  # a lazily decoded Corpus from the parse cache
    issues: list[ParseIssue] = field(default_factory=list)
    files: int = 0
    # Content hash of each paper (``index.artifacts.incremental.record_hash``) where known, else None.
    hashes: list[str] | None = None


def parse_sources(sources: Sequence[Path]) -> ParseResult:
    """Parse every digest under ``sources`` and merge papers seen in several digests."""
    files, issues = collect_digest_files(sources)
    found: list[tuple[Paper, int]] = []
    for path in files:
        papers, lines, file_issues = parse_file_located(path)
        found.extend(zip(papers, lines))
        issues.extend(file_issues)
    papers, conflicts = merge_located(found)
    return ParseResult(papers=papers, issues=issues + conflicts, files=len(files))


def parse_file(path: Path) -> tuple[list[Paper], list[ParseIssue]]:
    papers, _lines, issues = parse_file_located(path)
    return papers, issues


def parse_file_located(path: Path) -> tuple[list[Paper], list[int], list[ParseIssue]]:
    """Papers of one digest file, the line of each one's heading, and the file's problems."""
    name = str(path)
    try:
        text = decode_digest(read_digest_bytes(path))
    except UnreadableDigest as e:
        return [], [], [ParseIssue(name, e.line, e.reason)]
    if not text.strip():
        return [], [], [ParseIssue(name, 0, "empty file")]
    return _parse(text, name)


def parse_text(text: str, source: str) -> tuple[list[Paper], list[ParseIssue]]:
    papers, _lines, issues = _parse(text, source)
    return papers, issues


def _parse(text: str, source: str) -> tuple[list[Paper], list[int], list[ParseIssue]]:
    deadline = time.monotonic() + MAX_PARSE_SECONDS
    lines, unclean = split_lines(text)
    issues: list[ParseIssue] = []
    if unclean:
        issues.append(ParseIssue(source, unclean, "control or line-separator characters made spaces or removed (first on this line)"))
    meta, body_start = _front_matter(lines)
    # What a reader of the rendered digest sees: comments and hidden HTML blanked, code
    # blocks kept as text that starts no paper (index/parse/digest_visible.py).
    view = reader_view(lines, body_start)
    issues += _unseen_papers(lines, view, source)
    lines, plain = view.lines, view.plain
    # A daily heading in a code block or raw HTML dates nothing: it is no heading.
    date = _digest_date(meta, [line for i, line in enumerate(lines) if i >= body_start and i not in plain], source, issues)

    papers: list[Paper] = []
    located: list[int] = []
    starts = [i for i in range(body_start, len(lines)) if i not in plain and _PAPER_PREFIX.match(lines[i])]
    if not starts:
        issues.append(ParseIssue(source, 1, "no paper blocks found (expected '# N. [Title](url)' headings)"))
        return papers, located, issues
    for n, start in enumerate(starts):
        if time.monotonic() > deadline:
            # Every pattern is linear, so this is a safety net, not a path: a file that
            # still takes this long is refused whole rather than stalling a daily build.
            why = f"parsing took over {MAX_PARSE_SECONDS:g} s (at paper {n + 1} of {len(starts)}): file skipped"
            return [], [], _capped([*issues, ParseIssue(source, start + 1, why)], source)
        if len(lines[start]) > MAX_LINE_CHARS:
            issues.append(ParseIssue(source, start + 1, f"paper heading longer than {MAX_LINE_CHARS} characters: paper skipped"))
            continue
        level = len(PAPER_HEADING.match(lines[start]).group(1))
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        end = _block_end(lines, start + 1, end, level, plain)
        paper, block_issues = parse_block(lines, start, end, level, source, date, plain)
        if paper is not None:
            papers.append(paper)
            located.append(start + 1)
        issues.extend(block_issues)
    return papers, located, _capped(issues, source)


def _unseen_papers(lines: list[str], view: ReaderView, source: str) -> list[ParseIssue]:
    """A paper heading no reader sees as one (in a comment, hidden HTML or a code block)
    is reported: it is not indexed, and whoever wrote it should know why."""
    return [
        ParseIssue(source, i + 1, f"paper heading inside {why}: not indexed (no reader of the digest sees it as a paper)", notice=True)
        for i, why in sorted(view.why.items())
        if _PAPER_PREFIX.match(lines[i].lstrip()) and len(lines[i]) <= MAX_LINE_CHARS
    ]


def _capped(issues: list[ParseIssue], source: str) -> list[ParseIssue]:
    """A hostile file can hold 100k broken blocks: report the first ones and a count."""
    if len(issues) <= MAX_ISSUES_PER_FILE:
        return issues
    more = len(issues) - MAX_ISSUES_PER_FILE
    return issues[:MAX_ISSUES_PER_FILE] + [ParseIssue(source, 0, f"{more} more problems in this file not listed")]


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """Top ``---`` block as flat ``key: value`` pairs. Values are not YAML-parsed: the
    digests' ``title:`` lines carry a stray quote that a strict YAML parser rejects."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for i in range(1, min(len(lines), 200)):
        if lines[i].strip() == "---":
            meta = {}
            for line in lines[1:i]:
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    meta[key.strip().lower()] = value.strip().strip("'\"")
            return meta, i + 1
    return {}, 0


def _digest_date(meta: dict[str, str], body: list[str], source: str, issues: list[ParseIssue]) -> str | None:
    """The digest's date: front matter, else a daily heading, else the file name. A
    candidate that is no calendar date is reported and the next one tried."""
    candidates: list[tuple[int, str]] = []
    m = _DATE.search(meta.get("date", ""))
    if m:
        candidates.append((1, m.group(1)))
    for n, line in enumerate(body[:20]):
        m = _DAILY_HEADING.match(line)
        if m:
            candidates.append((n + 1, m.group(1)))
            break
    m = _DATE.search(Path(source).name)
    if m:
        candidates.append((0, m.group(1)))
    for line, value in candidates:
        try:
            return check_date(value)
        except BadValue as e:
            issues.append(ParseIssue(source, line, f"{e}: not used as the digest's date"))
    return None


def _block_end(lines: list[str], start: int, end: int, level: int, plain: Container[int]) -> int:
    """A block ends at the next paper heading or at any heading as high as its own."""
    for i in range(start, end):
        m = None if i in plain else HEADING.match(lines[i])
        if m and len(m.group(1)) <= level:
            return i
    return end


def resolve_sources(sources: Sequence[Path]) -> list[Path]:
    """The digests to build from: those given, else ``$PAPERSEARCH_SOURCE``, else
    ``data/digests`` (the sample corpus, relative to the working directory)."""
    import os

    if sources:
        return [Path(s) for s in sources]
    return [Path(os.environ.get("PAPERSEARCH_SOURCE") or "data/digests")]
