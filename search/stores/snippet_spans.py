"""The build's snippet morphemes, read memory-mapped: which stored morphemes of a hit's
fields match the query, without Kiwi at query time (``index/artifacts/snippet_build.py`` writes
them; ``search/serve/snippets.py`` picks and highlights a window from what this finds)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from search.core.layout import BuildFiles
from search.core.span_arrays import SpanArrays

# A hit's chosen field (its index among the record's snippet fields) and the [start, end)
# of that field's morphemes matching the query, in text order.
Best = tuple[int, list[tuple[int, int]]]


class StoredSpans:
    """The build's snippet morphemes (``index/artifacts/snippet_build.py``), memory-mapped: all
    worker processes serving one build share these pages."""

    def __init__(self, files: BuildFiles) -> None:
        arrays = SpanArrays.read(files)
        self.terms, self.starts, self.lengths = arrays.terms, arrays.starts, arrays.lengths
        self.field_offsets, self.paper_fields = arrays.field_offsets, arrays.paper_fields
        self.vocab = arrays.vocab
        self.term_id = {t: i for i, t in enumerate(self.vocab)}

    def paper_terms(self, row: int) -> list[str]:
        """Every stored morpheme of a paper's snippet fields (its BM25 body), in order."""
        f0, f1 = int(self.paper_fields[row]), int(self.paper_fields[row + 1])
        a, b = int(self.field_offsets[f0]), int(self.field_offsets[f1])
        vocab = self.vocab
        return [vocab[t] for t in self.terms[a:b].tolist()]

    @classmethod
    def open(cls, files: BuildFiles) -> "StoredSpans | None":
        """None for a build without the files (made before they existed)."""
        return cls(files) if files.snippet_vocab.exists() else None

    def best_fields(
        self, rows: Sequence[int], n_fields: Sequence[int], wanted: Sequence[frozenset[str]]
    ) -> list[Best | None]:
        """For each papers.jsonl row, the field to show: the one whose stored morphemes
        hold the most distinct terms of that row's ``wanted``, then the most such
        morphemes, the earlier field on a tie (field 0 when nothing matches); with the
        [start, end) of its matching morphemes in text order. None for a row whose stored
        fields do not line up with the record's. All rows at once, in array operations:
        only the winning fields' spans become Python objects."""
        r = np.asarray(rows, dtype=np.int64)
        f0, f1 = self.paper_fields[r], self.paper_fields[r + 1]
        aligned = (f1 - f0) == np.asarray(n_fields, dtype=np.int64)
        out: list[Best | None] = [(0, []) if ok else None for ok in aligned.tolist()]
        union = frozenset().union(*wanted)
        ids = np.array(sorted({t for t in map(self.term_id.get, union) if t is not None}), dtype=self.terms.dtype)
        if not ids.size or not r.size:
            return out
        col_of = {tid: col for col, tid in enumerate(ids.tolist())}
        # The rows' fields as one run ("answer fields"; a row that does not line up has
        # none), then every stored morpheme of them as one index array.
        nf = np.where(aligned, f1 - f0, 0)
        fend = np.cumsum(nf)
        fields = np.arange(int(fend[-1]), dtype=np.int64) + np.repeat(f0 - (fend - nf), nf)
        t0 = self.field_offsets[fields]
        flen = self.field_offsets[fields + 1] - t0
        mend = np.cumsum(flen)
        if not fields.size or not mend[-1]:
            return out
        idx = np.arange(int(mend[-1]), dtype=np.int64) + np.repeat(t0 - (mend - flen), flen)
        tids = self.terms[idx]
        # Membership and column at once, by binary search in the few wanted ids (np.isin
        # costs ~75 µs a call here; a vocabulary-sized table grows with the corpus).
        col = np.minimum(np.searchsorted(ids, tids), ids.size - 1)
        sel = np.flatnonzero(ids[col] == tids)  # ascending: answer field by field, text order
        col = col[sel]
        field = np.repeat(np.arange(fields.size), flen)[sel]
        if any(w != union for w in wanted):  # hits want different terms: keep each its own
            pattern: dict[frozenset[str], int] = {}  # hits mostly share a few wanted sets
            row_pattern = np.array([pattern.setdefault(w, len(pattern)) for w in wanted])
            allowed = np.zeros((len(pattern), ids.size), dtype=bool)
            for w, p in pattern.items():
                allowed[p, [col_of[t] for t in map(self.term_id.get, w) if t is not None]] = True
            keep = allowed[np.repeat(row_pattern, nf)[field], col]
            sel, col, field = sel[keep], col[keep], field[keep]
        # Per answer field: distinct wanted terms, then matching morphemes, as one number.
        count = np.bincount(field, minlength=fields.size)
        present = np.zeros((fields.size, ids.size), dtype=bool)
        present[field, col] = True
        distinct = np.count_nonzero(present, axis=1)
        score = (distinct * (int(mend[-1]) + 1) + count).tolist()
        bounds = np.searchsorted(field, np.arange(fields.size + 1)).tolist()
        pos = idx[sel]
        starts = self.starts[pos]
        spans = list(zip(starts.tolist(), (starts + self.lengths[pos]).tolist()))
        first = (fend - nf).tolist()
        for i, (a, n) in enumerate(zip(first, nf.tolist())):
            seg = score[a : a + n]
            if seg and max(seg) > 0:
                best = seg.index(max(seg))  # the first of equal scores: the earlier field
                out[i] = (best, spans[bounds[a + best] : bounds[a + best + 1]])
        return out
