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
values, sizes and characters are checked in ``index.digest_values``, files found and
read in ``index.digest_files``, and one id's records reconciled in ``index.digest_merge``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.digest_files import DIGEST_SUFFIXES, UnreadableDigest, collect_digest_files, decode_digest, read_digest_bytes
from index.digest_merge import merge_located, merge_papers
from index.digest_values import (
    MAX_FIELD_CHARS,
    MAX_ISSUES_PER_FILE,
    MAX_LINE_CHARS,
    MAX_PAPER_CHARS,
    MAX_SECTIONS,
    MAX_TITLE_CHARS,
    BadValue,
    check_date,
    check_upvotes,
    paper_link,
    split_lines,
    truncate,
)
from search.records import Paper, ParseIssue

__all__ = [
    "DIGEST_SUFFIXES", "ParseResult", "collect_digest_files", "merge_papers", "parse_file",
    "parse_file_located", "parse_sources", "parse_text", "resolve_sources",
]

_PAPER_HEADING = re.compile(r"^(#{1,3})\s+(\d+)\.\s*(.*?)\s*$")
_TITLE_LINK = re.compile(r"^\[(?P<title>.+)\]\((?P<url>[^()\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_DAILY_HEADING = re.compile(r"^#\s+(\d{4}-\d{2}-\d{2})\b")
_UPVOTES = re.compile(r"^\*\*Upvotes\*\*\s*:?\s*(\d+)", re.IGNORECASE)
_PAPER_PREFIX = re.compile(r"^#{1,3}\s+\d+\.")  # cheap test before the full heading match
_IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)\s*$")
_RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_LABELLED = re.compile(r"^(?P<label>[A-Za-z][A-Za-z ]{1,30}):\s*(?P<text>.+)$")

# Introduction bullets that state what the paper does: the summary of the post format.
_SUMMARY_LABELS = ("goal", "contribution")


@dataclass
class ParseResult:
    papers: Sequence[Paper] = field(default_factory=list)  # a lazily decoded Corpus from the parse cache
    issues: list[ParseIssue] = field(default_factory=list)
    files: int = 0
    # Content hash of each paper (``index.incremental.record_hash``) where known, else None.
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
    lines, unclean = split_lines(text)
    issues: list[ParseIssue] = []
    if unclean:
        issues.append(ParseIssue(source, unclean, "control or line-separator characters made spaces or removed (first on this line)"))
    meta, body_start = _front_matter(lines)
    date = _digest_date(meta, lines[body_start:], source, issues)

    papers: list[Paper] = []
    located: list[int] = []
    starts = [i for i in range(body_start, len(lines)) if _PAPER_PREFIX.match(lines[i])]
    if not starts:
        issues.append(ParseIssue(source, 1, "no paper blocks found (expected '# N. [Title](url)' headings)"))
        return papers, located, issues
    for n, start in enumerate(starts):
        if len(lines[start]) > MAX_LINE_CHARS:
            issues.append(ParseIssue(source, start + 1, f"paper heading longer than {MAX_LINE_CHARS} characters: paper skipped"))
            continue
        level = len(_PAPER_HEADING.match(lines[start]).group(1))
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        end = _block_end(lines, start + 1, end, level)
        paper, block_issues = _parse_block(lines, start, end, level, source, date)
        if paper is not None:
            papers.append(paper)
            located.append(start + 1)
        issues.extend(block_issues)
    return papers, located, _capped(issues, source)


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


def _block_end(lines: list[str], start: int, end: int, level: int) -> int:
    """A block ends at the next paper heading or at any heading as high as its own."""
    for i in range(start, end):
        m = _HEADING.match(lines[i])
        if m and len(m.group(1)) <= level:
            return i
    return end


