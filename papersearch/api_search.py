"""``GET /api/search``: its parameters, its answer, and the fast path that serves it.

The parameters are one pydantic model, :class:`SearchQuery`: FastAPI documents and
validates the route from it, and :class:`SearchAPI` validates with the same model when
it answers a request itself. That fast path exists for speed alone: FastAPI's
per-request work (dependency solving over eight parameters, five middlewares, routing)
cost ~0.5 ms of a ~3 ms BM25 answer at 100k papers (py-spy on a loaded server). It only
ever sends a success; a request it cannot answer (invalid parameters, no index, a domain
error, anything unexpected) goes to the FastAPI route unchanged, which answers it with
the API's usual error handling. ``tests/test_api_search_fast.py`` checks that both paths
give the same answers.
"""

from __future__ import annotations

import time
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from papersearch.api_errors import INTERNAL_ERROR, error_body, log, status_for
from papersearch.api_models import CleanStr, Mode
from search.core.errors import InvalidQuery, PaperSearchError
from search.core.filters import Filters, parse_date
from search.core.fusion_settings import parse_weights
from search.core.request import (
    FUSIONS,
    MAX_K,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_RRF_K,
    MAX_UPVOTES,
    SORTS,
    SearchRequest,
)
from search.core.results import SearchResponse
from search.serve.holder import EngineHolder, Served

SEARCH_PATH = "/api/search"
BUILD_HEADER = "X-Index-Build"  # which build answered: lets clients (and tests) see a reload
# The date filters' format, stated in the OpenAPI schema (parse_date checks the calendar).
DATE: dict[str, Any] = {"format": "date"}


class SearchQuery(BaseModel):
    """The query string of ``GET /api/search``; unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")

    q: CleanStr = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="Query: Korean, English or mixed.")
    k: int = Field(10, ge=1, le=MAX_K, description="Results per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Results to skip (paging).")
    mode: Mode = Field("hybrid", description="hybrid (BM25 + every dense leg, fused), bm25, dense (every dense leg), or one leg by name (e5, use).")
    date_from: str | None = Field(None, description="Only papers from this date on (YYYY-MM-DD).", json_schema_extra=DATE)
    date_to: str | None = Field(None, description="Only papers up to this date (YYYY-MM-DD).", json_schema_extra=DATE)
    min_upvotes: int | None = Field(None, ge=0, le=MAX_UPVOTES)
    sort: Literal[SORTS] = Field(  # type: ignore[valid-type]
        "relevance", description="relevance, newest or upvotes (most first) among the matches."
    )
    fusion: Literal[FUSIONS] | None = Field(  # type: ignore[valid-type]
        None, description="How the legs merge: zscore, dbsf, rrf or weighted (default: the index's; GET /api/health shows it)."
    )
    rrf_k: int | None = Field(None, ge=0, le=MAX_RRF_K, description="RRF's k (default: the index's, 60).")
    weights: str | None = Field(
        None, max_length=200, pattern=r"^[^=,]+=[^=,]+(,[^=,]+=[^=,]+)*$",
        description="Per-leg weights, e.g. bm25=1,e5=1,use=0.5 (a leg not named weighs 1; default: the index's).",
    )

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_weights(value)
            except InvalidQuery as e:
                # The library's own code and params (out_of_range, bad_weights), as the engine would raise them.
                raise PydanticCustomError(e.code, str(e), e.params) from None
        return value

    def request(self) -> SearchRequest:
        """The engine's request model (``search/core/request.py``), which checks what the
        schema cannot: a calendar date, a date range, the weights' leg names."""
        return SearchRequest(
            self.q, k=self.k, offset=self.offset, mode=self.mode,
            fusion=self.fusion, rrf_k=self.rrf_k, weights=None if self.weights is None else parse_weights(self.weights),
            filters=Filters(parse_date(self.date_from), parse_date(self.date_to), self.min_upvotes), sort=self.sort,
        )


