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
