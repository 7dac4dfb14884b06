"""The page's routes, kept apart from the search endpoints in ``papersearch/api.py``: the web
page (one HTML file; the paper view ``/paper/{id}`` is the same page, routed by app.js so
it has its own shareable URL), its favicon, ``/api/start`` for the start page, and the
API docs (``/docs``, ``/redoc``) with Swagger UI / ReDoc assets served from the
``fastapi-offline`` package instead of a CDN, so they render with no internet.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from papersearch.api_models import StartOut
from search.serve.holder import EngineHolder
from search.serve.start import start_page

DOCS_ASSETS = "/docs-assets"


def docs_assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def add_pages(app: FastAPI, holder: EngineHolder, web_dir: Path) -> None:
    index_html = web_dir / "index.html"

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(index_html, media_type="text/html; charset=utf-8")

    @app.get("/paper/{paper_id}", include_in_schema=False)
    def paper_page(paper_id: str) -> FileResponse:
        # An unknown id is answered by the page itself (it asks /api/papers/{id}).
        return FileResponse(index_html, media_type="text/html; charset=utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(web_dir / "favicon.svg", media_type="image/svg+xml")

    cache: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    @app.get("/api/start", response_model=StartOut, tags=["service"])
    def start() -> dict[str, Any]:
        """Example queries drawn from the served index (Korean, English, mixed) and its newest papers."""
        engine = holder.current().engine
        # A few BM25 searches per build: computed once, then served from memory.
        with lock:
            if engine.build_id not in cache:
                cache.clear()
                cache[engine.build_id] = start_page(engine)
            return cache[engine.build_id]

    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}/favicon.ico",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}/favicon.ico",
            with_google_fonts=False,
        )