def _parse_block(
    lines: list[str], start: int, end: int, level: int, source: str, date: str | None
) -> tuple[Paper | None, list[ParseIssue]]:
    lineno = start + 1
    heading = _PAPER_HEADING.match(lines[start]).group(3)
    link = _TITLE_LINK.match(heading)
    if not link:
        return None, [ParseIssue(source, lineno, "paper heading has no [title](url) link: paper skipped")]
    try:
        target = paper_link(link.group("url"))
    except BadValue as e:
        return None, [ParseIssue(source, lineno, f"{e}: paper skipped")]
    title = " ".join(link.group("title").split())
    if not title:
        return None, [ParseIssue(source, lineno, "paper heading has an empty title: paper skipped")]
    issues: list[ParseIssue] = []
    if len(title) > MAX_TITLE_CHARS:
        title = truncate(title, MAX_TITLE_CHARS)
        issues.append(ParseIssue(source, lineno, f"title longer than {MAX_TITLE_CHARS} characters: truncated, paper kept"))

    upvotes: int | None = None
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for n in range(start + 1, end):
        line = lines[n]
        m = _HEADING.match(line)
        if m and len(m.group(1)) > level:
            current = _section_name(m.group(2))
            if current not in sections and len(sections) >= MAX_SECTIONS:
                issues.append(ParseIssue(source, n + 1, f"more than {MAX_SECTIONS} sections: the rest of the paper dropped, paper kept"))
                break
            sections.setdefault(current, [])
            continue
        up = _UPVOTES.match(line.strip())
        if up:
            try:
                upvotes = check_upvotes(up.group(1))
            except BadValue as e:
                issues.append(ParseIssue(source, n + 1, f"{e}: upvotes left empty"))
            continue
        if _IMAGE.match(line.strip()) or _RULE.match(line.strip()):
            continue
        if current is not None:
            sections[current].append(line.rstrip())
        elif line.strip():
            sections.setdefault("", []).append(line.rstrip())

    summary = _text(sections.pop("summary", []))
    abstract = _text(sections.pop("abstract", []))
    key_points = tuple(_bullets(sections.pop("key_points", [])))
    other = {name: _text(body) for name, body in sections.items() if _text(body)}
    if not summary:
        summary = _labelled_summary(other.get("Introduction", ""))
    if not (summary or abstract or key_points or other):
        return None, issues + [ParseIssue(source, lineno, "paper block has no content (truncated?): paper skipped")]
    budget = _Budget()
    summary, abstract = budget.cut(summary), budget.cut(abstract)
    key_points = tuple(k for k in map(budget.cut, key_points) if k)
    other = {name: text for name, text in ((name, budget.cut(body)) for name, body in other.items()) if text}
    if budget.cut_fields:
        issues.append(ParseIssue(source, lineno, budget.report()))

    paper = Paper(
        id=target.id,
        title=title,
        url=target.url,
        date=date,
        upvotes=upvotes,
        summary=summary,
        abstract=abstract,
        key_points=key_points,
        sections=other,
        sources=(source,),
    )
    return paper, issues


class _Budget:
    """Cuts each text field to ``MAX_FIELD_CHARS`` and the paper to ``MAX_PAPER_CHARS``
    (fields in record order: summary, abstract, key points, sections), so tokenizing one
    paper costs a bounded time whatever the digest holds."""

    def __init__(self) -> None:
        self.left = MAX_PAPER_CHARS
        self.cut_fields = 0
        self.over_paper = False

    def cut(self, text: str) -> str:
        limit = min(MAX_FIELD_CHARS, self.left)
        if len(text) > limit:
            self.cut_fields += 1
            self.over_paper |= limit < MAX_FIELD_CHARS
            text = truncate(text, limit) if limit > 1 else ""
        self.left = max(0, self.left - len(text))
        return text

    def report(self) -> str:
        why = f"paper text over {MAX_PAPER_CHARS} characters" if self.over_paper else f"field over {MAX_FIELD_CHARS} characters"
        return f"{why}: {self.cut_fields} field(s) truncated, paper kept"


def _section_name(heading: str) -> str:
    """Classify a section heading by its words (emoji may be corrupted to U+FFFD)."""
    words = re.sub(r"[^\w\s()]", " ", heading[:200]).strip()[:100]
    low = words.lower()
    if "요약" in low or "summary" in low or "tl;dr" in low:
        return "summary"
    if "초록" in low or "abstract" in low:
        return "abstract"
    if "핵심" in low or "key point" in low or "takeaway" in low:
        return "key_points"
    return " ".join(words.split()) or "notes"


def _text(lines: Iterable[str]) -> str:
    # Paragraphs joined by one newline; Markdown's trailing-space line breaks dropped.
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if line:
            out.append(line)
    return "\n".join(out)


def _bullets(lines: Iterable[str]) -> list[str]:
    items: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if _BULLET.match(line) or not items:
            items.append(_BULLET.sub("", line).strip())
        else:  # a wrapped continuation of the previous bullet
            items[-1] = f"{items[-1]} {line.strip()}"
    return items


def _labelled_summary(intro: str) -> str:
    """``- Goal: ...`` and ``- Contribution: ...`` bullets say what the paper does. Some
    posts drop the labels but keep the order Goal, Motivation, Contribution: then the
    first and the last bullet serve."""
    items = _bullets(intro.splitlines())
    picked = []
    labelled = False
    for item in items:
        m = _LABELLED.match(item)
        if m:
            labelled = True
            if m.group("label").strip().lower() in _SUMMARY_LABELS:
                picked.append(m.group("text").strip())
    if not labelled and items:
        picked = [items[0]] if len(items) == 1 else [items[0], items[-1]]
    return " ".join(picked)


def resolve_sources(sources: Sequence[Path]) -> list[Path]:
    """The digests to build from: those given, else ``$PAPERSEARCH_SOURCE``, else
    ``data/digests`` (the sample corpus, relative to the working directory)."""
    import os

    if sources:
        return [Path(s) for s in sources]
    return [Path(os.environ.get("PAPERSEARCH_SOURCE") or "data/digests")]
