"""The HTTP API and the web page: ``create_app(index_root)`` gives a FastAPI app.

The index (and the embedding model) load once, at start-up, into an :class:`EngineHolder`;
``POST /api/reload`` swaps in a newer build without failing running requests. Domain
errors become JSON ``{"detail": "..."}`` at this edge:

    InvalidQuery (and request validation)  422
    PaperNotFound, unknown route           404
    reload not from loopback, bad token    403
    BuildLocked                            409
    no/corrupt/incompatible index, model   503

Endpoints are plain ``def``: FastAPI runs them on its thread pool, so a slow query (or a
reload loading a model) never blocks the event loop.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Path as PathParam, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from search.api_models import Error, HealthOut, Mode, PaperOut, ReloadOut, SearchOut, SimilarIn
from search.engine import MAX_K, MAX_OFFSET, MAX_QUERY_CHARS, Filters
from search.engine_holder import EngineHolder, Served
from search.errors import (
    BuildLocked,
    IndexCorrupt,
    IndexIncompatible,
    IndexNotFound,
    InvalidQuery,
    ModelMismatch,
    ModelUnavailable,
    PaperNotFound,
    PaperSearchError,
)
from search.filters import parse_date
from search.results import SearchResponse

log = logging.getLogger("papersearch.api")
WEB_DIR = Path(__file__).parent / "web"
BUILD_HEADER = "X-Index-Build"  # which build answered: lets clients (and tests) see a reload
MAX_UPVOTES = 1_000_000_000

STATUS: list[tuple[type[PaperSearchError], int]] = [
    (InvalidQuery, 422),
    (PaperNotFound, 404),
    (BuildLocked, 409),
    (IndexNotFound, 503),
    (IndexCorrupt, 503),
    (IndexIncompatible, 503),
    (ModelUnavailable, 503),
    (ModelMismatch, 503),
]
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Error, "description": "Bad input: empty or too long query, k/offset out of range, bad date, unknown mode."},
    503: {"model": Error, "description": "No index is loaded (build one, then POST /api/reload)."},
}


def status_for(exc: PaperSearchError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def create_app(
    index_root: Path | str, model: str | None = None, reload_token: str | None = None, holder: EngineHolder | None = None
) -> FastAPI:
    """``holder``: another engine's holder (the Milvus one); default the local index's."""
    holder = holder or EngineHolder(index_root, model=model)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not holder.loaded:  # the serve command may have loaded it already, to fail early
            await run_in_threadpool(holder.load_if_present)
        yield

    app = FastAPI(
        title="papersearch",
        version="0.1.0",
        summary="Search Korean AI-paper digests: BM25 over Kiwi morphemes + multilingual embeddings.",
        lifespan=lifespan,
    )
    app.state.holder = holder

    @app.exception_handler(PaperSearchError)
    async def domain_error(_req: Request, exc: PaperSearchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable line in `detail` (what the page shows); the structured list stays.
        errs = exc.errors()
        lines = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}" for e in errs]
        return JSONResponse({"detail": "; ".join(lines), "errors": jsonable_encoder(errs)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)

    @app.get("/api/search", response_model=SearchOut, responses=ERRORS, tags=["search"])
    def search(
        response: Response,
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="Query: Korean, English or mixed.")],
        k: Annotated[int, Query(ge=1, le=MAX_K, description="Results per page.")] = 10,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip (paging).")] = 0,
        mode: Annotated[Mode, Query(description="hybrid (BM25 + dense, fused), bm25 or dense.")] = "hybrid",
        date_from: Annotated[str | None, Query(description="Only papers from this date on (YYYY-MM-DD).")] = None,
        date_to: Annotated[str | None, Query(description="Only papers up to this date (YYYY-MM-DD).")] = None,
        min_upvotes: Annotated[int | None, Query(ge=0, le=MAX_UPVOTES)] = None,
    ) -> dict[str, Any]:
        """Search; the CLI's `search --json` output plus a highlighted snippet per hit."""
        served = holder.current()
        filters = Filters(parse_date(date_from), parse_date(date_to), min_upvotes)
        resp = served.engine.search(q, k=k, mode=mode, offset=offset, filters=filters)
        terms = set(served.engine.query_terms(resp.query))
        response.headers[BUILD_HEADER] = served.engine.build_id
        return _with_snippets(served, resp, terms)

    @app.get("/api/papers/{paper_id}", response_model=PaperOut, responses={404: {"model": Error}, **ERRORS}, tags=["papers"])
    def paper(response: Response, paper_id: Annotated[str, PathParam(description="arXiv id, e.g. 2509.02544")]) -> dict[str, Any]:
        """The full stored record of one paper."""
        served = holder.current()
        response.headers[BUILD_HEADER] = served.engine.build_id
        return served.engine.paper(paper_id).to_dict()

    @app.get("/api/papers/{paper_id}/similar", response_model=SearchOut, responses={404: {"model": Error}, **ERRORS}, tags=["papers"])
    def similar_to_paper(
        response: Response,
        paper_id: str,
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        mode: Annotated[Mode, Query(description="dense uses the stored vector; bm25 the paper's text.")] = "dense",
    ) -> dict[str, Any]:
        """Papers similar to a paper in the index (the paper itself is left out)."""
        served = holder.current()
        resp = served.engine.similar(paper_id=paper_id, k=k, mode=mode)
        response.headers[BUILD_HEADER] = served.engine.build_id
        return _with_snippets(served, resp, set())

    @app.post(
        "/api/similar",
        response_model=SearchOut,
        responses={400: {"model": Error, "description": "The body could not be read (not UTF-8)."}, **ERRORS},
        tags=["papers"],
    )
    def similar_to_text(response: Response, body: SimilarIn) -> dict[str, Any]:
        """Papers similar to a text, e.g. a pasted abstract."""
        served = holder.current()
        resp = served.engine.similar(text=body.text, k=body.k, mode=body.mode)
        response.headers[BUILD_HEADER] = served.engine.build_id
        return _with_snippets(served, resp, set())

    @app.get("/api/health", response_model=HealthOut, responses={503: ERRORS[503]}, tags=["service"])
    def health() -> dict[str, Any]:
        """Status of the served index: papers, dense on/off, model, build."""
        served = holder.current()
        engine = served.engine
        dense_meta = engine.manifest.get("dense") or {}
        return {
            "status": "ok",
            "papers": len(engine.ids),
            "dense": engine.dense_ready,
            "dense_index": engine.dense is not None,
            "model": dense_meta.get("model"),
            "model_notice": None if engine.dense_ready else engine.model_notice,
            "build_id": engine.build_id,
            "built_at": engine.manifest.get("built_at"),
            "loaded_at": dt.datetime.fromtimestamp(served.loaded_at, dt.timezone.utc).isoformat(timespec="seconds"),
            "index": holder.location,
        }

    @app.post(
        "/api/reload",
        response_model=ReloadOut,
        responses={403: {"model": Error, "description": "Not from loopback and no valid token."}, **ERRORS},
        tags=["service"],
    )
    def reload(
        request: Request,
        x_reload_token: Annotated[str | None, Header(description="Needed unless the client is on loopback.")] = None,
    ) -> dict[str, Any]:
        """Swap in the newest build of the index; running requests finish on the old one."""
        if not _reload_allowed(request, reload_token, x_reload_token):
            raise HTTPException(403, "reload is accepted only from loopback or with a valid X-Reload-Token header")
        return holder.reload()

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


def _with_snippets(served: Served, resp: SearchResponse, query_terms: set[str]) -> dict[str, Any]:
    out = resp.to_dict()
    for hit, row in zip(resp.results, out["results"]):
        # BM25's matched terms, plus the query's own terms for hits only dense found.
        row["snippet"] = served.snippets.for_paper(hit.paper, set(hit.matched) | query_terms).to_dict()
    return out


def _reload_allowed(request: Request, token: str | None, given: str | None) -> bool:
    if token and given is not None and hmac.compare_digest(token.encode(), given.encode()):
        return True
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # e.g. "testclient", or a unix socket peer
