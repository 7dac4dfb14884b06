"""What a search returns: typed hits carrying each leg's rank and score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search.records import LegScore, Paper

MODES = ("hybrid", "bm25", "dense")


@dataclass(frozen=True)
class SearchHit:
    rank: int
    paper: Paper
    score: float
    bm25: LegScore | None
    dense: LegScore | None
    # BM25 terms this paper matched, the query's own and any expansion terms.
    matched: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        bm25 = self.bm25.to_dict() if self.bm25 else None
        if bm25 is not None:
            bm25["matched"] = list(self.matched)
        return {
            "rank": self.rank,
            "id": self.paper.id,
            "title": self.paper.title,
            "url": self.paper.url,
            "date": self.paper.date,
            "upvotes": self.paper.upvotes,
            "score": round(float(self.score), 6),
            "bm25": bm25,
            "dense": self.dense.to_dict() if self.dense else None,
        }


@dataclass(frozen=True)
class SearchResponse:
    query: str
    mode: str  # the mode that actually answered
    requested_mode: str
    results: list[SearchHit]
    # Papers that matched: BM25 mode counts every paper scoring > 0, dense mode every
    # paper (all have a similarity), hybrid the fused pool of both legs' candidates, and
    # with filters the candidates that pass them.
    total: int
    offset: int = 0
    notice: str | None = None  # why the answering mode differs from the requested one
    expansions: dict[str, float] = field(default_factory=dict)
    # Every BM25 term the query was searched with (its own and expansions, with weights),
    # in a fixed order: the one analysis of the query, reused for highlighting. Not in
    # to_dict (``expansions`` shows the added ones).
    terms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "query": self.query,
            "mode": self.mode,
            "requested_mode": self.requested_mode,
            "total": self.total,
            "offset": self.offset,
            "results": [h.to_dict() for h in self.results],
            "notice": self.notice,
        }
        if self.expansions:
            d["expansions"] = {t: round(w, 3) for t, w in self.expansions.items()}
        return d
