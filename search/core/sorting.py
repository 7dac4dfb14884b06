"""Result orders besides relevance: newest first, most upvoted first.

A sort reorders the relevant candidates, it does not replace relevance: BM25 sorts every
paper that matched the query, hybrid and dense the fused pool of each leg's top
candidates (every paper has some similarity, so "newest" over all of them would list
unrelated papers). Ties keep their relevance order (Python's sort is stable); papers
without a date or upvotes go last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from search.core.errors import InvalidQuery, shown
from search.core.records import Paper

SORTS = ("relevance", "newest", "upvotes")
T = TypeVar("T")


def check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise InvalidQuery(
            f"unknown sort {sort!r}: use one of {', '.join(SORTS)}", code="unknown_sort", params={"value": shown(sort), "known": list(SORTS)}
        )
    return sort


def sort_hits(hits: Sequence[T], sort: str, paper_of: Callable[[T], Paper]) -> list[T]:
    if sort == "newest":
        return sorted(hits, key=lambda h: paper_of(h).date or "", reverse=True)
    if sort == "upvotes":
        return sorted(hits, key=lambda h: paper_of(h).upvotes if paper_of(h).upvotes is not None else -1, reverse=True)
    return list(hits)
