"""Snippets for search hits, with the matched terms highlighted in the original text.

BM25 matches morphemes, not characters: the query "강화학습" matches "강화 학습을" through
the terms 강화 and 학습. So highlighting marks the *surface spans* of kept morphemes whose
term was matched, which a plain substring search would get wrong for particles, spacing and
English stems ("agents" -> agent).

The morphemes of every field come from the build (``index/snippet_build.py``), read here
memory-mapped: Kiwi at query time cost ~0.6 ms per field, most of a request. A build made
before those files existed falls back to analysing the hit's fields with Kiwi (cached).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.layout import BuildFiles, read_json
from search.records import Paper
from search.tokenizer import KiwiTokenizer

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


# (term, start, end) of each kept morpheme matching the query, in text order.
Matches = list[tuple[str, int, int]]


class StoredSpans:
    """The build's snippet morphemes (``index/snippet_build.py``), memory-mapped: all
    worker processes serving one build share these pages."""

    def __init__(self, files: BuildFiles) -> None:
        def load(path: object) -> np.ndarray:
            # A plain ndarray view of the map: np.memmap's own slicing costs ~15 µs a call.
            return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))

        self.terms = load(files.snippet_terms)
        self.starts = load(files.snippet_starts)
        self.lengths = load(files.snippet_lengths)
        self.field_offsets = load(files.snippet_field_offsets)
        self.paper_fields = load(files.snippet_paper_fields)
        vocab: list[str] = read_json(files.snippet_vocab)
        self.term_id = {t: i for i, t in enumerate(vocab)}
        self.vocab = vocab
        self._last_mask: tuple[frozenset[str], np.ndarray | None] | None = None

    @classmethod
    def open(cls, files: BuildFiles) -> "StoredSpans | None":
        """None for a build without the files (made before they existed)."""
        return cls(files) if files.snippet_vocab.exists() else None

    def matches(self, rows: Sequence[int], n_fields: Sequence[int], wanted: frozenset[str]) -> list[list[Matches] | None]:
        """For each papers.jsonl row, per field, its morphemes whose term is in ``wanted``;
        None for a row whose stored fields do not line up with the record's. All rows at
        once: one answer's ten hits cost a dozen array operations, not ten times that."""
        out: list[list[Matches] | None] = [None if n is None else [[] for _ in range(n)] for n in n_fields]
        mask = self._mask(wanted)
        r = np.asarray(rows, dtype=np.int64)
        f0, f1 = self.paper_fields[r], self.paper_fields[r + 1]
        aligned = (f1 - f0) == np.asarray([-1 if n is None else n for n in n_fields])
        for i in np.flatnonzero(~aligned).tolist():
            out[i] = None
        if mask is None or not r.size:
            return out
        t0, t1 = self.field_offsets[f0], self.field_offsets[f1]
        lengths = np.where(aligned, t1 - t0, 0)
        ends = np.cumsum(lengths)
        # Every stored morpheme of the rows, as one index array (concatenated ranges).
        idx = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(t0 - (ends - lengths), lengths)
        sel = np.flatnonzero(mask[self.terms[idx]])
        if not sel.size:
            return out
        pos = idx[sel]
        owner = np.searchsorted(ends, sel, side="right").tolist()
        field = (np.searchsorted(self.field_offsets, pos, side="right") - 1 - f0[owner]).tolist()
        starts = self.starts[pos]
        stops = (starts + self.lengths[pos]).tolist()
        vocab = self.vocab
        for o, f, tid, s, e in zip(owner, field, self.terms[pos].tolist(), starts.tolist(), stops):
            out[o][f].append((vocab[tid], s, e))  # type: ignore[index]
        return out

    def _mask(self, wanted: frozenset[str]) -> np.ndarray | None:
        """A vocabulary-sized table of the wanted term ids (None: none is in the
        vocabulary): one lookup per stored morpheme, whatever the number of query terms.
        The hits of one answer share their terms, so the last table is kept."""
        last = self._last_mask  # one read: another thread may replace it meanwhile
        if last is not None and last[0] == wanted:
            return last[1]
        ids = [i for i in map(self.term_id.get, wanted) if i is not None]
        mask = None
        if ids:
            mask = np.zeros(len(self.vocab), dtype=bool)
            mask[ids] = True
        self._last_mask = (wanted, mask)
        return mask


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
        stored: list[list[Matches] | None] = [None] * len(papers)
        todo = [i for i, r in enumerate(rows) if wanted[i] and r is not None] if self.stored is not None else []
        if todo and self.stored is not None:
            union = frozenset().union(*(wanted[i] for i in todo))
            found = self.stored.matches([rows[i] for i in todo], [len(fields[i]) for i in todo], union)  # type: ignore[misc]
            for i, per_field in zip(todo, found):
                if per_field is not None and wanted[i] != union:
                    per_field = [[m for m in ms if m[0] in wanted[i]] for ms in per_field]
                stored[i] = per_field
        return [self._pick(p, f, w, st) for p, f, w, st in zip(papers, fields, wanted, stored)]

    def _pick(
        self, paper: Paper, fields: list[tuple[str, str]], wanted: frozenset[str], stored: list[Matches] | None
    ) -> Snippet:
        # Score: distinct matched terms, then matches; a tie keeps the earlier (more
        # readable) field, so the summary wins unless another part covers more of the query.
        best: tuple[tuple[int, int], str, str, Matches] | None = None
        for i, (name, raw) in enumerate(fields):
            # Stored morphemes need no text: only the winning field is flattened below.
            text = raw if stored is not None else _flatten(raw)
            if not wanted:
                found: Matches = []
            elif stored is not None:
                found = stored[i]
            else:
                found = self._matches(paper.id, name, text, wanted)
            score = (len({term for term, _s, _e in found}), len(found))
            if best is None or score > best[0]:
                best = (score, name, text, found)
            if not wanted:
                break  # nothing to look for: the first field (the summary) will do
        if best is None:
            return Snippet("", "", "none", [])
        _, name, text, found = best
        if stored is not None:
            text = _flatten(text)
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


def snippet_fields(paper: Paper) -> list[tuple[str, str]]:
    """Candidate texts, most readable first: a tie in matches keeps the earlier one. The
    build analyses exactly these texts (``index/snippet_build.py``)."""
    return [(n, _flatten(t)) for n, t in raw_fields(paper)]


def raw_fields(paper: Paper) -> list[tuple[str, str]]:
    """The record's parts behind :func:`snippet_fields`, before flattening (a part is a
    field exactly when it is not blank, and flattening keeps such text non-blank)."""
    out = [("summary", paper.summary), ("abstract", paper.abstract)]
    if paper.key_points:
        out.append(("key_points", " · ".join(paper.key_points)))
    out += [(f"section:{k}", v) for k, v in paper.sections.items()]
    return [(n, t) for n, t in out if t and t.strip()]


def _flatten(text: str) -> str:
    """One line of prose: Markdown list dashes dropped, whitespace collapsed."""
    lines = (line.strip().removeprefix("- ").removeprefix("* ") for line in text.splitlines())
    return " ".join(" ".join(line.split()) for line in lines if line)


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
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        parts.append(html.escape(text[pos:s]))
        parts.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


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