def with_snippets(served: Served, resp: SearchResponse, query_terms: set[str]) -> dict[str, Any]:
    """The response's JSON object, each hit with a highlighted snippet of its text."""
    out = resp.to_dict()
    out.setdefault("expansions", None)  # the API's schema always has the key
    # BM25's matched terms, plus the query's own terms for hits only dense found.
    snippets = served.snippets.for_papers(
        [hit.paper for hit in resp.results],
        [query_terms.union(hit.matched) for hit in resp.results],
        [served.engine.row(hit.paper.id) for hit in resp.results],
    )
    for row, snippet in zip(out["results"], snippets):
        row["snippet"] = snippet.to_dict()
    return out


def answer(served: Served, params: SearchQuery) -> tuple[bytes, dict[str, str]]:
    """The JSON body of a search and its headers."""
    t0 = time.perf_counter()
    resp = served.engine.run(params.request())
    t1 = time.perf_counter()
    body = with_snippets(served, resp, set(resp.terms))  # the engine's own analysis of q
    t2 = time.perf_counter()
    # Written here, not re-validated against SearchOut by FastAPI (~0.3 ms a search): the
    # body is ``to_dict()``'s, whose shape tests/test_api_schema.py checks.
    content = orjson.dumps(body)
    # Where the time went, for browsers' developer tools and bench/http_bench.py.
    timing = f"engine;dur={(t1 - t0) * 1e3:.3f}, snippets;dur={(t2 - t1) * 1e3:.3f}, json;dur={(time.perf_counter() - t2) * 1e3:.3f}"
    return content, {BUILD_HEADER: served.engine.build_id, "Server-Timing": timing}


async def answer_async(served: Served, params: SearchQuery) -> tuple[bytes, dict[str, str]]:
    """BM25 alone is a few milliseconds of Python holding the GIL: it runs on the event
    loop, since a thread would only add its hand-off (~0.4 ms). A query that runs an
    encoder's forward pass (which releases the GIL) goes to the thread pool, so the
    event loop keeps serving meanwhile."""
    if served.engine.encodes_query(params.mode):
        return await run_in_threadpool(answer, served, params)
    return answer(served, params)


class SearchAPI(FastAPI):
    """The API's FastAPI app, answering well-formed ``GET /api/search`` requests itself
    (see the module's docstring); ``fast_search = False`` sends every request through
    FastAPI, as the tests do to compare the two."""

    fast_search = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.fast_search
            and scope["type"] == "http"
            and scope["path"] == SEARCH_PATH
            and scope["method"] == "GET"
            and await self._answer_search(scope, send)
        ):
            return
        await super().__call__(scope, receive, send)

    async def _answer_search(self, scope: Scope, send: Send) -> bool:
        """Send a search's answer and return True, or send nothing and return False.

        Parameters that fail the schema go to the FastAPI route, which states the 422 in
        its own words (no search has run). Once the search runs, its answer is sent from
        here whatever it is, a domain error included (the route would only run the whole
        search a second time to reach the same error)."""
        holder: EngineHolder = self.state.holder
        if not holder.loaded:
            return False
        try:
            # As Starlette reads a query string: the last of repeated keys counts.
            raw = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
            params = SearchQuery.model_validate(raw)
        except (ValidationError, ValueError):
            return False
        status = 200
        try:
            content, headers = await answer_async(holder.current(), params)
        except PaperSearchError as e:
            status, content, headers = status_for(e), orjson.dumps(error_body(str(e), e.code, e.params)), {}
        except Exception as e:  # noqa: BLE001 - as the API's last handler: a 500, the details logged
            log.exception("unexpected error", exc_info=e)
            status, content, headers = 500, orjson.dumps(error_body(INTERNAL_ERROR, "internal_error", {})), {}
        raw_headers = [(b"content-length", str(len(content)).encode()), (b"content-type", b"application/json")]
        raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": content})
        return True
