"""Incremental builds: only new or changed papers go through Kiwi and the model; removed
papers disappear; ``full`` redoes everything; the report counts each kind."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.synthetic import add_papers, generate
from index.build import build_index
from index.parse.corpus import record_hash
from index.parse.digest import parse_sources
from papersearch.cli import main as cli
from search.core.fields import snippet_fields
from search.core.layout import BuildFiles, IndexLayout
from search.engine import SearchEngine
from tests.incremental_support import EDITED_ID, KiwiSpy, base, copy  # noqa: F401 (fixtures)


def test_unchanged_rebuild_reuses_everything(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    served = SearchEngine.open(root, load_model=False).ids
    spy = KiwiSpy(monkeypatch)
    # sources are recorded per paper, so the copy's papers differ from the base's by path:
    # a first rebuild re-hashes them (changed) but Kiwi sees nothing: titles are cached by
    # text, and each snippet row (the body) is kept by its texts' key.
    first = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert first["changed"] == len(served) and first["added"] == first["removed"] == 0
    second = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (second["added"], second["changed"], second["removed"], second["reused"]) == (0, 0, 0, len(served))
    assert spy.texts == []


def test_added_changed_and_removed_papers(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)  # settle paths (see above)
    removed_file = corpus / "2026-01-13.md"
    removed_ids = {p.id for p in parse_sources([removed_file]).papers}
    removed_file.unlink()
    edited = corpus / "2025-09-03.md"
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("데이터 플라이휠 파이프라인", "데이터 플라이휠 파이프라인과 Zorbulaxian"), encoding="utf-8")
    add_papers(corpus / "new", 0, 3)  # three papers on a later day
    served_ids = set(SearchEngine.open(root, load_model=False).ids)
    spy = KiwiSpy(monkeypatch)

    report = build_index([corpus], root, dense="off", progress=False).to_dict()

    total = report["papers"]
    assert report["added"] == 3
    assert report["changed"] == 1
    assert report["removed"] == len(removed_ids) > 0
    assert report["reused"] == total - 4
    # Kiwi saw the new papers' titles and snippet fields (their bodies), and the edited
    # paper's snippet fields (its title is unchanged), each text once.
    engine = SearchEngine.open(root, load_model=False)
    new = [p for p in engine.papers if p.id not in served_ids]
    edited_paper = engine.paper(EDITED_ID)
    expected = [p.title for p in new] + [t for p in [*new, edited_paper] for _n, t in snippet_fields(p)]
    assert len(new) == 3 and sorted(spy.texts) == sorted(expected)
    assert any("Zorbulaxian" in t for t in spy.texts)
    assert not removed_ids & set(engine.ids)
    assert engine.search("Zorbulaxian", mode="bm25").results[0].paper.id == EDITED_ID


def test_full_rebuild_ignores_caches(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    spy = KiwiSpy(monkeypatch)
    report = build_index([corpus], root, dense="off", progress=False, full=True).to_dict()
    assert report["reused"] == 0
    # Each title and each snippet field (the body) once: no text analysed twice.
    papers = SearchEngine.open(root, load_model=False).papers
    assert len(spy.texts) == len(papers) + sum(len(snippet_fields(p)) for p in papers)


def test_incremental_index_equals_full_index(copy: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, root = copy
    add_papers(corpus / "new", 0, 5)
    build_index([corpus], root, dense="off", progress=False)
    fresh = tmp_path / "fresh"
    build_index([corpus], fresh, dense="off", progress=False, full=True)
    a, b = SearchEngine.open(root, load_model=False), SearchEngine.open(fresh, load_model=False)
    assert a.ids == b.ids
    for q in ("다중 턴 강화학습", "GUI agent", "세계 모델"):
        assert [h.paper.id for h in a.search(q, mode="bm25").results] == [h.paper.id for h in b.search(q, mode="bm25").results]


def test_paper_hash_matches_the_stored_record(base: tuple[Path, Path]) -> None:
    _, root = base
    files = BuildFiles(IndexLayout(root).current_build())
    rows = list(files.iter_papers())
    engine = SearchEngine.open(root, load_model=False)
    assert [record_hash(r) for r in rows] == [record_hash(p.to_dict()) for p in engine.papers]


def test_build_keeps_paper_hashes_and_compare_uses_them(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)  # settle paths (see above)
    files = BuildFiles(IndexLayout(root).current_build())
    stored = json.loads(files.paper_hashes.read_text(encoding="utf-8"))
    rows = list(files.iter_papers())
    assert stored == {"ids": [r["id"] for r in rows], "hashes": [record_hash(r) for r in rows]}
    generate(corpus / "new", 2, start=dt.date(2030, 1, 1))  # a later day: rows are appended
    # papers.jsonl is not read (nor re-hashed) when the stored hashes are there
    monkeypatch.setattr(BuildFiles, "iter_papers", lambda self: (_ for _ in ()).throw(AssertionError("read papers.jsonl")))
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"], report["reused"]) == (2, 0, 0, len(rows))
    monkeypatch.undo()
    # the served rows were copied, the two new ones appended: same file as a fresh write
    after = BuildFiles(IndexLayout(root).current_build())
    new_rows = list(after.iter_papers())
    assert new_rows[: len(rows)] == rows and len(new_rows) == len(rows) + 2
    assert new_rows == [p.to_dict() for p in SearchEngine.open(root, load_model=False).papers]
    assert json.loads(after.paper_hashes.read_text(encoding="utf-8"))["hashes"] == [record_hash(r) for r in new_rows]


def test_missing_or_stale_paper_hashes_fall_back_to_papers_jsonl(copy: tuple[Path, Path]) -> None:
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)
    files = BuildFiles(IndexLayout(root).current_build())
    n = sum(1 for _ in files.iter_papers())
    files.paper_hashes.write_text('{"ids": ["x"], "hashes": ["y"]}', encoding="utf-8")  # not n rows
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"], report["reused"]) == (0, 0, 0, n)
    BuildFiles(IndexLayout(root).current_build()).paper_hashes.unlink()
    edited = corpus / "2025-09-03.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("데이터 플라이휠", "데이터 휠"), encoding="utf-8")
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"], report["reused"]) == (0, 1, 0, n - 1)


def test_cli_full_flag_and_json_counts(copy: tuple[Path, Path]) -> None:
    corpus, root = copy
    res = CliRunner().invoke(cli, ["index", "build", "--source", str(corpus), "--index", str(root), "--no-dense", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output[res.output.index("{"):])
    assert {"added", "changed", "removed", "reused"} <= set(data)
    res = CliRunner().invoke(cli, ["index", "build", "--source", str(corpus), "--index", str(root), "--no-dense", "--full"])
    assert res.exit_code == 0, res.output
    # --full redoes the work but the content did not change: every paper counts as
    # unchanged (once reported as 0/0/0/0), none as reused from caches.
    papers = data["added"] + data["changed"] + data["unchanged"]
    assert f"0 added, 0 changed, 0 removed, {papers} unchanged (0 reused from caches)" in res.output
    res = CliRunner().invoke(cli, ["index", "build", "--source", str(corpus), "--index", str(root), "--no-dense", "--full", "--json"])
    full = json.loads(res.output[res.output.index("{"):])
    assert (full["added"], full["changed"], full["removed"], full["unchanged"], full["reused"]) == (0, 0, 0, papers, 0)
    assert full["papers"] == papers
