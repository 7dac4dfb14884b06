"""uvicorn's HTTP protocol, with TCP_NODELAY set on every connection.

With ``--workers N`` uvicorn binds the listening socket itself as ``socket.socket(family)``, whose protocol number is 0, not IPPROTO_TCP;
asyncio sets TCP_NODELAY on accepted connections only when it is IPPROTO_TCP. Without it,
Nagle's algorithm holds back the last small write of a response until the client's
delayed ACK (~40 ms): at 100k papers a 5 ms search answered in ~50 ms
(``bench/http_bench.py``). A single-process server binds through asyncio and already
has TCP_NODELAY.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not a TCP socket after all: nothing to tune
                pass
        super().connection_made(transport)
