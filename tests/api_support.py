"""Helpers for the API, schema and browser tests: private index copies, and a real
uvicorn server on a free loopback port in a thread. The indexes themselves are the session
fixtures of ``conftest.py`` (bm25_index, dense_index)."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from papersearch.api import create_app

REPO = Path(__file__).resolve().parent.parent
DIGESTS = REPO / "data" / "digests"
RELOAD_TOKEN = "test-reload-token"


def copy_index(src: Path, dst: Path) -> Path:
    """A private copy (``current`` stays a relative symlink) for tests that build into it."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a socket bound here, so no port race);
    yields the base URL and stops the server on exit."""
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it keep-alive requests stall on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(600):  # start-up loads the index and Kiwi: allow a minute
            if server.started or not thread.is_alive():
                break
            time.sleep(0.1)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


# bm25_index, dense_index (tiny offline model) and tiny_model_dir: session fixtures of
# tests/conftest.py, built once from data/digests. Tests that build into an index copy it.
@pytest.fixture(scope="module")
def bm25_root(bm25_index: Path) -> Path:
    return bm25_index


@pytest.fixture(scope="module")
def dense_root(dense_index: Path) -> Path:
    return dense_index


@pytest.fixture(scope="module")
def bm25(bm25_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(bm25_root, reload_token=RELOAD_TOKEN)) as client:
        yield client


@pytest.fixture(scope="module")
def dense(dense_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(dense_root)) as client:
        yield client
