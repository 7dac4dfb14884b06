"""What a search asks, with its limits, checked once: the one request model.

The CLI's options and the HTTP API's query model are built from the limits here
(``papersearch/options.py``, ``papersearch/api_search.py``), and both hand the engine a
:class:`SearchRequest`; :meth:`SearchRequest.checked` is where a bad value becomes
``InvalidQuery`` (a CLI message, an HTTP 422), so no rule is stated twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from search.core.filters import Filters
from search.core.fusion_settings import (
    FUSIONS,
    MAX_RRF_K,
    check_fusion,
    check_rrf_k,
    check_weights,
)
from search.core.query_limits import (
    DEFAULT_K,
    MAX_K,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_UPVOTES,
    check_page,
    check_text,
)
from search.core.sorting import SORTS, check_sort

__all__ = [
    "DEFAULT_K", "FUSIONS", "MAX_K", "MAX_OFFSET", "MAX_QUERY_CHARS", "MAX_RRF_K", "MAX_UPVOTES", "SORTS",
    "SearchRequest",
]


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int = DEFAULT_K
    offset: int = 0
    mode: str = "hybrid"  # hybrid, bm25, dense or a dense leg's name: checked against the index
    fusion: str | None = None  # None: the index's (its recorded settings, else the shipped default)
    rrf_k: int | None = None
    weights: Mapping[str, float] | None = None
    filters: Filters = Filters()
    sort: str = "relevance"

    def checked(self) -> "SearchRequest":
        """This request with its query stripped (of space and lone surrogates), or
        ``InvalidQuery`` naming the first value out of bounds. The mode and the weights'
        leg names depend on the index: the engine checks those."""
        query = check_text(self.query, "query", MAX_QUERY_CHARS)
        check_page(self.k, self.offset)
        if self.fusion is not None:
            check_fusion(self.fusion)
        if self.rrf_k is not None:
            check_rrf_k(self.rrf_k)
        weights = None if self.weights is None else check_weights(self.weights)
        check_sort(self.sort)
        self.filters.check()
        if query is self.query and weights is None:
            return self
        return replace(self, query=query, weights=weights)
