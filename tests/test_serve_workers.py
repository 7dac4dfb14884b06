"""``papersearch serve --workers N``: N real server processes over one index, and a reload
reaching every one of them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.synthetic import add_papers
from index.build import build_index

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wait(fn, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = fn()
            if got:
                return got
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker pids from /proc")
def test_two_workers_answer_and_a_reload_reaches_both(bm25_index: Path, digests: Path, tmp_path: Path) -> None:
    root = tmp_path / "index"
    shutil.copytree(bm25_index, root, symlinks=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "papersearch", "serve", "--index", str(root), "--port", str(port), "--workers", "2",
         "--no-build-if-missing", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        old = _wait(lambda: httpx.get(f"{base}/api/health", timeout=5).json()["build_id"], 120, "the server")
        assert len(_children(proc.pid)) >= 2  # the supervisor's worker processes
        r = httpx.get(f"{base}/api/search", params={"q": "다중 턴 강화학습", "mode": "bm25", "k": 3}, timeout=30)
        assert r.status_code == 200 and r.json()["results"][0]["snippet"]["html"].count("<mark>") > 0

        corpus = tmp_path / "corpus"
        shutil.copytree(digests, corpus)
        add_papers(corpus / "new", 0, 2)
        new = build_index([corpus], root, dense="off", progress=False).build_id
        assert httpx.post(f"{base}/api/reload", timeout=120).json()["status"] == "reloaded"

        def all_new() -> bool:
            # Every answer for a while from the new build: the other worker was replaced too.
            seen = {httpx.get(f"{base}/api/health", timeout=5).json()["build_id"] for _ in range(12)}
            return seen == {new}

        _wait(all_new, 180, "every worker to serve the new build")
        assert new != old
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
