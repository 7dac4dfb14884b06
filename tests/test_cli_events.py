"""``serve --json`` and ``watch --json``: what happens, one JSON object per line on stdout
(the log stays on stderr), and errors as JSON like every other command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from papersearch.cli import main
from tests.conftest import REPO


def test_serve_json_says_where_it_serves(bm25_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    result = CliRunner().invoke(main, ["serve", "--index", str(bm25_index), "--port", "8124", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    (event,) = lines  # nothing else on stdout: the log went to stderr
    assert event["event"] == "serving" and event["url"] == "http://127.0.0.1:8124/"
    assert event["papers"] == 72 and event["legs"] == ["bm25"] and event["build_id"]


def test_serve_json_error_is_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "ix"), "--source", str(tmp_path / "nope"), "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False and body["code"] == "source_not_found"


def test_watch_json_prints_each_build(digests: Path, tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    first, *rest = sorted(digests.glob("*.md"))
    shutil.copy(first, src)
    cmd = [sys.executable, "-m", "papersearch", "watch", str(src), "--index", str(root), "--no-dense", "--interval", "0.2", "--json"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        events = [json.loads(proc.stdout.readline())]
        assert events[0]["event"] == "watching" and events[0]["folders"] == [str(src)]
        time.sleep(0.5)
        shutil.copy(rest[0], src)  # a new digest arrives
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            event = json.loads(proc.stdout.readline())
            events.append(event)
            if event["event"] == "built":
                break
        built = events[-1]
        assert built["event"] == "built" and built["papers"] > 0 and built["build_id"] and "added" in built
    finally:
        proc.terminate()
        proc.wait(30)
