"""The CLI's fast path (papersearch/remote.py): ``search``, ``similar`` and ``eval`` asked
of a running server print what the same command prints opening the index itself, errors
included; a server is found by itself only when it serves the very index asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import papersearch.remote as remote
from papersearch.api import create_app
from papersearch.cli import main
from tests.api_support import serve_in_thread
from tests.conftest import DEV_QRELS


@pytest.fixture(scope="module")
def server(dense_index: Path) -> Iterator[str]:
    with serve_in_thread(create_app(dense_index)) as url:
        yield url


COMMANDS = [
    ["search", "다중 턴 강화학습", "--k", "3"],
    ["search", "강화학습", "--mode", "bm25", "--date-from", "2025-09-05", "--sort", "newest", "--k", "2", "--offset", "1"],
    ["search", "qwxzv plmkj", "--k", "2"],
    ["search", "강화학습", "--weights", "bm25=1,tiny-static=0.5", "--fusion", "rrf"],
    ["similar", "2509.02544", "--k", "3"],
    ["similar", "--text", "멀티턴 강화학습으로 GUI 에이전트를 학습한다", "--k", "3", "--mode", "bm25"],
]
ERRORS = [
    (["similar", "0000.00000"], "paper_not_found"),
    (["search", "강화학습", "--weights", "nosuchleg=1"], "unknown_leg"),
    (["search", "강화학습", "--date-from", "2025-09-10", "--date-to", "2025-09-01"], "date_range_inverted"),
    (["search", "강화학습", "--mode", "nosuch"], "unknown_mode"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_server_answers_as_the_index_opened_here(server: str, dense_index: Path, args: list[str]) -> None:
    runner = CliRunner()
    here = runner.invoke(main, [*args, "--index", str(dense_index), "--local", "--json"])
    there = runner.invoke(main, [*args, "--index", str(dense_index), "--server", server, "--json"])
    assert here.exit_code == there.exit_code == 0, (here.output, there.output)
    assert json.loads(there.stdout) == json.loads(here.stdout)
    table_here = runner.invoke(main, [*args, "--index", str(dense_index), "--local"])
    table_there = runner.invoke(main, [*args, "--index", str(dense_index), "--server", server])
    assert table_there.stdout == table_here.stdout


@pytest.mark.parametrize(("args", "code"), ERRORS, ids=lambda a: a if isinstance(a, str) else " ".join(a[:2]))
def test_errors_from_a_server_are_the_same_errors(server: str, dense_index: Path, args: list[str], code: str) -> None:
    runner = CliRunner()
    for where in (["--local"], ["--server", server]):
        result = runner.invoke(main, [*args, "--index", str(dense_index), *where, "--json"])
        assert result.exit_code == 1, result.output
        body = json.loads(result.stdout)
        assert body["ok"] is False and body["code"] == code, (where, body)


def test_eval_through_a_server_scores_the_same(server: str, dense_index: Path) -> None:
    runner = CliRunner()
    here = json.loads(runner.invoke(main, ["eval", str(DEV_QRELS), "--index", str(dense_index), "--local", "--json"]).stdout)
    there = json.loads(runner.invoke(main, ["eval", str(DEV_QRELS), "--index", str(dense_index), "--server", server, "--json"]).stdout)
    assert there == here


def test_a_server_is_found_only_for_the_same_index(server: str, dense_index: Path, bm25_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "DEFAULT_SERVER", server)
    assert remote.find_server(None, dense_index) == server
    assert remote.find_server(None, bm25_index) is None  # the server serves another index
    assert remote.find_server(None, dense_index, auto=False) is None  # --local
    # Found by itself: the command opens no index of its own.
    import search.engine

    def no_local(*_a, **_k):  # noqa: ANN202
        raise AssertionError("opened the index in process although its server was up")

    monkeypatch.setattr(search.engine.SearchEngine, "open", no_local)
    result = CliRunner().invoke(main, ["search", "강화학습", "--index", str(dense_index), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["total"] > 0


def test_a_named_server_that_is_down_is_an_error(dense_index: Path) -> None:
    result = CliRunner().invoke(main, ["search", "강화학습", "--index", str(dense_index), "--server", "http://127.0.0.1:9", "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["code"] == "server_unavailable" and "127.0.0.1:9" in body["error"]
    both = CliRunner().invoke(main, ["search", "a", "--server", "http://x", "--local"])
    assert both.exit_code == 2 and "contradict" in both.output
