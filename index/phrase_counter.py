"""Phrase frequencies over a tokenized corpus, for the glossary miner: how often a term
sequence occurs, in time proportional to its rarest term rather than to the corpus."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from index.bm25_build import TokenDocs


class PhraseCounter:
    """How often a term sequence occurs in the corpus's token lists (overlapping
    occurrences, never across two documents).

    The corpus becomes one int32 array of term ids and, once, a stable argsort of it:
    the positions of any term are then a slice, and a phrase is counted by checking the
    other terms at the positions of its rarest term, vectorised. Building is a few C-level
    passes over the tokens (about a second per ten million); a count costs the rarest
    term's frequency, not the corpus, and is memoised. Nothing is built until the first
    count, so a mining without Korean phrases to weigh pays nothing.
    """

    def __init__(self, docs: Sequence[Sequence[str]]):
        self.docs = docs
        self._ids: dict[str, int] | None = None
        self._memo: dict[tuple[str, ...], int] = {}

    def _build(self) -> dict[str, int]:
        docs = self.docs
        if isinstance(docs, TokenDocs) and len(set(docs.vocab)) == len(docs.vocab):
            # The build's documents are already ids: no pass over the tokens in Python.
            ids = {t: i for i, t in enumerate(docs.vocab)}
            lengths = np.diff(docs.offsets)
            self._arr = np.asarray(docs.ids, dtype=np.int64)
        else:
            ids = {t: i for i, t in enumerate(dict.fromkeys(chain.from_iterable(docs)))}
            lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
            total = int(lengths.sum())
            self._arr = np.fromiter(map(ids.__getitem__, chain.from_iterable(docs)), dtype=np.int64, count=total)
        # The end of the document each position is in: a phrase must end before it.
        self._doc_end = np.repeat(np.cumsum(lengths), lengths)
        self._order = np.argsort(self._arr, kind="stable")
        self._offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(self._arr, minlength=len(ids)), out=self._offsets[1:])
        self._ids = ids
        return ids

    def count(self, terms: Sequence[str]) -> int:
        key = tuple(terms)
        if not key:
            return 0
        if key not in self._memo:
            self._memo[key] = self._count(key)
        return self._memo[key]

    def _count(self, key: tuple[str, ...]) -> int:
        ids = self._ids if self._ids is not None else self._build()
        if any(t not in ids for t in key):
            return 0
        tids = [ids[t] for t in key]
        freq = [int(self._offsets[i + 1] - self._offsets[i]) for i in tids]
        j = freq.index(min(freq))  # anchor on the rarest term
        a = tids[j]
        starts = self._order[self._offsets[a] : self._offsets[a + 1]] - j
        starts = starts[starts >= 0]
        if len(key) == 1:
            return len(starts)
        starts = starts[starts + len(key) <= self._doc_end[starts]]
        for i, tid in enumerate(tids):
            if i != j and len(starts):
                starts = starts[self._arr[starts + i] == tid]
        return len(starts)


def distinct_terms(docs: Sequence[Sequence[str]]) -> list[str]:
    """Every term of the documents once, in order of first occurrence."""
    if isinstance(docs, TokenDocs):
        ids, first = np.unique(docs.ids, return_index=True)
        return [docs.vocab[i] for i in ids[np.argsort(first, kind="stable")].tolist()]
    return list(dict.fromkeys(chain.from_iterable(docs)))


__all__ = ["PhraseCounter", "distinct_terms"]
