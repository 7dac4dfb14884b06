"""One paper's block of a digest, from its ``N. [Title](url)`` heading to the next one:
the paper's link, title, upvotes and sections, every text field cut to its budget.

Section headings are recognised by their words, never their emoji (one digest has its
emoji corrupted to U+FFFD). ``index/parse/digest.py`` finds the blocks in a file.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable

from index.parse.digest_values import (
    MAX_FIELD_CHARS,
    MAX_PAPER_CHARS,
    MAX_SECTIONS,
    MAX_TITLE_CHARS,
    BadValue,
    check_upvotes,
    paper_link,
    truncate,
)
from search.core.records import Paper, ParseIssue

# Every pattern here reads untrusted lines, so none may backtrack super-linearly: no two
# adjacent quantifiers that can match the same characters (``(.*?)\s*$`` took minutes on
# a heading of a million spaces; ``\s*:?\s*`` 23 s on 40,000). Surrounding space is
# stripped in Python instead. Digits are ASCII ([0-9]): ``\d`` takes every script's.
PAPER_HEADING = re.compile(r"^(#{1,3})\s+([0-9]+)\.(.*)$")
_TITLE_LINK = re.compile(r"^\[(?P<title>.+)\]\((?P<url>[^()\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_UPVOTES = re.compile(r"^\*\*Upvotes\*\*\s*(?::\s*)?([0-9]+)", re.IGNORECASE)
_IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)\s*$")
_RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_LABELLED = re.compile(r"^(?P<label>[A-Za-z][A-Za-z ]{1,30}):\s*(?P<text>.+)$")

# Introduction bullets that state what the paper does: the summary of the post format.
_SUMMARY_LABELS = ("goal", "contribution")


def parse_block(
    lines: list[str], start: int, end: int, level: int, source: str, date: str | None,
    plain: Container[int] = frozenset(),
) -> tuple[Paper | None, list[ParseIssue]]:
    """The paper of block ``lines[start:end]`` (its heading at ``start``, ``level`` #s deep)
    and the block's problems; None when the block is skipped. ``plain``: lines of code or
    raw HTML (``index.parse.digest_visible``), text without structure: no heading, no upvotes."""
    lineno = start + 1
    heading = PAPER_HEADING.match(lines[start]).group(3).strip()
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
        if n not in plain:  # code and raw HTML lines are text, whatever they look like
            m = HEADING.match(line)
            if m and len(m.group(1)) > level:
                current = _section_name(m.group(2))
                if current not in sections and len(sections) >= MAX_SECTIONS:
                    issues.append(ParseIssue(source, n + 1, f"more than {MAX_SECTIONS} sections: the rest of the paper dropped, paper kept"))
                    break
                sections.setdefault(current, [])
                continue
            bare = line.strip()
            up = _UPVOTES.match(bare)
            if up:
                try:
                    upvotes = check_upvotes(up.group(1))
                except BadValue as e:
                    issues.append(ParseIssue(source, n + 1, f"{e}: upvotes left empty"))
                continue
            if _IMAGE.match(bare) or _RULE.match(bare):
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
    words = re.sub(r"[^\w\s()]", " ", heading.strip()[:200]).strip()[:100]
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
