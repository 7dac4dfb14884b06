"""CLI messages a new user trips over, each reproduced with its old input: a malformed
relevance set, a build with nothing usable, paging past the end, ``similar`` with nothing
to compare, help without examples, a busy port."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from papersearch.cli import main


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    "qrels, message",
    [
        ({"queries": [{"qid": "a", "relevant": {"2509.02544": 2}}]}, 'queries[0]: "query" is missing'),
        ({"queries": [{"query": "강화학습"}]}, 'queries[0]: "relevant" is missing'),
        ({"queries": ["강화학습"]}, "queries[0]: expected an object, got str"),
        ({"queries": [{"query": "x", "relevant": {"2509.02544": "high"}}]}, "grades must be numbers"),
        ({"similar": [{"relevant": {"2509.02544": 1}}]}, 'similar[0]: "id" is missing'),
        ({}, "nothing to score"),
        ({"queries": "강화학습"}, '"queries" must be a list'),
        ([1, 2], "expected {\"queries\""),
    ],
)
def test_eval_rejects_a_malformed_relevance_set_by_place(
    runner: CliRunner, bm25_index: Path, tmp_path: Path, qrels: object, message: str
) -> None:
    path = tmp_path / "qrels.json"
    path.write_text(json.dumps(qrels, ensure_ascii=False))
    result = runner.invoke(main, ["eval", str(path), "--index", str(bm25_index), "--mode", "bm25"])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert "README" in result.output  # where the format is documented


def test_eval_on_the_dev_set_still_scores(runner: CliRunner, bm25_index: Path) -> None:
    from tests.conftest import DEV_QRELS

    result = runner.invoke(main, ["eval", str(DEV_QRELS), "--index", str(bm25_index), "--mode", "bm25", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overall"]["ndcg@10"] > 0.5


def test_eval_names_relevant_ids_the_index_lacks(runner: CliRunner, bm25_index: Path, tmp_path: Path) -> None:
    """A relevant id missing from the index scores as a miss: said on stderr and in --json,
    and the dev set (every id in the sample) has none."""
    from tests.conftest import DEV_QRELS

    path = tmp_path / "qrels.json"
    path.write_text(json.dumps({"queries": [{"query": "강화학습", "relevant": {"2509.02544": 1, "9999.99999": 2}}],
                                "similar": [{"id": "2509.02544", "relevant": {"0000.00001": 1}}]}))
    result = runner.invoke(main, ["eval", str(path), "--index", str(bm25_index), "--mode", "bm25", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unknown_ids"] == ["0000.00001", "9999.99999"]
    assert "2 paper id(s)" in result.stderr and "9999.99999" in result.stderr and "count as misses" in result.stderr
    dev = runner.invoke(main, ["eval", str(DEV_QRELS), "--index", str(bm25_index), "--mode", "bm25"])
    assert dev.exit_code == 0 and "warning" not in dev.stderr


@pytest.mark.parametrize(
    "args, code",
    [
        (["similar", "0000.00000"], "paper_not_found"),
        (["search", "강화학습", "--weights", "nosuchleg=1"], "unknown_leg"),
        (["info"], "index_not_found"),
    ],
)
def test_json_errors_are_json_on_stdout(runner: CliRunner, bm25_index: Path, tmp_path: Path, args: list[str], code: str) -> None:
    root = tmp_path / "none" if code == "index_not_found" else bm25_index
    result = runner.invoke(main, [*args, "--index", str(root), "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False and body["code"] == code and body["error"]
    assert "Error:" in result.stderr and "Traceback" not in result.output


def _bad_digests(folder: Path) -> Path:
    folder.mkdir()
    (folder / "empty.md").write_text("")
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00" + bytes(range(256)))
    (folder / "nolink.md").write_text("# 2026-02-01 Daily Papers (Top 5)\n\n## 1. Paper without a link\n\n### 📌 요약\n요약.\n")
    return folder


def test_build_with_only_bad_files_lists_every_problem(runner: CliRunner, tmp_path: Path) -> None:
    src = _bad_digests(tmp_path / "src")
    result = runner.invoke(main, ["index", "build", "--source", str(src), "--index", str(tmp_path / "ix"), "--no-dense"])
    assert result.exit_code == 1
    assert "no papers found" in result.stderr and "3 problems" in result.stderr
    for name in ("empty.md", "binary.md", "nolink.md:3"):
        assert name in result.stderr, result.stderr


def test_build_with_only_bad_files_prints_json_on_failure(runner: CliRunner, tmp_path: Path) -> None:
    src = _bad_digests(tmp_path / "src")
    result = runner.invoke(main, ["index", "build", "--source", str(src), "--index", str(tmp_path / "ix"), "--no-dense", "--json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False and "no papers found" in out["error"]
    assert {Path(e["file"]).name for e in out["errors"]} == {"empty.md", "binary.md", "nolink.md"}


def test_build_from_a_missing_folder_says_it_does_not_exist(runner: CliRunner, tmp_path: Path, digests: Path) -> None:
    missing = tmp_path / "no-such-folder"
    result = runner.invoke(main, ["index", "build", "--source", str(missing), "--index", str(tmp_path / "ix"), "--no-dense"])
    assert result.exit_code == 1
    assert f"source {missing} does not exist" in result.output and "(1 problems)" not in result.output
    # Beside a good source too: building without it would drop its papers.
    result = runner.invoke(
        main, ["index", "build", "--source", str(digests), "--source", str(missing), "--index", str(tmp_path / "ix"), "--no-dense", "--json"]
    )
    assert result.exit_code == 1 and "does not exist" in json.loads(result.stdout)["error"]
    assert not (tmp_path / "ix" / "current").exists()


def test_similar_with_neither_id_nor_text_says_what_to_give(runner: CliRunner, bm25_index: Path) -> None:
    result = runner.invoke(main, ["similar", "--index", str(bm25_index)])
    assert result.exit_code == 2
    assert "give a PAPER_ID" in result.output and "--text" in result.output and "not both" not in result.output
    both = runner.invoke(main, ["similar", "2509.02544", "--text", "x", "--index", str(bm25_index)])
    assert both.exit_code == 2 and "not both" in both.output


def test_offset_past_the_end_says_so(runner: CliRunner, bm25_index: Path) -> None:
    query = "위성 영상 분할"
    total = json.loads(runner.invoke(main, ["search", query, "--index", str(bm25_index), "--mode", "bm25", "--json"]).stdout)["total"]
    assert 0 < total < 50
    result = runner.invoke(main, ["search", query, "--index", str(bm25_index), "--mode", "bm25", "--offset", "50"])
    assert result.exit_code == 0
    assert f"{total} matches" in result.stdout and "past the end" in result.stdout
    assert "No results for" not in result.stdout
    none = runner.invoke(main, ["search", "zzqxjw", "--index", str(bm25_index), "--mode", "bm25"])
    assert "No results for 'zzqxjw'" in none.stdout


@pytest.mark.parametrize("args", [[], ["index"]])
def test_group_help_has_an_example(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args + ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "papersearch index build" in result.output


def test_serve_on_a_busy_port_fails_before_loading_or_announcing(runner: CliRunner, bm25_index: Path) -> None:
    from papersearch.cli_serve import serve_cmd

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = runner.invoke(serve_cmd, ["--index", str(bm25_index), "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "Open http" not in result.output and "Serving" not in result.output


def test_serve_banner_has_no_nested_parentheses(runner: CliRunner, bm25_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw))
    from papersearch.cli_serve import serve_cmd

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(serve_cmd, ["--index", str(bm25_index), "--port", str(port)])
    assert served["port"] == port
    assert result.exit_code == 0, result.output
    serving = next(line for line in result.output.splitlines() if line.startswith("Serving"))
    assert "72 papers" in serving and "BM25 only: index has no dense vectors" in serving
    assert "((" not in serving and "))" not in serving and serving.count("(") <= 1
    open_line = next(line for line in result.output.splitlines() if line.startswith("Open http://127.0.0.1:"))
    assert open_line.count("(") == 1
