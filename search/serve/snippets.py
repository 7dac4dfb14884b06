"""Snippets for search hits, with the matched terms highlighted in the original text.

BM25 matches morphemes, not characters: the query "강화학습" matches "강화 학습을" through
the terms 강화 and 학습. So highlighting marks the *surface spans* of kept morphemes whose
term was matched, which a plain substring search would get wrong for particles, spacing and
English stems ("agents" -> agent).

The morphemes of every field come from the build (``index/artifacts/snippet_build.py``), read here
memory-mapped (``search/stores/snippet_spans.py``): Kiwi at query time cost ~0.6 ms per field,
most of a request. A build made before those files existed falls back to analysing the
hit's fields with Kiwi (cached).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from search.core.fields import flatten, raw_fields
from search.core.records import Paper
from search.core.tokenizer import KiwiTokenizer
from search.stores.snippet_spans import Best, StoredSpans

WINDOW = 220  # characters shown, about two lines of Korean prose
LEAD = 40  # context kept before the first match in the window
CACHE_SIZE = 4096  # analysed (paper, field) texts kept; the sample corpus needs ~300


@dataclass(frozen=True)
class Snippet:
    text: str  # plain text of the window (with "…" where cut)
    html: str  # the same, HTML-escaped, matches wrapped in <mark>
    field: str  # which part of the record it was taken from
    spans: list[tuple[int, int]]  # [start, end) of each highlight within ``text``

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "html": self.html, "field": self.field, "spans": [list(s) for s in self.spans]}


class Snippeter:
    """Picks and highlights a snippet per hit. Morphemes come from ``stored`` (the build's
    files) when given; otherwise Kiwi analyses stored texts, cached, since they never
    change for a loaded build (one Snippeter lives as long as one engine)."""

    def __init__(self, tokenizer: KiwiTokenizer, window: int = WINDOW, stored: StoredSpans | None = None) -> None:
        self.tokenizer = tokenizer
        self.window = window
        self.stored = stored
        self._cache: dict[tuple[str, str], list[tuple[str, int, int]]] = {}

    def for_paper(self, paper: Paper, terms: Iterable[str], row: int | None = None) -> Snippet:
        """``row``: the paper's papers.jsonl row, which finds its stored morphemes."""
        return self.for_papers([paper], [terms], [row])[0]

    def for_papers(
        self, papers: Sequence[Paper], terms: Sequence[Iterable[str]], rows: Sequence[int | None]
    ) -> list[Snippet]:
        """One snippet per paper, highlighting its own ``terms``; the stored morphemes of
        all of them are looked up together."""
        wanted = [frozenset(t) for t in terms]
        fields = [raw_fields(p) for p in papers]
        best: list[Best | None] = [None] * len(papers)
        todo = [i for i, r in enumerate(rows) if r is not None] if self.stored is not None else []
        if todo and self.stored is not None:
            found = self.stored.best_fields(
                [rows[i] for i in todo], [len(fields[i]) for i in todo], [wanted[i] for i in todo]  # type: ignore[misc]
            )
            for i, b in zip(todo, found):
                best[i] = b
        return [
            self._pick(p, f, w) if b is None else self._stored(f, b)
            for p, f, w, b in zip(papers, fields, wanted, best)
        ]

    def _stored(self, fields: list[tuple[str, str]], best: Best) -> Snippet:
        if not fields:
            return Snippet("", "", "none", [])
        i, spans = best
        name, raw = fields[i]
        text = flatten(raw)  # stored offsets are into the flattened text
        return cut(text, merge(spans, text), self.window, name)

    def _pick(self, paper: Paper, fields: list[tuple[str, str]], wanted: frozenset[str]) -> Snippet:
        """Kiwi's choice, for a build without stored morphemes: the same rule as
        :meth:`StoredSpans.best_fields`."""
        # Score: distinct matched terms, then matches; a tie keeps the earlier (more
        # readable) field, so the summary wins unless another part covers more of the query.
        best: tuple[tuple[int, int], str, str, list[tuple[str, int, int]]] | None = None
        for name, raw in fields:
            text = flatten(raw)
            found = self._matches(paper.id, name, text, wanted) if wanted else []
            score = (len({term for term, _s, _e in found}), len(found))
            if best is None or score > best[0]:
                best = (score, name, text, found)
            if not wanted:
                break  # nothing to look for: the first field (the summary) will do
        if best is None:
            return Snippet("", "", "none", [])
        _, name, text, found = best
        return cut(text, merge([(s, e) for _t, s, e in found], text), self.window, name)

    def _matches(self, pid: str, name: str, text: str, wanted: frozenset[str]) -> list[tuple[str, int, int]]:
        key = (pid, name)
        toks = self._cache.get(key)
        if toks is None:
            toks = [(t.term, t.start, t.end) for t in self.tokenizer.analyze(text)]
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()  # crude but bounded; a real corpus refills it quickly
            self._cache[key] = toks
        return [tok for tok in toks if tok[0] in wanted]


def merge(spans: Sequence[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans; neighbours separated by nothing or spaces only join
    ("강화" + "학습" in "강화학습" is one highlight)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and (s <= out[-1][1] or not text[out[-1][1] : s].strip()):
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def cut(text: str, spans: Sequence[tuple[int, int]], window: int, field: str = "text") -> Snippet:
    """The ``window`` characters of ``text`` holding the most highlights, with spans
    re-based onto the cut text."""
    if len(text) <= window:
        start, end = 0, len(text)
    else:
        start = _densest_start(spans, window)
        start = max(0, start - LEAD) if start else 0
        start = _snap_left(text, start)
        end = min(len(text), start + window)
        end = _snap_right(text, end)
    inside = [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    body = text[start:end]
    shift = len(prefix) - start
    rel = [(s + shift, e + shift) for s, e in inside]
    plain = prefix + body + suffix
    return Snippet(plain, render_html(plain, rel), field, rel)


def render_html(text: str, spans: Sequence[tuple[int, int]]) -> str:
    # html.escape changes a text exactly when it holds one of these: most snippets hold
    # none, and then need no escaping call per piece (~60 an answer).
    escape = html.escape if _HTML_SPECIAL.search(text) else str
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        parts.append(escape(text[pos:s]))
        parts.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    parts.append(escape(text[pos:]))
    return "".join(parts)


_HTML_SPECIAL = re.compile("[&<>\"']")


def _densest_start(spans: Sequence[tuple[int, int]], window: int) -> int:
    """Start of the span that opens the window covering the most spans (two pointers)."""
    best_start, best_count, j = 0, 0, 0
    for i, (s, _e) in enumerate(spans):
        j = max(j, i)
        while j < len(spans) and spans[j][1] <= s + window - LEAD:
            j += 1
        if j - i > best_count:
            best_start, best_count = s, j - i
    return best_start


def _snap_left(text: str, pos: int) -> int:
    """Move a cut to the next word boundary so the snippet does not open mid-word."""
    if pos == 0 or text[pos - 1].isspace():
        return pos
    nxt = text.find(" ", pos, pos + 20)
    return nxt + 1 if nxt != -1 else pos


def _snap_right(text: str, pos: int) -> int:
    if pos >= len(text) or text[pos].isspace():
        return pos
    prev = text.rfind(" ", pos - 20, pos)
    return prev if prev != -1 else pos
