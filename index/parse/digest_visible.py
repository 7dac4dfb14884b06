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

import html
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

# Element names whose content a browser never shows (a <dialog> without ``open`` too).
_HIDDEN_ELEMENTS = frozenset({"template", "script", "style", "noscript", "noembed", "noframes", "datalist", "title"})
# HTML elements with no end tag: they open nothing. ``<div/>`` is no such thing: HTML
# ignores the slash on other elements, so ``<div hidden/>`` hides what follows.
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
_HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|content-visibility\s*:\s*hidden", re.IGNORECASE | re.ASCII)


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


# A tag as an HTML tokenizer reads one: ``<`` and a letter start it, it ends at the first
# ``>`` outside a quoted attribute value, and a value is quoted only right after ``=``.
# Each piece is an anchored match that consumes what it reads: linear in the block, and
# no html.parser (it raises AssertionError on "<![<![" and has quadratic cases here).
_NAME = re.compile(r"[A-Za-z][^\s/>]*")
_GAP = re.compile(r"[\s/]*")
_ATTR_NAME = re.compile(r"[^\s/>][^\s/>=]*")
_EQUALS = re.compile(r"\s*=\s*")
_UNQUOTED = re.compile(r"[^\s>]*")
# More open elements than this is no digest: everything after counts as hidden (and the
# stack, searched on each end tag, stays small: no quadratic walk on 100k open tags).
MAX_OPEN = 1024


def _scan_tag(text: str, i: int) -> tuple[int, bool, str, dict[str, str]] | None | bool:
    """The tag at ``text[i] == "<"``: (end, closing, name, attributes, values unescaped);
    None when it is no tag (``<`` is then text); False when it never ends in this text
    (an unclosed quote or no ``>``: a browser reads the rest as inside the tag)."""
    n = len(text)
    j = i + 1
    closing = text.startswith("/", j)
    m = _NAME.match(text, j + closing)
    if m is None:
        return None
    name, j = m.group().lower(), m.end()
    attrs: dict[str, str] = {}
    while True:
        j = _GAP.match(text, j).end()
        if j >= n:
            return False
        if text[j] == ">":
            return j + 1, closing, name, attrs
        m = _ATTR_NAME.match(text, j)
        key, j = m.group().lower(), m.end()
        value = ""
        eq = _EQUALS.match(text, j)
        if eq is not None and eq.end() > j:
            j = eq.end()
            if j < n and text[j] in "\"'":
                close = text.find(text[j], j + 1)
                if close < 0:
                    return False
                value, j = text[j + 1 : close], close + 1
            else:
                m = _UNQUOTED.match(text, j)
                value, j = m.group(), m.end()
        attrs.setdefault(key, html.unescape(value))


def _hides(name: str, attrs: dict[str, str]) -> bool:
    if name in _HIDDEN_ELEMENTS or "hidden" in attrs or (name == "dialog" and "open" not in attrs):
        return True
    return bool(_HIDING_STYLE.search(attrs.get("style", "")))


class _HiddenTracker:
    """Follows raw HTML from block to block (an element opened in one HTML block may close
    in a later one, hiding the Markdown between): the open elements, whether a comment is
    still open, and whether a tag never ended (then everything after is hidden, as a
    browser would read it all as that tag's attributes)."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, bool]] = []  # open elements: (name, hides its content)
        self.hidden_depth = 0  # open elements that hide their content
        self.broken = False  # too many open elements, or a tag that never ended
        self.in_comment = False

    @property
    def hiding(self) -> bool:
        return self.hidden_depth > 0 or self.broken or self.in_comment

    def visible(self, text: str, structure: bool = True) -> tuple[str, bool]:
        """One block's text as a reader sees it (comments and hidden elements left out,
        their newlines kept) and whether anything was left out. ``structure``: follow
        tags (raw HTML, or any text while inside a hidden element); else comments only."""
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
            if self.broken:
                emit(i, n, True)
                break
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
            tag = _scan_tag(text, j) if structure else None
            if tag is False:
                self.broken = True
                continue
            if tag is None:
                emit(j, j + 1, self.hiding)
                i = j + 1
                continue
            end, closing, name, attrs = tag
            before = self.hiding
            self._tag(closing, name, attrs)
            emit(j, end, before or self.hiding)  # a hiding element's own tags hide too
            i = end
        return "".join(out), hid

    def _tag(self, closing: bool, name: str, attrs: dict[str, str]) -> None:
        if closing:
            # The innermost open element of that name, and anything left open inside it.
            for i in range(len(self.stack) - 1, -1, -1):
                if self.stack[i][0] == name:
                    self.hidden_depth -= sum(hides for _name, hides in self.stack[i:])
                    del self.stack[i:]
                    return
            return
        if name in _VOID:
            return
        if len(self.stack) >= MAX_OPEN:
            self.broken = True
            return
        hides = _hides(name, attrs)
        self.stack.append((name, hides))
        self.hidden_depth += hides


def reader_view(lines: list[str], body_start: int = 0) -> ReaderView:
    """``lines`` (front matter before ``body_start`` left as it is) as a reader sees them."""
    out = list(lines)
    view = ReaderView(out)
    tracker = _HiddenTracker()
    for tok in _MD.parse("\n".join(lines[body_start:])):
        if tok.map is None or tok.nesting != 0:
            continue  # containers: their leaf blocks carry the lines
        a, b = tok.map[0] + body_start, tok.map[1] + body_start
        if tok.type == "html_block":
            text, hid = tracker.visible("\n".join(out[a:b]))
            out[a:b] = text.split("\n")
            _plain(view, a, b, ("an HTML comment" if "<!--" in tok.content else "hidden HTML") if hid else "an HTML block")
        elif tracker.hiding:
            # Inside a comment or a hidden element: its end may be in this Markdown block
            # (``note</div>``); what follows the end is seen.
            was_comment = tracker.in_comment
            text, _hid = tracker.visible("\n".join(out[a:b]))
            out[a:b] = text.split("\n")
            for i in range(a, b):
                view.why.setdefault(i, "an HTML comment" if was_comment else "hidden HTML")
            if tok.type in ("fence", "code_block"):
                _plain(view, a, b, "a code block")
        elif tok.type in ("fence", "code_block"):
            _plain(view, a, b, "a code block")
        elif tok.type == "inline" and "<!--" in tok.content:
            _drop_inline_comments(out, a, b)
    return view


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
