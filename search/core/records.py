"""Small typed records shared by build and query time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Bump when the texts made from a record change (the title, or
# ``search.core.encoders.passage_text``): the caches that find a paper's title tokens or vector
# by its record hash (index/artifacts/token_cache.py, index/artifacts/embed_cache.py) drop those memos on another
# version, so old texts are never reused for a record whose texts are now made otherwise.
PAPER_TEXTS_VERSION = 1


@dataclass(frozen=True)
class Paper:
    """One paper, keyed by its arXiv id, merged over every digest that mentions it."""

    id: str
    title: str
    url: str
    date: str | None = None
    upvotes: int | None = None
    summary: str = ""
    abstract: str = ""
    key_points: tuple[str, ...] = ()
    sections: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def search_text(self) -> str:
        """All Korean text of the record, one part a line (the glossary mines it). BM25
        indexes the same parts as snippet fields (``search.core.fields.snippet_fields``)."""
        parts = [self.summary, self.abstract, *self.key_points, *self.sections.values()]
        return "\n".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        # Spelled out, in field order: dataclasses.asdict deep-copies recursively and was
        # most of an incremental build's time at 100k papers.
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "date": self.date,
            "upvotes": self.upvotes,
            "summary": self.summary,
            "abstract": self.abstract,
            "key_points": list(self.key_points),
            "sections": dict(self.sections),
            "sources": list(self.sources),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Paper":
        return cls(
            id=d["id"],
            title=d["title"],
            url=d["url"],
            date=d.get("date"),
            upvotes=d.get("upvotes"),
            summary=d.get("summary", ""),
            abstract=d.get("abstract", ""),
            key_points=tuple(d.get("key_points", ())),
            sections=dict(d.get("sections", {})),
            sources=tuple(d.get("sources", ())),
        )


@dataclass(frozen=True)
class ParseIssue:
    """A problem found in a digest: reported, skipped, never fatal to a build.

    ``notice``: reported, but nothing a reader of the digest sees was lost (a paper
    heading inside a comment or a code block): ``watch`` builds such a file anyway,
    where any other problem holds the file back until it is fixed."""

    file: str
    line: int
    reason: str
    notice: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line, "reason": self.reason}
        if self.notice:
            out["notice"] = True
        return out


@dataclass(frozen=True)
class LegScore:
    """Where one retriever (a "leg") put a hit: 1-based rank and its raw score."""

    rank: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(float(self.score), 6)}


@dataclass(frozen=True)
class ScoredId:
    """What every retriever returns: a paper id and the retriever's own score."""

    id: str
    score: float


@dataclass(frozen=True)
class FusedHit:
    """A fused result: the fused score plus each leg's rank and score (None: not found)."""

    id: str
    score: float
    legs: dict[str, LegScore | None]


@dataclass(frozen=True)
class LegStats:
    """One leg's scores over the whole corpus for one query: their mean and standard
    deviation, and the score that stands for a paper the leg did not list (its last
    listed score when the list was cut short, else what an unmatched paper scores)."""

    mean: float
    std: float
    floor: float

    @classmethod
    def of(cls, total: float, squares: float, n: int, floor: float) -> "LegStats":
        """From the sum and the sum of squares of ``n`` scores."""
        if n <= 0:
            return cls(0.0, 0.0, floor)
        mean = total / n
        var = max(squares / n - mean * mean, 0.0)  # rounding can make it a hair negative
        return cls(mean, math.sqrt(var), floor)
