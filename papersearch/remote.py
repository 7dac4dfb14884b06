"""The CLI's fast path: ``search``, ``similar`` and ``eval`` asked of a running server.

A command that opens the index itself pays for Kiwi, FAISS and the encoders (3–5 s)
before its first answer; a server has them loaded. :class:`RemoteEngine` answers the
engine calls those commands make (``search``, ``similar``, ``missing_ids``) over the
HTTP API, with the same typed responses (``SearchResponse.from_dict``), so the commands
print the same thing either way. :func:`find_server` picks the server: ``--server URL``
(or ``$PAPERSEARCH_SERVER``) always, or one answering on the default address that serves
the very index the command would open (its ``/api/health`` names it); never one serving
another index. Standard-library HTTP only: the fast path imports nothing heavy.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from search.core.errors import IndexNotFound, InvalidQuery, PaperNotFound, PaperSearchError
from search.core.filters import Filters
from search.core.results import SearchResponse

DEFAULT_SERVER = "http://127.0.0.1:8000"
PROBE_TIMEOUT_S = 0.3  # a server on loopback answers health in ~2 ms; nothing listening fails at once
TIMEOUT_S = 120.0  # a search on a loaded server; long only for a pathological request


class ServerUnavailable(IndexNotFound):
    """``--server`` names a server that does not answer."""


def find_server(explicit: str | None, index_root: Path, auto: bool = True) -> str | None:
    """The server to ask: ``explicit`` (checked), else the default address when it serves
    ``index_root``, else None (the command opens the index itself)."""
    if explicit:
        url = explicit.rstrip("/")
        if _health(url, TIMEOUT_S) is None:
            raise ServerUnavailable(f"no papersearch server answers at {url}")
        return url
    if not auto:
        return None
    health = _health(DEFAULT_SERVER, PROBE_TIMEOUT_S)
    if health is None or not isinstance(health.get("index"), str):
        return None
    try:
        same = Path(health["index"]).resolve() == Path(index_root).resolve()
    except OSError:
        return None
    return DEFAULT_SERVER if same else None


def _health(url: str, timeout: float) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=timeout) as r:  # noqa: S310 - http(s) URL the user gave
            body = json.loads(r.read())
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) and body.get("status") == "ok" else None


class RemoteEngine:
    """The engine calls of ``search``, ``similar`` and ``eval``, answered by the server at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def search(
        self, query: str, k: int = 10, mode: str = "hybrid", offset: int = 0, fusion: str | None = None,
        rrf_k: int | None = None, weights: Mapping[str, float] | None = None, filters: Filters = Filters(),
        sort: str = "relevance",
    ) -> SearchResponse:
        params: dict[str, Any] = {"q": query, "k": k, "offset": offset, "mode": mode, "sort": sort}
        optional = {
            "fusion": fusion, "rrf_k": rrf_k, "date_from": filters.date_from, "date_to": filters.date_to,
            "min_upvotes": filters.min_upvotes,
            "weights": ",".join(f"{leg}={w:g}" for leg, w in weights.items()) if weights else None,
        }
        params.update({key: v for key, v in optional.items() if v is not None})
        return SearchResponse.from_dict(self._call("GET", "/api/search?" + urllib.parse.urlencode(params)))

    def similar(self, paper_id: str | None = None, text: str | None = None, k: int = 10, mode: str | None = None) -> SearchResponse:
        if paper_id is not None:
            query = urllib.parse.urlencode({"k": k, **({"mode": mode} if mode else {})})
            return SearchResponse.from_dict(self._call("GET", f"/api/papers/{urllib.parse.quote(paper_id, safe='')}/similar?{query}"))
        body = {"text": text, "k": k, **({"mode": mode} if mode else {})}
        return SearchResponse.from_dict(self._call("POST", "/api/similar", body))

    def missing_ids(self, ids: Sequence[str]) -> list[str]:
        """Which of ``ids`` the served index does not have (one small request each)."""
        missing = []
        for pid in ids:
            try:
                self._call("GET", f"/api/papers/{urllib.parse.quote(pid, safe='')}")
            except PaperNotFound:
                missing.append(pid)
        return missing

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:  # noqa: S310
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise _domain_error(e.code, e.read()) from None
        except (OSError, ValueError) as e:
            raise ServerUnavailable(f"the server at {self.url} stopped answering ({e})") from None


ERROR_CLASSES: dict[int, type[PaperSearchError]] = {404: PaperNotFound, 422: InvalidQuery, 503: IndexNotFound}


def _domain_error(status: int, raw: bytes) -> PaperSearchError:
    """The server's error as the library exception it was, with its code and params."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    cls = ERROR_CLASSES.get(status, PaperSearchError)
    detail = str(body.get("detail") or f"HTTP {status} from the server")
    params = body.get("params") if isinstance(body.get("params"), dict) else None
    return cls(detail, code=body.get("code") if isinstance(body.get("code"), str) else None, params=params)
