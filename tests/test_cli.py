"""The CLI through click's test runner: JSON shapes, summaries, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from papersearch.cli import main


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def run_json(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_build_json_summary(runner: CliRunner, digests: Path, tmp_path: Path) -> None:
    out = run_json(runner, "index", "build", "--source", str(digests), "--index", str(tmp_path / "ix"), "--no-dense", "--json")
    assert out["papers"] == 72 and out["files"] == 5 and out["errors"] == []
    assert out["dense"] is False


def test_build_with_broken_files_reports_each_and_keeps_72(runner: CliRunner, digests: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(digests, src)
    (src / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (src / "empty.md").write_text("")
    (src / "nolink.md").write_text("# 2026-02-01 Daily Papers (Top 5)\n\n## 1. Paper without a link\n\n### 📌 요약\n요약.\n")
    out = run_json(runner, "index", "build", "--source", str(src), "--index", str(tmp_path / "ix"), "--no-dense", "--json")
    assert out["papers"] == 72 and out["files"] == 8
    problems = {Path(e["file"]).name: e for e in out["errors"]}
    assert set(problems) == {"binary.md", "empty.md", "nolink.md"}
    assert problems["nolink.md"]["line"] == 3
    assert all(set(e) == {"file", "line", "reason"} for e in out["errors"])


def test_build_human_summary_lists_problems(runner: CliRunner, digests: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("")
    result = runner.invoke(main, ["index", "build", "--source", str(digests), "--source", str(tmp_path / "empty.md"), "--index", str(tmp_path / "ix"), "--no-dense"])
    assert result.exit_code == 0, result.output
    assert "Indexed 72 papers from 6 files" in result.stdout and "; 1 problem;" in result.stdout
    assert "empty.md:0: empty file" in result.stderr


def test_build_with_no_papers_fails_and_keeps_nothing_half_written(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("")
    result = runner.invoke(main, ["index", "build", "--source", str(tmp_path), "--index", str(tmp_path / "ix"), "--no-dense"])
    assert result.exit_code == 1 and "no papers found" in result.output
    assert not (tmp_path / "ix" / "current").exists()


def test_search_json_shape(runner: CliRunner, bm25_index: Path) -> None:
    out = run_json(runner, "search", "다중 턴 강화학습", "--index", str(bm25_index), "--json", "--k", "3")
    assert out["query"] == "다중 턴 강화학습" and out["mode"] == "bm25"
    assert len(out["results"]) == 3
    first = out["results"][0]
    assert {"rank", "id", "title", "url", "date", "score", "bm25", "legs"} <= set(first)
    assert first["rank"] == 1 and first["bm25"]["rank"] == 1 and first["legs"] == {"bm25": {"rank": 1, "score": first["bm25"]["score"]}}
    assert first["id"] in {"2509.02544", "2509.02479"}
    assert first["date"] == "2025-09-03" and first["url"].endswith(first["id"])
    assert isinstance(first["score"], float) and first["score"] == first["bm25"]["score"]


def test_search_table(runner: CliRunner, bm25_index: Path) -> None:
    result = runner.invoke(main, ["search", "위성 영상 분할", "--index", str(bm25_index), "--mode", "bm25", "--k", "2"])
    assert result.exit_code == 0
    assert "1. Urban Socio-Semantic Segmentation" in result.stdout and "2601.10477" in result.stdout


def test_search_paging_and_filters(runner: CliRunner, bm25_index: Path) -> None:
    page1 = run_json(runner, "search", "강화학습", "--index", str(bm25_index), "--json", "--k", "3")
    page2 = run_json(runner, "search", "강화학습", "--index", str(bm25_index), "--json", "--k", "3", "--offset", "3")
    assert [r["rank"] for r in page2["results"]] == [4, 5, 6]
    assert not {r["id"] for r in page1["results"]} & {r["id"] for r in page2["results"]}
    recent = run_json(runner, "search", "강화학습", "--index", str(bm25_index), "--json", "--date-from", "2026-01-01", "--min-upvotes", "50")
    assert recent["results"] and all(r["date"] >= "2026-01-01" and r["upvotes"] >= 50 for r in recent["results"])


def test_info_json(runner: CliRunner, bm25_index: Path) -> None:
    out = run_json(runner, "info", "--index", str(bm25_index), "--json")
    assert out["papers"] == 72 and out["dense_legs"] == [] and out["tokenizer"]["keep_tags"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", "x", "--index", "{missing}"], "no index at"),
        (["info", "--index", "{missing}"], "no index at"),
        (["search", "   ", "--index", "{index}"], "query is empty"),
        (["search", "x", "--index", "{index}", "--date-from", "2026-13-01"], "bad date"),
        (["similar", "9999.99999", "--index", "{index}"], "no paper with id"),
    ],
)
def test_errors_are_one_line_without_traceback(runner: CliRunner, bm25_index: Path, tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(missing=tmp_path / "none", index=bm25_index) for a in args]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_corrupt_index_is_reported(runner: CliRunner, bm25_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ix"
    shutil.copytree(bm25_index, copy, symlinks=True)
    (copy / "current" / "manifest.json").write_text("{not json")
    result = runner.invoke(main, ["search", "강화학습", "--index", str(copy)])
    assert result.exit_code == 1 and "unreadable" in result.output and "Traceback" not in result.output


def test_index_built_with_other_tokenizer_settings_is_refused(runner: CliRunner, bm25_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ix"
    shutil.copytree(bm25_index, copy, symlinks=True)
    manifest_path = copy / "current" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tokenizer"]["latin_stemmer"] = "porter"
    manifest_path.write_text(json.dumps(manifest))
    result = runner.invoke(main, ["search", "강화학습", "--index", str(copy)])
    assert result.exit_code == 1 and "rebuild" in result.output


def test_every_command_has_an_example_in_its_help(runner: CliRunner) -> None:
    import click

    def commands(group: click.Group, prefix: list[str]):
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                yield from commands(cmd, prefix + [name])
            else:
                yield prefix + [name]

    for path in commands(main, []):
        result = runner.invoke(main, path + ["--help"])
        assert result.exit_code == 0
        assert "Example" in result.output and "papersearch " + " ".join(path) in result.output, path


def test_index_env_var_is_the_default(runner: CliRunner, bm25_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERSEARCH_INDEX", str(bm25_index))
    out = run_json(runner, "info", "--json")
    assert out["index"] == str(bm25_index)
