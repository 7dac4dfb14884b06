"""Parse Markdown paper digests into :class:`Paper` records.

Two formats are in use (see ``data/digests``):

* daily "Top 5" pages: ``# YYYY-MM-DD Daily Papers (Top 5)``, papers as
  ``## N. [Title](https://huggingface.co/papers/ID)`` with ``**Upvotes**: N`` and
  ``### 📌 요약`` / ``### 📝 초록 (번역)`` / ``### 🔑 핵심 포인트`` sections;
* dated posts with YAML front matter, papers as ``# N. [Title](https://arxiv.org/abs/ID)``
  with ``## Introduction`` (Goal / Motivation / Contribution bullets), ``## Method``, ...

Section headings are recognised by their words, never their emoji: one digest has its
emoji corrupted to U+FFFD. A broken file or block is reported as a :class:`ParseIssue`
and skipped; it never stops the rest of the parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.records import Paper, ParseIssue

DIGEST_SUFFIXES = (".md", ".markdown")

_PAPER_HEADING = re.compile(r"^(#{1,3})\s+(\d+)\.\s*(.*?)\s*$")
_TITLE_LINK = re.compile(r"^\[(?P<title>.+)\]\((?P<url>[^()\s]+)\)")
_ARXIV_ID = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/(?P<id>\d{4}\.\d{4,5})(?:v\d+)?",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_DAILY_HEADING = re.compile(r"^#\s+(\d{4}-\d{2}-\d{2})\b")
_UPVOTES = re.compile(r"^\*\*Upvotes\*\*\s*:?\s*(\d+)", re.IGNORECASE)
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


def collect_digest_files(sources: Sequence[Path]) -> tuple[list[Path], list[ParseIssue]]:
    """Digest files under the given files/folders, in a stable order."""
    files: list[Path] = []
    issues: list[ParseIssue] = []
    for src in sources:
        src = Path(src)
        if src.is_file():
            files.append(src)
        elif src.is_dir():
            files.extend(
                sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in DIGEST_SUFFIXES)
            )
        else:
            issues.append(ParseIssue(str(src), 0, "no such file or folder"))
    return files, issues


def parse_sources(sources: Sequence[Path]) -> ParseResult:
    """Parse every digest under ``sources`` and merge papers seen in several digests."""
    files, issues = collect_digest_files(sources)
    found: list[Paper] = []
    for path in files:
        papers, file_issues = parse_file(path)
        found.extend(papers)
        issues.extend(file_issues)
    return ParseResult(papers=merge_papers(found), issues=issues, files=len(files))


def parse_file(path: Path) -> tuple[list[Paper], list[ParseIssue]]:
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        return [], [ParseIssue(name, 0, f"cannot read file: {e.strerror or e}")]
    if b"\x00" in raw:
        return [], [ParseIssue(name, 0, "binary file, not a Markdown digest")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [ParseIssue(name, _line_of(raw, e.start), "not UTF-8 text (binary file?)")]
    if not text.strip():
        return [], [ParseIssue(name, 0, "empty file")]
    return parse_text(text, name)


def parse_text(text: str, source: str) -> tuple[list[Paper], list[ParseIssue]]:
    lines = text.splitlines()
    meta, body_start = _front_matter(lines)
    date = _digest_date(meta, lines[body_start:], source)

    papers: list[Paper] = []
    issues: list[ParseIssue] = []
    starts = [i for i in range(body_start, len(lines)) if _PAPER_HEADING.match(lines[i])]
    if not starts:
        issues.append(ParseIssue(source, 1, "no paper blocks found (expected '# N. [Title](url)' headings)"))
        return papers, issues
    for n, start in enumerate(starts):
        level = len(_PAPER_HEADING.match(lines[start]).group(1))
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        end = _block_end(lines, start + 1, end, level)
        paper, issue = _parse_block(lines, start, end, level, source, date)
        if paper is not None:
            papers.append(paper)
        if issue is not None:
            issues.append(issue)
    return papers, issues


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


def _digest_date(meta: dict[str, str], body: list[str], source: str) -> str | None:
    m = _DATE.search(meta.get("date", ""))
    if m:
        return m.group(1)
    for line in body[:20]:
        m = _DAILY_HEADING.match(line)
        if m:
            return m.group(1)
    m = _DATE.search(Path(source).name)
    return m.group(1) if m else None


def _block_end(lines: list[str], start: int, end: int, level: int) -> int:
    """A block ends at the next paper heading or at any heading as high as its own."""
    for i in range(start, end):
        m = _HEADING.match(lines[i])
        if m and len(m.group(1)) <= level:
            return i
    return end


def _parse_block(
    lines: list[str], start: int, end: int, level: int, source: str, date: str | None
) -> tuple[Paper | None, ParseIssue | None]:
    lineno = start + 1
    heading = _PAPER_HEADING.match(lines[start]).group(3)
    link = _TITLE_LINK.match(heading)
    if not link:
        return None, ParseIssue(source, lineno, "paper heading has no [title](url) link")
    url = link.group("url")
    id_match = _ARXIV_ID.search(url)
    if not id_match:
        return None, ParseIssue(source, lineno, f"no arXiv id in link {url}")
    title = " ".join(link.group("title").split())
    if not title:
        return None, ParseIssue(source, lineno, "paper heading has an empty title")

    upvotes: int | None = None
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines[start + 1 : end]:
        m = _HEADING.match(line)
        if m and len(m.group(1)) > level:
            current = _section_name(m.group(2))
            sections.setdefault(current, [])
            continue
        up = _UPVOTES.match(line.strip())
        if up:
            upvotes = int(up.group(1))
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
        return None, ParseIssue(source, lineno, "paper block has no content (truncated?)")

    paper = Paper(
        id=id_match.group("id"),
        title=title,
        url=url,
        date=date,
        upvotes=upvotes,
        summary=summary,
        abstract=abstract,
        key_points=key_points,
        sections=other,
        sources=(source,),
    )
    return paper, None


def _section_name(heading: str) -> str:
    """Classify a section heading by its words (emoji may be corrupted to U+FFFD)."""
    words = re.sub(r"[^\w\s()]", " ", heading).strip()
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


def merge_papers(papers: Iterable[Paper]) -> list[Paper]:
    """One record per arXiv id. The earliest digest's text wins; later digests fill gaps
    and add their file to ``sources``; upvotes keep the highest count seen."""
    merged: dict[str, Paper] = {}
    for p in sorted(papers, key=lambda p: (p.date or "9999", p.sources)):
        old = merged.get(p.id)
        if old is None:
            merged[p.id] = p
            continue
        ups = [u for u in (old.upvotes, p.upvotes) if u is not None]
        merged[p.id] = Paper(
            id=old.id,
            title=old.title or p.title,
            url=old.url or p.url,
            date=old.date or p.date,
            upvotes=max(ups) if ups else None,
            summary=old.summary or p.summary,
            abstract=old.abstract or p.abstract,
            key_points=old.key_points or p.key_points,
            sections={**p.sections, **old.sections},
            sources=tuple(dict.fromkeys(old.sources + p.sources)),
        )
    return sorted(merged.values(), key=lambda p: (p.date or "", p.id))


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def resolve_sources(sources: Sequence[Path]) -> list[Path]:
    """The digests to build from: those given, else ``$PAPERSEARCH_SOURCE``, else
    ``data/digests`` (the sample corpus, relative to the working directory)."""
    import os

    if sources:
        return [Path(s) for s in sources]
    return [Path(os.environ.get("PAPERSEARCH_SOURCE") or "data/digests")]
