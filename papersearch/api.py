"""The HTTP API and the web page: ``create_app(index_root)`` gives a FastAPI app.

The index (and the embedding model) load once, at start-up, into an :class:`EngineHolder`;
``POST /api/reload`` loads a newer build on a background thread and swaps it in without
failing or delaying running requests. Domain errors become JSON ``{"detail": "..."}`` at
this edge (``papersearch/api_errors.py``):

    InvalidQuery (and request validation)  422
    PaperNotFound, unknown route           404
    reload not from loopback, bad token    403
    BuildLocked                            409
    no/corrupt/incompatible index, model   503

Endpoints are plain ``def``: FastAPI runs them on its thread pool, so a slow query (or a
reload loading a model) never blocks the event loop. ``/api/search`` is the exception
(``papersearch/api_search.py``): the app answers a well-formed search itself, without
FastAPI's per-request work, and runs a BM25-only query on the event loop (a few
milliseconds of GIL-bound Python, which a thread hand-off would only lengthen).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from papersearch.api_errors import ERRORS, add_error_handlers
from papersearch.api_models import (
    Error,
    HealthOut,
    Mode,
    PaperOut,
    ReloadOut,
    SearchOut,
    SimilarIn,
)
from papersearch.api_pages import add_pages
from papersearch.api_search import (
    BUILD_HEADER,
    SEARCH_PATH,
    SearchAPI,
    SearchQuery,
    answer_async,
    with_snippets,
)
from search.core.query_limits import MAX_K, SIMILAR_MODE
from search.core.embedding_status import read_status
from search.serve.holder import EngineHolder

WEB_DIR = Path(__file__).parent / "web"
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

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

    app = SearchAPI(
        docs_url=None,  # /docs and /redoc are served by papersearch/api_pages.py from local assets
        redoc_url=None,
        title="papersearch",
        version="0.1.0",
        summary="Search Korean AI-paper digests: BM25 over Kiwi morphemes + multilingual embeddings.",
        lifespan=lifespan,
    )
    app.state.holder = holder

    add_error_handlers(app)

    @app.get(SEARCH_PATH, response_model=SearchOut, responses=ERRORS, tags=["search"])
    async def search(params: Annotated[SearchQuery, Query()]) -> Response:
        """Search; the CLI's `search --json` output plus a highlighted snippet per hit."""
        served = holder.current()
        content, headers = await answer_async(served, params)
        return Response(content, media_type="application/json", headers=headers)

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
        mode: Annotated[Mode, Query(description="dense uses the stored vectors; bm25 the paper's text; hybrid both.")] = SIMILAR_MODE,
    ) -> dict[str, Any]:
        """Papers similar to a paper in the index (the paper itself is left out)."""
        served = holder.current()
        resp = served.engine.similar(paper_id=paper_id, k=k, mode=mode)
        response.headers[BUILD_HEADER] = served.engine.build_id
        return with_snippets(served, resp, set())

    @app.post(
        "/api/similar",
        response_model=SearchOut,
        responses={
            400: {"model": Error, "description": "The body could not be read (not UTF-8)."},
            404: {"model": Error, "description": "One of the ids is not in the index."},
            **ERRORS,
        },
        tags=["papers"],
    )
    def similar_to_text(response: Response, body: SimilarIn) -> dict[str, Any]:
        """Papers similar to a text (e.g. a pasted abstract), or to several papers at once."""
        served = holder.current()
        if body.ids is not None:
            resp = served.engine.similar_many(body.ids, k=body.k, mode=body.mode)
        else:
            resp = served.engine.similar(text=body.text, k=body.k, mode=body.mode)
        response.headers[BUILD_HEADER] = served.engine.build_id
        return with_snippets(served, resp, set())

    @app.get("/api/health", response_model=HealthOut, responses={503: ERRORS[503]}, tags=["service"])
    def health() -> dict[str, Any]:
        """Status of the served index: papers, dense on/off, model, build."""
        served = holder.current()
        engine = served.engine
        legs = [{"name": "bm25", "kind": "bm25", "backend": None, "model": None, "dim": None, "ready": True, "notice": None}]
        legs += [
            {"name": name, "kind": "dense", "backend": spec.backend, "model": spec.model, "dim": spec.dim,
             "ready": engine.dense_legs[name].ready, "notice": engine.dense_legs[name].notice}
            for name, spec in engine.leg_specs.items()
        ]
        return {
            "status": "ok",
            "papers": len(engine.ids),
            "dense": engine.dense_ready,
            "dense_index": bool(engine.dense_legs),
            "legs": legs,
            "modes": engine.modes,
            "model": ", ".join(spec.model for spec in engine.leg_specs.values()) or None,
            "model_notice": engine.model_notice,
            "fusion": engine.fusion.to_dict(),
            "match": engine.match_thresholds.to_dict(),
            "embedding": _embedding(holder),
            "build_id": engine.build_id,
            "built_at": engine.manifest.built_at,
            "loaded_at": dt.datetime.fromtimestamp(served.loaded_at, dt.timezone.utc).isoformat(timespec="seconds"),
            "index": holder.location,
        }

    @app.post(
        "/api/reload",
        response_model=ReloadOut,
        responses={
            202: {"model": ReloadOut, "description": "wait=false: the load started in the background."},
            403: {"model": Error, "description": "Not from loopback (or proxied) and no valid token."},
            **ERRORS,
        },
        tags=["service"],
    )
    def reload(
        request: Request,
        response: Response,
        x_reload_token: Annotated[str | None, Header(description="Needed unless the client is on loopback.")] = None,
        wait: Annotated[bool, Query(description="Answer when the new build serves (false: at once, 202).")] = True,
    ) -> dict[str, Any]:
        """Swap in the newest build of the index. It loads on a background thread while
        searches keep answering from the old build; running requests finish on it."""
        if not _reload_allowed(request, reload_token, x_reload_token):
            raise HTTPException(403, "reload is accepted only from loopback or with a valid X-Reload-Token header")
        serving = holder.build_id  # before the load starts: it may end before this answers
        future = holder.start_reload()
        if wait:
            return future.result()
        response.status_code = 202
        return {"status": "loading", "build_id": serving, "previous": serving}

    add_pages(app, holder, WEB_DIR)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


def _embedding(holder: EngineHolder) -> dict[str, Any] | None:
    """A progressive build's progress, as the API states it (search/core/embedding_status.py)."""
    if holder.layout is None:
        return None
    status = read_status(holder.layout)
    if status is None:
        return None
    keep = ("state", "legs", "leg", "embedded", "to_embed", "papers_per_s", "eta_s", "legs_after", "error", "updated_at")
    return {k: status[k] for k in keep if k in status}


def _reload_allowed(request: Request, token: str | None, given: str | None) -> bool:
    """A valid token, or a loopback peer that is not a proxy. A request carrying any
    forwarding header came through a proxy (or says so): its loopback address stands for
    a client somewhere else, so it needs the token. ``serve`` runs uvicorn without proxy
    headers unless --forwarded-allow-ips is given, so the peer is the TCP peer."""
    if token and given is not None and hmac.compare_digest(token.encode(), given.encode()):
        return True
    if any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # e.g. "testclient", or a unix socket peer
