"""The HTTP benchmark's client (``bench/http_bench.py``): one keep-alive connection over a
plain socket, timing each request from send to last byte."""

from __future__ import annotations

import json
import socket
import time


class Client:
    """One keep-alive connection over a plain socket. The time of a request runs from
    sending it to its last byte. Between requests the client does only what reading an
    answer needs (its status and Content-Length): headers and JSON are parsed after the
    run (:meth:`check`). Client and server share this machine's two cores and caches, and
    a real client sits on another machine: ``http.client`` cost ~0.3 ms a request here,
    and parsing each ~10 KB answer in between slowed the server's next answer by
    0.2-0.4 ms (its caches evicted). Every answer must be a 200, or ``get`` raises."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.answers: list[tuple[str, bytes, bytes]] = []  # (path, head, body), checked later
        self.last_ms = 0.0
        self.served_modes: set[str] = set()  # the "mode" the checked answers say they were served in

    def get(self, path: str) -> bytes:
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        t = time.perf_counter()
        self.sock.sendall(request)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"{path}: connection closed")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        length = _content_length(head)
        if length < 0:
            raise RuntimeError(f"{path}: no content-length (chunked answers are not read here)")
        while len(body) < length:
            chunk = self.sock.recv(max(65536, length - len(body)))
            if not chunk:
                raise RuntimeError(f"{path}: connection closed mid-body")
            body += chunk
        self.last_ms = (time.perf_counter() - t) * 1000
        if head[9:12] != b"200":  # "HTTP/1.1 200 OK"
            status_line = head.partition(b"\r\n")[0].decode("latin-1")
            raise RuntimeError(f"{path}: {status_line}: {body[:300]!r}")
        self.answers.append((path, head, body))
        return body

    def get_json(self, path: str) -> dict:
        return json.loads(self.get(path))

    def check(self, key: str | None = "results") -> list[dict[str, float]]:
        """Every kept answer is JSON (with ``key``); returns the server's own account of
        each (``Server-Timing``), in order, for the answers that carry one."""
        timings = []
        for path, head, body in self.answers:
            answer = json.loads(body)
            if key is not None and key not in answer:
                raise RuntimeError(f"{path}: no {key} key")
            if isinstance(answer, dict) and isinstance(answer.get("mode"), str):
                self.served_modes.add(answer["mode"])
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "server-timing":
                    timings.append(parse_server_timing(value.strip()))
        self.answers.clear()
        return timings


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return -1


def parse_server_timing(header: str) -> dict[str, float]:
    """``engine;dur=1.2, snippets;dur=0.4`` → {"engine": 1.2, "snippets": 0.4}."""
    out = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        for p in params.split(";"):
            if p.strip().startswith("dur="):
                out[name] = float(p.strip()[4:])
    return out
