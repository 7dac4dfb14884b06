"""uvicorn's HTTP protocol with two changes for small answers on persistent connections.

**TCP_NODELAY on every connection.** With ``--workers N`` uvicorn binds the listening
socket itself as ``socket.socket(family)``, whose protocol number is 0, not IPPROTO_TCP;
asyncio sets TCP_NODELAY on accepted connections only when it is IPPROTO_TCP. Without it,
Nagle's algorithm holds back the last small write of a response until the client's
delayed ACK (~40 ms): at 100k papers a 5 ms search answered in ~50 ms
(``bench/http_bench.py``). A single-process server binds through asyncio and already
has TCP_NODELAY.

**One write per response.** uvicorn writes a response's head and its body separately;
with TCP_NODELAY that is two segments, two system calls and two wake-ups of the reader
for one answer (a sampling profile of a worker put ~20% of a search request in the
head's write). The head is held until the body's first write, which follows within the
same turn of the event loop, or until the loop's next turn when no body comes (HEAD,
204): the bytes and their order are unchanged.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class CoalescingTransport:
    """A transport that sends a response head together with what is written next."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._head is not None:
            data, self._head = self._head + bytes(data), None
        elif data[:5] == b"HTTP/" and bytes(data[-4:]) == b"\r\n\r\n":
            self._head = bytes(data)
            self._loop.call_soon(self.flush)
            return
        self._transport.write(data)

    def writelines(self, lines: Any) -> None:
        self.write(b"".join(lines))

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not a TCP socket after all: nothing to tune
                pass
        if os.environ.get("PS_COALESCE", "1") == "1":
            transport = CoalescingTransport(transport, asyncio.get_running_loop())  # type: ignore[assignment]
        super().connection_made(transport)
