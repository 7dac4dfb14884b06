"""The one question every retriever answers: ranked paper ids for a query."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from search.records import ScoredId


class Retriever(Protocol):
    """A leg of the search: BM25 and dense both implement this."""

    name: str

    def retrieve(self, query: str, k: int) -> list[ScoredId]:
        """Up to ``k`` hits, best first; only papers the retriever actually matched."""
        ...


def top_rows(scores: np.ndarray, k: int, min_score: float | None = None) -> np.ndarray:
    """Rows of the best ``k`` scores, best first, ties broken by row order (stable).
    With ``min_score``, only rows scoring strictly above it."""
    if k <= 0 or scores.size == 0:
        return np.empty(0, dtype=np.int64)
    if min_score is not None:
        rows = np.flatnonzero(scores > min_score)
    else:
        rows = np.arange(scores.size)
    if rows.size > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    return rows[np.lexsort((rows, -scores[rows]))]
