"""How the API answers errors: domain exceptions become status codes, request validation
one readable line, anything else a 500 with the details left in the server log."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from papersearch.api_models import Error
from search.core.errors import (
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
from search.core.query_limits import without_surrogates

log = logging.getLogger("papersearch.api")
INTERNAL_ERROR = "internal error; see the server log"

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



def add_error_handlers(app: FastAPI) -> None:
    """Domain errors, bad requests and anything unexpected, as JSON ``{"detail": ...}``."""

    @app.exception_handler(PaperSearchError)
    async def domain_error(_req: Request, exc: PaperSearchError) -> JSONResponse:
        return _error(status_for(exc), str(exc), exc.code, exc.params)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable line in `detail`; the first error's field, type and limits in
        # `params` (what the page words in Korean); the structured list stays.
        errs = exc.errors()
        lines = [f"{_field(e) or 'request'}: {e.get('msg', 'invalid')}" for e in errs]
        first = errs[0] if errs else {}
        ctx = {k: v for k, v in (first.get("ctx") or {}).items() if isinstance(v, (int, float, str)) and k != "error"}
        params = {"field": _field(first), "type": first.get("type", ""), **ctx}
        body = {"detail": without_surrogates("; ".join(lines)), "code": "invalid_param", "params": params, "errors": jsonable_encoder(errs)}
        return JSONResponse(_writable(body), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return _error(exc.status_code, str(exc.detail), code, {}, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _error(500, INTERNAL_ERROR, "internal_error", {})


HTTP_CODES = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def error_body(detail: str, code: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every error's JSON: English ``detail``, machine-readable ``code``, its ``params``."""
    return _writable({"detail": detail, "code": code, "params": params})


def _error(status: int, detail: str, code: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(detail, code, params), status_code=status, headers=headers)


def _field(err: Any) -> str:
    """``["query", "min_upvotes"]`` → ``min_upvotes``: the request field, not where it came from."""
    return ".".join(str(p) for p in (err.get("loc") or ())[1:]) if isinstance(err, dict) else ""


def _writable(value: Any) -> Any:
    """A validation error echoes the input back, and not every input can be written as
    UTF-8 JSON: NaN and Infinity (JSON has neither; Starlette refuses them) are echoed as
    strings, and lone surrogates (a body's "\\ud800" escape) are left out, in keys too."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {_writable(k): _writable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_writable(v) for v in value]
    return value
