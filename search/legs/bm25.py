"""BM25 over Kiwi morphemes, read from the files ``index/artifacts/bm25_build.py`` writes.

Scoring walks bm25s's precomputed CSC matrix directly (one column per term) instead of
calling ``get_scores`` per term: that gives weighted query terms (for query expansion)
and, for free, which terms matched each hit, for the score breakdown and highlighting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.core.errors import IndexCorrupt
from search.core.records import LegStats, ScoredId
from search.core.tokenizer import KiwiTokenizer
from search.legs.retriever import top_rows


@dataclass(frozen=True)
class BM25Hit(ScoredId):
    """A BM25 hit, with the query terms it matched (term → weight used)."""

    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class BM25Matrix:
    """A build's BM25 weights as bm25s saved them: a CSC matrix, one column per term (its
    postings' rows in ``indices``, their weights in ``data``, sliced by ``indptr``)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    vocab: dict[str, int]  # term -> column
    num_docs: int

    @classmethod
    def load(cls, bm25_dir: Path, mmap: bool = True) -> "BM25Matrix":
        """The one reader of a build's ``bm25/`` folder (bm25s's own loader; the query side
        and the Milvus publisher both read it here)."""
        import bm25s

        try:
            model = bm25s.BM25.load(str(bm25_dir), mmap=mmap, load_corpus=False, show_progress=False)
        except (OSError, ValueError, KeyError) as e:
            raise IndexCorrupt(f"BM25 files unreadable in {bm25_dir}: {e}") from e
        # Plain ndarray views of the memory maps (np.memmap's own slicing costs ~15 µs a
        # call, dozens of calls a query); indptr is one int per term, so it is read in.
        return cls(
            np.asarray(model.scores["data"]), np.asarray(model.scores["indices"]), np.array(model.scores["indptr"]),
            model.vocab_dict, int(model.scores["num_docs"]),
        )


