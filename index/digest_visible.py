"""A digest's lines as a reader sees them: what a Markdown renderer hides holds no paper.

A paper block inside an HTML comment, a ``<div hidden>`` (or ``display:none``,
``<template>``, ``<script>``, ``<style>``) is in the file but on no rendered page, and one
inside a fenced or indented code block is shown as code, not as a paper. Which lines are
which is decided by a real CommonMark parser (markdown-it-py, its block rules only: ~1 s
for an 8 MiB file, linear), not by guessing at fences and comments line by line:

* hidden lines (comments, hidden HTML and everything inside it) are blanked;
* code and raw HTML lines keep their text but no structure: they start no paper, no
  section and set no upvotes;
* an inline comment inside a paragraph (``text <!-- spam -->``) is removed from the text.

Each hidden or code line that looks like a paper heading is reported, so a paper nobody
can see is refused out loud, never indexed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

# Element names whose content a browser never shows.
_HIDDEN_ELEMENTS = frozenset({"template", "script", "style", "noscript"})
# HTML elements with no end tag: they open nothing.
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
_HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE | re.ASCII)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark")
    # Block structure is all that decides visibility; inline parsing would double the time.
    md.core.ruler.disable(["inline"])
    return md


_MD = _markdown()


@dataclass
class ReaderView:
    """Line-aligned with the digest: ``lines[i]`` is line ``i`` as a reader sees it."""

    lines: list[str]
    # Lines that carry text but no Markdown structure (code, raw HTML): never a heading.
    plain: set[int] = field(default_factory=set)
    # Line -> why a reader does not see it as Markdown ("an HTML comment", "a code block", ...).
    why: dict[int, str] = field(default_factory=dict)


# One tag: its name and attributes. ``[^<>]*`` stops at the next bracket, so a scan over
# a block is linear whatever it holds (html.parser is not: it raises AssertionError on
# "<![<![" and has quadratic cases in this Python).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]{0,40})([^<>]*)>", re.ASCII)
_HIDDEN_ATTR = re.compile(r"(?:^|\s)hidden(?:\s|=|/|$)", re.IGNORECASE | re.ASCII)


# More open elements than this is no digest: everything after counts as hidden (and the
# stack, searched on each end tag, stays small: no quadratic walk on 100k open tags).
MAX_OPEN = 256


class _HiddenTracker:
    """Follows raw HTML from block to block (an element opened in one HTML block may close
    in a later one, hiding the Markdown between): the open elements, and whether a
    comment is still open."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, bool]] = []  # open elements: (name, hides its content)
        self.hidden_depth = 0  # open elements that hide their content
        self.overflow = False
        self.in_comment = False

    @property
    def hiding(self) -> bool:
        return self.hidden_depth > 0 or self.overflow or self.in_comment

    def visible(self, text: str) -> tuple[str, bool]:
        """One HTML block's text as a reader sees it (comments and hidden elements left
        out, their newlines kept) and whether anything was left out. str.find and an
        anchored tag match, each character looked at a bounded number of times."""
        out: list[str] = []
        hid = False

        def emit(a: int, b: int, hidden: bool) -> None:
            nonlocal hid
            if hidden:
                hid |= a < b
                out.append("\n" * text.count("\n", a, b))
            else:
                out.append(text[a:b])

        i, n = 0, len(text)
        while i < n:
            if self.in_comment:
                end = text.find("-->", i)
                stop = n if end < 0 else end + 3
                emit(i, stop, True)
                self.in_comment = end < 0
                i = stop
                continue
            j = text.find("<", i)
            if j < 0:
                emit(i, n, self.hiding)
                break
            emit(i, j, self.hiding)
            if text.startswith("<!--", j):
                self.in_comment = True
                i = j
                continue
            m = _TAG.match(text, j)
            if m is None:
                emit(j, j + 1, self.hiding)
                i = j + 1
                continue
            before = self.hiding
            self._tag(m.group(1) == "/", m.group(2).lower(), m.group(3))
            emit(j, m.end(), before or self.hiding)  # a hiding element's own tags hide too
            i = m.end()
        return "".join(out), hid

    def close_comment_in(self, text: str) -> bool:
        """Inside an open comment, a Markdown block ends it if it holds ``-->``; True
        when it did (the whole block counts as hidden, conservatively)."""
        if self.in_comment and "-->" in text:
            self.in_comment = False
            return True
        return False

    def _tag(self, closing: bool, tag: str, attrs: str) -> None:
        if closing:
            # The innermost open element of that name, and anything left open inside it.
            for i in range(len(self.stack) - 1, -1, -1):
                if self.stack[i][0] == tag:
                    self.hidden_depth -= sum(hides for _name, hides in self.stack[i:])
                    del self.stack[i:]
                    return
            return
        if tag in _VOID or attrs.rstrip().endswith("/"):
            return
        if len(self.stack) >= MAX_OPEN:
            self.overflow = True
            return
        hides = tag in _HIDDEN_ELEMENTS or bool(_HIDDEN_ATTR.search(attrs) or _HIDING_STYLE.search(attrs))
        self.stack.append((tag, hides))
        self.hidden_depth += hides


def reader_view(lines: list[str], body_start: int = 0) -> ReaderView:
    """``lines`` (front matter before ``body_start`` left as it is) as a reader sees them."""
    out = list(lines)
    view = ReaderView(out)
    html = _HiddenTracker()
    for tok in _MD.parse("\n".join(lines[body_start:])):
        if tok.map is None or tok.nesting != 0:
            continue  # containers: their leaf blocks carry the lines
        a, b = tok.map[0] + body_start, tok.map[1] + body_start
        if tok.type == "html_block":
            text, hid = html.visible("\n".join(out[a:b]))
            out[a:b] = text.split("\n")
            _plain(view, a, b, ("an HTML comment" if "<!--" in tok.content else "hidden HTML") if hid else "an HTML block")
        elif html.hiding:
            ended = html.close_comment_in("\n".join(out[a:b]))
            _hide(view, a, b, "an HTML comment" if ended or html.in_comment else "hidden HTML")
        elif tok.type in ("fence", "code_block"):
            _plain(view, a, b, "a code block")
        elif tok.type == "inline" and "<!--" in tok.content:
            _drop_inline_comments(out, a, b)
    return view


def _hide(view: ReaderView, a: int, b: int, why: str) -> None:
    for i in range(a, b):
        view.why[i] = why
        view.lines[i] = ""


def _plain(view: ReaderView, a: int, b: int, why: str) -> None:
    for i in range(a, b):
        view.why[i] = why
        view.plain.add(i)


def _drop_inline_comments(lines: list[str], a: int, b: int) -> None:
    """Removes ``<!-- ... -->`` from a paragraph's lines (a comment may span lines; its
    newlines are kept, so line numbers stay). str.find, not a regex: linear even on a
    line of unclosed ``<!--``."""
    text = "\n".join(lines[a:b])
    parts: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break  # unclosed: a renderer shows it as text
        parts.append(text[pos:start])
        parts.append("\n" * text.count("\n", start, end))
        pos = end + 3
    if not parts:
        return
    parts.append(text[pos:])
    lines[a:b] = "".join(parts).split("\n")
