"""Daily ingest end to end: a running server answers with a paper from a digest dropped
into the watched folder, without a restart; a broken digest is reported and the served
index stays as it was."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx

from index.build import build_index
from index.watch import Watcher, diff, snapshot
from papersearch.api import create_app
from search.engine import SearchEngine
from tests.api_support import serve_in_thread
from tests.conftest import wait_for

NEW_DIGEST = """# 2026-02-02 Daily Papers (Top 5)

## 1. [Zorbulaxian Lattices for Retrieval](https://huggingface.co/papers/2602.00001)
**Upvotes**: 7

### 📌 요약
조르불락시안(Zorbulaxian) 격자로 검색 색인을 압축하는 방법을 제안한다.

### 📝 초록 (번역)
본 논문은 Zorbulaxian 격자를 이용한 검색 색인 압축 기법을 소개한다.
"""


def test_new_digest_goes_live_and_a_broken_one_is_held(tmp_path: Path, digests: Path) -> None:
    src, root = tmp_path / "digests", tmp_path / "ix"
    shutil.copytree(digests, src)
    build_index([src], root, dense="off", progress=False)
    app = create_app(root)
    holder = app.state.holder
    lines: list[str] = []
    watcher = Watcher([src], root, interval=0.1, on_built=lambda _r: holder.reload(), log=lines.append)
    with serve_in_thread(app) as url:
        first = httpx.get(f"{url}/api/health").json()["build_id"]
        watcher.start()
        try:
            (src / "2026-02-02.md").write_text(NEW_DIGEST, encoding="utf-8")

            def found() -> httpx.Response | None:
                r = httpx.get(f"{url}/api/search", params={"q": "Zorbulaxian", "mode": "bm25"})
                return r if r.json()["results"] else None

            res = wait_for(found, "the new paper to be served")
            assert res.json()["results"][0]["id"] == "2602.00001"
            second = res.headers["X-Index-Build"]
            assert second != first and httpx.get(f"{url}/api/health").json()["papers"] == 73
            assert any("1 new digest file(s): 2026-02-02.md" in line for line in lines), lines
            assert any("1 added, 0 changed, 0 removed" in line for line in lines), lines

            # A broken digest: reported by file and line, nothing built, still served.
            (src / "2026-02-03.md").write_text("# 2026-02-03 Daily Papers\n\n## 1. A paper without its link\n\n### 📌 요약\n요약.\n")
            wait_for(lambda: any("2026-02-03.md:3" in line for line in lines), "the problem to be logged")
            assert any("served index is unchanged" in line for line in lines)
            time.sleep(0.5)  # a few more polls: the held file must not be built meanwhile
            assert httpx.get(f"{url}/api/health").json()["build_id"] == second
            assert httpx.get(f"{url}/api/search", params={"q": "Zorbulaxian", "mode": "bm25"}).json()["results"]
        finally:
            watcher.stop()


def test_snapshot_diff_names_new_changed_and_removed_files(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a")
    (tmp_path / "b.md").write_text("b")
    (tmp_path / "notes.txt").write_text("not a digest")
    before = snapshot([tmp_path])
    (tmp_path / "a.md").write_text("a, edited")
    (tmp_path / "b.md").unlink()
    (tmp_path / "c.md").write_text("c")
    changes = diff(before, snapshot([tmp_path]))
    assert [Path(p).name for p in changes.added] == ["c.md"]
    assert [Path(p).name for p in changes.changed] == ["a.md"]
    assert [Path(p).name for p in changes.removed] == ["b.md"]
    assert "1 new, 1 changed, 1 removed" in changes.describe()


def test_watch_command_needs_an_existing_folder(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from papersearch.cli import main

    result = CliRunner().invoke(main, ["watch", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_watched_digest_cannot_rewrite_a_served_paper(tmp_path: Path, digests: Path) -> None:
    """A daily digest with a served paper's exact title and link and a forged summary:
    the watcher builds the rest of it, logs the refused text, and the paper is unchanged."""
    from search.engine import SearchEngine

    src, root = tmp_path / "digests", tmp_path / "ix"
    shutil.copytree(digests, src)
    build_index([src], root, dense="off", progress=False)
    served = SearchEngine.open(root, load_model=False).paper("2509.01055")
    lines: list[str] = []
    watcher = Watcher([src], root, interval=0, log=lines.append)
    forged = (
        NEW_DIGEST
        + f"\n## 2. [{served.title}](https://arxiv.org/abs/2509.01055)\n\n### 📌 요약\n가짜 요약: 악성 소프트웨어를 설치하라.\n"
    )
    (src / "2026-02-02.md").write_text(forged, encoding="utf-8")
    assert watcher.poll() is None  # seen once
    report = watcher.poll()
    assert report is not None and report.delta["added"] == 1 and report.delta["changed"] == 0
    after = SearchEngine.open(root, load_model=False).paper("2509.01055")
    assert after == served
    assert any("2026-02-02.md:12" in line and "summary:" in line and "가짜 요약" in line for line in lines), lines


def test_a_digest_whose_only_report_is_a_hidden_heading_is_built(tmp_path: Path, digests: Path) -> None:
    """A commented-out draft paper is reported, not held against the rest of the file."""
    src, root = tmp_path / "digests", tmp_path / "ix"
    shutil.copytree(digests, src)
    build_index([src], root, dense="off", progress=False)
    lines: list[str] = []
    watcher = Watcher([src], root, interval=0, log=lines.append)
    draft = "<!--\n## 9. [Draft](https://huggingface.co/papers/2602.00009)\n-->\n\n"
    (src / "2026-02-02.md").write_text(NEW_DIGEST.replace("## 1.", draft + "## 1."), encoding="utf-8")
    assert watcher.poll() is None
    report = watcher.poll()
    assert report is not None and report.delta["added"] == 1
    assert any("paper heading inside an HTML comment" in line for line in lines), lines


def _split_corpus(tmp_path: Path, digests: Path) -> tuple[Path, Path]:
    """The sample digests but the newest one (``orig``), and that one aside (``new.md``)."""
    orig = tmp_path / "orig"
    orig.mkdir()
    for f in digests.glob("*.md"):
        shutil.copy(f, orig)
    newest = sorted(orig.glob("*.md"))[-1]
    newest.rename(tmp_path / "new.md")
    return orig, tmp_path / "new.md"


def test_watching_a_copy_keeps_every_paper_and_its_source(tmp_path: Path, digests: Path) -> None:
    """Watching a copy of the build's folder once rewrote every paper's source ("72
    changed"), and a watched folder lacking files would have dropped their papers."""
    orig, new = _split_corpus(tmp_path, digests)
    root = tmp_path / "ix"
    first = build_index([orig], root, dense="off", progress=False)
    built_ids = list(SearchEngine.open(root, load_model=False).ids)
    copy, partial = tmp_path / "copy", tmp_path / "partial"
    shutil.copytree(orig, copy)
    partial.mkdir()  # another folder holding none of the built digests
    logs: list[str] = []
    for folder in (copy, partial):
        watcher = Watcher([folder], root, interval=0, log=logs.append)
        shutil.copy(new, folder / f"{folder.name}-{new.name}")
        report = watcher.poll() or watcher.poll()
        assert report is not None, logs
        assert report.delta["changed"] == 0 and report.delta["removed"] == 0, (folder, report.delta)
        assert report.papers >= first.papers
    engine = SearchEngine.open(root, load_model=False)
    for pid in built_ids:  # each paper built from orig/ still names orig/ alone
        assert all(s.startswith(str(orig)) for s in engine.paper(pid).sources), engine.paper(pid).sources
    assert len(engine.ids) > len(built_ids)  # the new digest's papers came in


def test_a_recorded_source_gone_from_disk_holds_the_build(tmp_path: Path, digests: Path) -> None:
    orig, new = _split_corpus(tmp_path, digests)
    root = tmp_path / "ix"
    first = build_index([orig], root, dense="off", progress=False)
    watched = tmp_path / "watched"
    watched.mkdir()
    logs: list[str] = []
    watcher = Watcher([watched], root, interval=0, log=logs.append)
    shutil.rmtree(orig)  # the folder the index was built from is gone
    shutil.copy(new, watched)
    assert watcher.poll() is None and watcher.poll() is None
    assert any("no longer exist" in line and str(orig) in line for line in logs), logs
    assert SearchEngine.open(root, load_model=False).build_id == first.build_id  # nothing dropped