class BM25Retriever:
    name = "bm25"

    def __init__(self, bm25_dir: Path, ids: list[str], tokenizer: KiwiTokenizer, mmap: bool = True):
        matrix = BM25Matrix.load(bm25_dir, mmap=mmap)
        self.vocab: dict[str, int] = matrix.vocab
        self._data, self._indices, self._indptr = matrix.data, matrix.indices, matrix.indptr
        self.ids = ids
        self.tokenizer = tokenizer
        if matrix.num_docs != len(ids):
            raise IndexCorrupt(f"BM25 index has {matrix.num_docs} documents but the index lists {len(ids)} papers")

    def retrieve(self, query: str, k: int) -> list[ScoredId]:
        return self.retrieve_terms(self.query_terms(query), k)

    def query_terms(self, query: str) -> dict[str, float]:
        """The query's own terms, each weighted 1 (a repeated word counts once)."""
        return {t: 1.0 for t in self.tokenizer.tokenize(query)}

    def document_frequency(self, term: str) -> int:
        """How many papers contain ``term`` (0 when the index lacks it)."""
        col = self.vocab.get(term)
        return 0 if col is None else int(self._indptr[col + 1]) - int(self._indptr[col])

    def retrieve_terms(self, terms: Mapping[str, float], k: int) -> list[ScoredId]:
        """Weighted BM25: sum of weight × BM25(term, doc) over the given terms."""
        return self.search_terms(terms, k)[0]

    def search_terms(self, terms: Mapping[str, float], k: int) -> tuple[list[ScoredId], int]:
        """The best ``k`` hits and how many papers matched at all (score > 0). Equal scores
        rank in row order (``top_rows``), so pages of one query never overlap."""
        hits, total, _stats, _scores = self.rank_terms(terms, k, stats=False)
        return hits, total

    def rank_terms(
        self, terms: Mapping[str, float], k: int, stats: bool = True
    ) -> tuple[list[ScoredId], int, LegStats | None, np.ndarray | None]:
        """``search_terms``, and (with ``stats``) the query's score distribution over every
        paper (what z-score fusion reads: unmatched papers count, at 0; ~30 µs at 100k
        papers) and every paper's score by row (exact scores for papers it did not list)."""
        scores = np.zeros(len(self.ids), dtype=np.float32)
        postings: dict[str, np.ndarray] = {}
        for term, weight in terms.items():
            col = self.vocab.get(term)
            if col is None or weight <= 0:
                continue
            lo, hi = self._indptr[col], self._indptr[col + 1]
            rows = self._indices[lo:hi]
            values = self._data[lo:hi]
            # np.add.at: numpy 2's unbuffered scatter-add, ~30% faster here than
            # ``scores[rows] += values`` (gather, add, scatter).
            np.add.at(scores, rows, values if weight == 1.0 else values * np.float32(weight))
            postings[term] = rows
        if not postings:
            return [], 0, (LegStats(0.0, 0.0, 0.0) if stats else None), (scores if stats else None)
        top = top_rows(scores, k, min_score=0.0)
        matched = self._matched_terms(postings, top)
        top_scores = scores[top].tolist()
        ids = self.ids
        out: list[ScoredId] = [BM25Hit(ids[row], top_scores[i], matched[i]) for i, row in enumerate(top.tolist())]
        total = int(np.count_nonzero(scores > 0))
        if not stats:
            return out, total, None, None
        # A paper not listed: unmatched (0), or cut off below the last listed score.
        floor = top_scores[-1] if total > len(out) and out else 0.0
        dist = LegStats.of(float(scores.sum(dtype=np.float64)), float(np.dot(scores, scores)), len(ids), floor)
        return out, total, dist, scores

    def count_covered(self, weights: Mapping[str, float], threshold: float) -> int:
        """How many papers hold terms whose weights (``search/pipeline/matching.py``'s
        coverage shares) sum to ``threshold`` or more: BM25's exact count of matches."""
        cover = np.zeros(len(self.ids), dtype=np.float32)
        for term, weight in weights.items():
            col = self.vocab.get(term)
            if col is not None and weight > 0:
                np.add.at(cover, self._indices[self._indptr[col] : self._indptr[col + 1]], np.float32(weight))
        # float32 sums of shares that add to exactly the threshold must count
        return int(np.count_nonzero(cover >= np.float32(threshold) - np.float32(1e-6)))

    def _matched_terms(self, postings: dict[str, np.ndarray], top: np.ndarray) -> list[tuple[str, ...]]:
        """For each top row, the query terms whose postings hold it, in query order."""
        # One vectorised membership test per term over all top rows (a per-hit, per-term
        # binary search was most of a query's time at 100 candidates), in the postings'
        # own dtype: searchsorted would otherwise cast each whole posting list up to the
        # rows' int64 (~0.1 ms a query at 100k papers).
        rows = top.astype(self._indices.dtype)
        found = [_contains(term_rows, rows) for term_rows in postings.values()]
        terms = list(postings)
        if len(terms) > 62:  # more terms than an int64 has bits: hit by hit
            return [tuple(t for t, f in zip(terms, hit) if f) for hit in zip(*(f.tolist() for f in found))]
        # Hits share few patterns of matched terms (a fused query's 100 candidates mostly
        # match all its words): one bit per term, each pattern's tuple built once.
        codes = np.zeros(rows.size, dtype=np.int64)
        for bit, f in enumerate(found):
            codes |= f.astype(np.int64) << bit
        tuples: dict[int, tuple[str, ...]] = {}
        out = []
        for code in codes.tolist():
            t = tuples.get(code)
            if t is None:
                t = tuples[code] = tuple(term for bit, term in enumerate(terms) if code >> bit & 1)
            out.append(t)
        return out


def _contains(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    # CSC row indices are sorted within a column, so a binary search answers membership.
    if sorted_rows.size == 0:
        return np.zeros(rows.shape, dtype=bool)
    i = np.searchsorted(sorted_rows, rows)
    return sorted_rows[np.minimum(i, sorted_rows.size - 1)] == rows
