"""What a search returns: typed hits carrying each leg's rank and score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from search.core.records import LegScore, Paper

# Modes every index accepts; an index with dense legs also answers each leg by its name.
MODES = ("hybrid", "bm25", "dense")
# Why the answering mode or legs differ from the ones asked for (the page words these).
DENSE_UNAVAILABLE = "dense_unavailable"  # no dense leg could answer: BM25 answered
LEGS_MISSING = "legs_missing"  # some dense legs could not answer: the others did
DENSE_PENDING = "dense_pending"  # the dense legs are still being embedded: BM25 answered


@dataclass(frozen=True)
class SearchHit:
    rank: int
    paper: Paper
    score: float
    # Every leg that took part, by name ("bm25", "e5", "use", ...): where it ranked this
    # paper, or None when it did not find it.
    legs: dict[str, LegScore | None]
    # BM25 terms this paper matched, the query's own and any expansion terms.
    matched: tuple[str, ...] = ()
    # False: no hit of the request was a match (search/core/match_settings.py), and this
    # one is offered as one of the nearest papers.
    match: bool = True

    @property
    def bm25(self) -> LegScore | None:
        return self.legs.get("bm25")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SearchHit":
        """A hit as ``to_dict`` (or the API) wrote it; the paper carries what a hit shows."""
        paper = Paper(str(d["id"]), str(d["title"]), str(d.get("url") or ""), d.get("date"), d.get("upvotes"))
        legs = {str(n): (LegScore(int(v["rank"]), float(v["score"])) if v else None) for n, v in (d.get("legs") or {}).items()}
        bm25 = d.get("bm25") or {}
        return cls(int(d["rank"]), paper, float(d["score"]), legs, tuple(bm25.get("matched") or ()), bool(d.get("match", True)))

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
            "match": self.match,
            "bm25": bm25,
            "legs": {name: (leg.to_dict() if leg else None) for name, leg in self.legs.items()},
        }


@dataclass(frozen=True)
class SearchResponse:
    query: str
    mode: str  # the mode that actually answered
    requested_mode: str
    results: list[SearchHit]
    # Papers that are matches (search/core/match_settings.py): those among the legs'
    # candidates (that pass the filters), and BM25's past its candidates where the store
    # counts them. 0 with ``no_match``.
    total: int
    offset: int = 0
    notice: str | None = None  # why the answering mode or legs differ from those asked for
    notice_code: str | None = None  # DENSE_UNAVAILABLE or LEGS_MISSING
    expansions: dict[str, float] = field(default_factory=dict)
    legs: tuple[str, ...] = ()  # the legs that answered, fused in this order
    # Every BM25 term the query was searched with (its own and expansions, with weights),
    # in a fixed order: the one analysis of the query, reused for highlighting. Not in
    # to_dict (``expansions`` shows the added ones).
    terms: dict[str, float] = field(default_factory=dict)
    # No hit was a match: ``results`` are the nearest papers, offered as such.
    no_match: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "query": self.query,
            "mode": self.mode,
            "requested_mode": self.requested_mode,
            "legs": list(self.legs),
            "total": self.total,
            "no_match": self.no_match,
            "offset": self.offset,
            "results": [h.to_dict() for h in self.results],
            "notice": self.notice,
            "notice_code": self.notice_code,
        }
        if self.expansions:
            d["expansions"] = {t: round(w, 3) for t, w in self.expansions.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SearchResponse":
        """A response as ``to_dict`` (or the API: ``papersearch/remote.py``) wrote it."""
        return cls(
            str(d["query"]), str(d["mode"]), str(d.get("requested_mode") or d["mode"]),
            [SearchHit.from_dict(h) for h in d.get("results") or ()], int(d.get("total") or 0), int(d.get("offset") or 0),
            d.get("notice"), d.get("notice_code"), dict(d.get("expansions") or {}), tuple(d.get("legs") or ()),
            no_match=bool(d.get("no_match", False)),
        )
