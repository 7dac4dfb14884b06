"""The server's transport wrapper: a response head leaves with its body, in one write,
and nothing is lost or reordered when no body follows."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from typing import Any

import uvicorn

from papersearch.http_protocol import CoalescingTransport


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


def test_head_and_body_leave_in_one_write() -> None:
    async def run() -> list[bytes]:
        rec = Recorder()
        t = CoalescingTransport(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(HEAD)
        assert rec.writes == []  # held for the body
        t.write(b"hello")
        await asyncio.sleep(0)  # the loop's next turn finds nothing left to flush
        assert t.get_extra_info("socket") == "info:socket"  # everything else passes through
        return rec.writes

    assert asyncio.run(run()) == [HEAD + b"hello"]


def test_a_head_without_body_is_flushed_on_the_next_turn_and_order_kept() -> None:
    async def run() -> list[bytes]:
        rec = Recorder()
        t = CoalescingTransport(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await asyncio.sleep(0)
        t.write(HEAD)
        t.close()  # a close flushes a head still held
        return rec.writes

    assert asyncio.run(run()) == [b"HTTP/1.1 204 No Content\r\n\r\n", HEAD]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_real_server_answers_heads_bodies_and_empty_responses() -> None:
    unused_port = _free_port()
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status = 204 if scope["path"] == "/empty" else 200
        headers = [] if status == 204 else [(b"content-length", b"5")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if status == 204 else b"hello"})

    config = uvicorn.Config(app, port=unused_port, http="papersearch.http_protocol:NoDelayHTTPProtocol", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", unused_port, timeout=10)
        got = []
        for method, path in [("GET", "/"), ("HEAD", "/"), ("GET", "/empty"), ("GET", "/")]:
            conn.request(method, path)
            resp = conn.getresponse()
            got.append((resp.status, resp.read()))
        assert got == [(200, b"hello"), (200, b""), (204, b""), (200, b"hello")]
    finally:
        server.should_exit = True
        thread.join(10)
