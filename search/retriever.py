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


def top_rows(scores: np.ndarray, k: int, min_score: float | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """Rows of the best ``k`` scores, best first; equal scores in row order (rows are
    date-ordered), including which of several rows tied at the k-th score make the cut.
    That total order is what makes paging exact: the first ``k`` of the best ``k + n``
    are the best ``k``, so pages never repeat or skip a paper.

    With ``min_score``, only rows scoring strictly above it; ``rows`` (ascending) limits
    the candidates to those rows when the caller already knows them."""
    if k <= 0 or scores.size == 0:
        return np.empty(0, dtype=np.int64)
    if rows is None:
        rows = np.flatnonzero(scores > min_score) if min_score is not None else np.arange(scores.size)
    elif min_score is not None:
        rows = rows[scores[rows] > min_score]
    if rows.size > k:
        vals = scores[rows]
        # A cheap lower bound on the k-th best score: the k-th best of an evenly spaced
        # sample (a subset's k-th best is never above the whole's). It leaves a few hundred
        # candidates of ~30k for the exact selection below.
        step = rows.size // (64 * k)
        if step >= 2:
            sample = vals[::step]
            floor = np.partition(sample, sample.size - k)[sample.size - k]
            keep = vals >= floor
            rows, vals = rows[keep], vals[keep]
        kth = np.partition(vals, vals.size - k)[vals.size - k]
        above = rows[vals > kth]
        # ``rows`` is ascending, so the lowest rows tied at the k-th score come first.
        rows = np.concatenate([above, rows[vals == kth][: k - above.size]])
    return rows[np.lexsort((rows, -scores[rows]))]
