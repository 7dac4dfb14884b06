"""Response and request shapes of the HTTP API, for validation and the OpenAPI document.

They mirror ``SearchResponse.to_dict()`` / ``Paper.to_dict()`` (the CLI's JSON) so a script
can switch between ``papersearch search --json`` and ``/api/search`` without changes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from search.engine import MAX_K, MAX_TEXT_CHARS
from search.similar_many import MAX_IDS

Mode = Literal["hybrid", "bm25", "dense"]
Sort = Literal["relevance", "newest", "upvotes"]


class Error(BaseModel):
    detail: str = Field(description="What was wrong, in one line.")


class Snippet(BaseModel):
    text: str = Field(description="Plain text around the densest matches; '…' marks a cut.")
    html: str = Field(description="The same text HTML-escaped, matched terms wrapped in <mark>.")
    field: str = Field(description="Record part it comes from: summary, abstract, key_points, section:<name>.")
    spans: list[list[int]] = Field(description="[start, end) character offsets of the highlights in `text`.")


class Bm25Leg(BaseModel):
    rank: int
    score: float
    matched: list[str] = Field(description="Index terms (Kiwi morphemes, stemmed English) this paper matched.")


class DenseLeg(BaseModel):
    rank: int
    score: float


class Hit(BaseModel):
    rank: int
    id: str
    title: str
    url: str
    date: str | None
    upvotes: int | None
    score: float = Field(description="Fused score (RRF unless a single leg answered).")
    bm25: Bm25Leg | None
    dense: DenseLeg | None
    snippet: Snippet


class SearchOut(BaseModel):
    query: str
    mode: Mode = Field(description="The mode that answered (bm25 when dense was asked for but is off).")
    requested_mode: Mode
    total: int = Field(description="Matches before paging.")
    offset: int
    results: list[Hit]
    notice: str | None = Field(description="Why the answering mode differs from the requested one.")
    expansions: dict[str, float] | None = None


class PaperOut(BaseModel):
    id: str
    title: str
    url: str
    date: str | None
    upvotes: int | None
    summary: str
    abstract: str
    key_points: list[str]
    sections: dict[str, str]
    sources: list[str]


class SimilarIn(BaseModel):
    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS, description="A text, e.g. a pasted abstract.")
    ids: list[str] | None = Field(
        None,
        min_length=1,
        max_length=MAX_IDS,
        description="Paper ids: papers like all of them (each one's similar list, fused by RRF; the ids left out).",
    )
    k: int = Field(10, ge=1, le=MAX_K)
    mode: Mode = "dense"

    @model_validator(mode="after")
    def _text_or_ids(self) -> "SimilarIn":
        if self.text is None and self.ids is None:
            raise ValueError('give "text" (papers like a text) or "ids" (papers like these papers)')
        if self.text is not None and self.ids is not None:
            raise ValueError('give "text" or "ids", not both')
        return self


class ExampleQuery(BaseModel):
    query: str
    lang: Literal["ko", "en", "mixed"]


class NewPaper(BaseModel):
    id: str
    title: str
    url: str
    date: str | None
    upvotes: int | None


class StartOut(BaseModel):
    examples: list[ExampleQuery] = Field(description="Queries drawn from the index's mined glossary, each with results.")
    newest: list[NewPaper]
    papers: int


class HealthOut(BaseModel):
    status: Literal["ok"]
    papers: int
    dense: bool = Field(description="Dense (embedding) search answers queries.")
    dense_index: bool = Field(description="The build has vectors (similar-by-id works without the model).")
    model: str | None
    model_notice: str | None
    build_id: str
    built_at: str | None
    loaded_at: str
    index: str


class ReloadOut(BaseModel):
    status: Literal["reloaded", "unchanged"]
    build_id: str
    previous: str | None
