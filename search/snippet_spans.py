"""The build's snippet morphemes, read memory-mapped: which stored morphemes of a hit's
fields match the query, without Kiwi at query time (``index/snippet_build.py`` writes
them; ``search/snippets.py`` picks and highlights a window from what this finds)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from search.layout import BuildFiles, read_json

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
        r = np.asarray(rows, dtype=np.int64)
        f0, f1 = self.paper_fields[r], self.paper_fields[r + 1]
        aligned = (f1 - f0) == np.asarray(n_fields, dtype=np.int64)
        out: list[list[Matches] | None] = [[[] for _ in range(n)] if ok else None for n, ok in zip(n_fields, aligned.tolist())]
        mask = self._mask(wanted)
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
