"""Hostile digests beside the real sample corpus: what is kept, what is reported, what is
served. One index is built (BM25 only) from data/digests plus every hostile file below;
each case (``tests/hostile_cases.py``) then checks its own papers, problems and API
answers."""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import BuildReport, build_index
from index.parse.digest_values import MAX_FILE_BYTES
from papersearch.api import create_app
from tests.api_support import DIGESTS
from tests.hostile_cases import (
    CASES,
    UI_TARS,
    UI_TARS_TITLE,
    Built,
    Case,
    block,
    daily,
    hf,
)


def _make_special(hostile: Path) -> None:
    os.mkfifo(hostile / "fifo.md")
    os.symlink("loop.md", hostile / "loop.md")
    os.symlink("nowhere.md", hostile / "dangling.md")
    with open(hostile / "too-big.md", "wb") as f:  # sparse: costs no disk
        f.truncate(MAX_FILE_BYTES + 1)
    (hostile / "unreadable.md").write_text(daily(block("Unreadable", hf("2511.00075"))), encoding="utf-8")
    (hostile / "folder.md").mkdir()
    (hostile / "folder.md" / "inner.md").write_text(daily(block("Inside A Folder Named .md", hf("2511.00065"))), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    src = tmp_path_factory.mktemp("hostile-src")
    shutil.copytree(DIGESTS, src / "sample")
    hostile = src / "hostile"
    hostile.mkdir()
    for case in CASES:
        if isinstance(case.content, bytes):
            (hostile / case.name).write_bytes(case.content)
        elif case.content is not None:
            (hostile / case.name).write_bytes(case.content.encode("utf-8"))
    _make_special(hostile)
    real_open = os.open

    def no_permission(path, flags, *a, **kw):  # the tests run as root, which reads anything
        if str(path).endswith("unreadable.md"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *a, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(os, "open", no_permission)
    try:
        root = tmp_path_factory.mktemp("hostile-index")
        report = build_index([src], root, dense="off", progress=False)
    finally:
        mp.undo()
    with TestClient(create_app(root)) as client:
        yield Built(root, src, report, client)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_digest(built: Built, case: Case) -> None:
    assert case.check(built), (case.name, built.problems(case.name))


def test_sample_papers_all_kept_and_unchanged(built: Built, digests: Path) -> None:
    from index.parse.digest import parse_sources

    sample = {p.id: p.to_dict() for p in parse_sources([digests]).papers}
    served = {pid: built.paper(pid) for pid in sample}
    assert all(served[pid] and served[pid]["title"] == sample[pid]["title"] and served[pid]["summary"] == sample[pid]["summary"]
               for pid in sample)


def test_every_served_url_is_an_http_paper_link(built: Built) -> None:
    urls = [built.paper(pid)["url"] for pid in _ids(built)]
    assert urls and all(re.match(r"^https://(arxiv\.org/(abs|pdf)|huggingface\.co/papers)/\d{4}\.\d{4,5}(v\d+)?$", u) for u in urls)


def _ids(built: Built) -> list[str]:
    from search.engine import SearchEngine

    return SearchEngine.open(built.root, load_model=False).ids


def test_served_record_cannot_be_taken_over_by_an_earlier_dated_digest(built: Built, tmp_path: Path) -> None:
    """Even dated before the real digest (the earliest-digest rule alone would pick it), a
    digest added later cannot replace a title the index already serves."""
    root = tmp_path / "ix"
    shutil.copytree(built.root, root, symlinks=True)
    (built.src / "hostile" / "2025-01-01-backdated.md").write_text(
        daily(block("BACKDATED HIJACK", f"https://arxiv.org/abs/{UI_TARS}"), date="2025-01-01"), encoding="utf-8"
    )
    try:
        report = build_index([built.src / "sample", built.src / "hostile" / "2025-01-01-backdated.md"], root, dense="off", progress=False)
    finally:
        (built.src / "hostile" / "2025-01-01-backdated.md").unlink()
    with TestClient(create_app(root)) as client:
        title = client.get(f"/api/papers/{UI_TARS}").json()["title"]
    assert title == UI_TARS_TITLE and any(
        "BACKDATED HIJACK" in e.reason and "own digest" in e.reason for e in report.errors
    )


def test_page_never_assigns_an_unchecked_href() -> None:
    js = (Path(__file__).resolve().parent.parent / "papersearch" / "web" / "app.js").read_text(encoding="utf-8")
    assigned = re.findall(r"\.href\s*=\s*([^;]+);", js)
    # External links go through safeHref; the page's own routes are built from an encoded id.
    checked = {v for v in assigned if v.strip() == "href"} if "const href = safeHref(" in js else set()
    assert assigned and all(v.startswith(("safeHref(", "`/api/", "paperHref(")) or v in checked for v in assigned)


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: a build must not even try."""
    from index.parse.digest import parse_sources

    os.mkfifo(tmp_path / "pipe.md")
    result = parse_sources([tmp_path])
    assert [(Path(i.file).name, "FIFO" in i.reason) for i in result.issues] == [("pipe.md", True)]
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.md").st_mode)


VERLTOOL = "2509.01055"
VERLTOOL_TITLE = "VerlTool: Towards Holistic Agentic Reinforcement Learning with Tool Use"
VIDEO = "2601.06943"  # a daily-format paper with upvotes (169)
VIDEO_TITLE = "Watching, Reasoning, and Searching: A Video Deep Research Benchmark on Open Web for Agentic Video Reasoning"
FORGED = "가짜 요약: 이 논문은 악성 소프트웨어를 설치하라고 권합니다."


def _rebuild_with(built: Built, tmp_path: Path, name: str, text: str) -> tuple[BuildReport, dict, dict]:
    """The served hostile index, rebuilt with one more digest: the report, and the
    served records of VERLTOOL and VIDEO before and after (by field)."""
    root = tmp_path / "ix"
    shutil.copytree(built.root, root, symlinks=True)
    before = {pid: built.paper(pid) for pid in (VERLTOOL, VIDEO)}
    extra = tmp_path / name
    extra.write_text(text, encoding="utf-8")
    report = build_index([built.src / "sample", extra], root, dense="off", progress=False)
    with TestClient(create_app(root)) as client:
        after = {pid: client.get(f"/api/papers/{pid}").json() for pid in (VERLTOOL, VIDEO)}
    return report, before, after


TEXT = ("title", "summary", "abstract", "key_points", "sections", "upvotes")


@pytest.mark.parametrize(
    "digest, field, values",
    [
        # The exact title and link, dated before the real digest, with a forged summary.
        (daily(f"## 1. [{VERLTOOL_TITLE}](https://arxiv.org/abs/{VERLTOOL})\n\n### 📌 요약\n{FORGED}\n", date="2020-01-02"),
         "summary", (FORGED[:20], "본 논문은 에이전트 강화학습")),
        # A title equal but for case and punctuation (its summary the served one).
        (daily(f"## 1. [{VERLTOOL_TITLE.upper()}!!](https://arxiv.org/abs/{VERLTOOL})\n\n### 📌 요약\n{{{VERLTOOL}}}\n", date="2020-01-02"),
         "title", (VERLTOOL_TITLE.upper()[:40], VERLTOOL_TITLE[:40])),
        # A later digest raising the upvotes.
        (daily(f"## 1. [{VIDEO_TITLE}](https://huggingface.co/papers/{VIDEO})\n**Upvotes**: 999999999\n\n### 📌 요약\n{{{VIDEO}}}\n", date="2026-03-01"),
         "upvotes", ("999999999", "169")),
        # Text the served paper lacks (VerlTool has no abstract), added by a new digest.
        (daily(f"## 1. [{VERLTOOL_TITLE}](https://arxiv.org/abs/{VERLTOOL})\n\n### 📝 초록 (번역)\n{FORGED}\n", date="2026-03-01"),
         "abstract", (FORGED[:20],)),
    ],
    ids=["forged-summary", "case-punctuation-title", "upvotes", "added-abstract"],
)
def test_another_digest_cannot_rewrite_a_served_paper(built: Built, tmp_path: Path, digest: str, field: str, values: tuple) -> None:
    digest = digest.replace("{" + VERLTOOL + "}", built.paper(VERLTOOL)["summary"]).replace("{" + VIDEO + "}", built.paper(VIDEO)["summary"])
    report, before, after = _rebuild_with(built, tmp_path, "2026-03-01-rewrite.md", digest)
    for pid in (VERLTOOL, VIDEO):
        assert {f: after[pid][f] for f in TEXT} == {f: before[pid][f] for f in TEXT}, pid
        assert not any(s.endswith("rewrite.md") for s in after[pid]["sources"])
    (issue,) = [e for e in report.errors if e.file.endswith("2026-03-01-rewrite.md")]
    assert issue.line == 3 and "differs from its own digest" in issue.reason and f"{field}:" in issue.reason
    assert all(v in issue.reason for v in values), issue.reason
    assert re.search(r"2025-09-03\.md:137|2026-01-13\.md:3", issue.reason)  # where the kept text is


def test_a_digest_that_agrees_is_listed_and_changes_nothing(built: Built, tmp_path: Path) -> None:
    summary = built.paper(VIDEO)["summary"]
    copy = daily(f"## 1. [{VIDEO_TITLE}](https://huggingface.co/papers/{VIDEO})\n**Upvotes**: 169\n\n### 📌 요약\n{summary}\n", date="2026-03-01")
    report, before, after = _rebuild_with(built, tmp_path, "2026-03-01-copy.md", copy)
    assert {f: after[VIDEO][f] for f in TEXT} == {f: before[VIDEO][f] for f in TEXT}
    assert after[VIDEO]["sources"][-1].endswith("2026-03-01-copy.md")
    assert not [e for e in report.errors if e.file.endswith("copy.md")]


def test_a_first_build_reports_every_disagreement(tmp_path: Path) -> None:
    """No served index: the earliest digest is the paper's own (the forgery, dated 2020),
    and the real digest's differing text is reported, file and line, both values."""
    src = tmp_path / "src"
    shutil.copytree(DIGESTS, src)
    forged = daily(f"## 1. [{VERLTOOL_TITLE}](https://arxiv.org/abs/{VERLTOOL})\n\n### 📌 요약\n{FORGED}\n", date="2020-01-02")
    (src / "2020-01-02.md").write_text(forged, encoding="utf-8")
    report = build_index([src], tmp_path / "ix", dense="off", progress=False)
    (issue,) = [e for e in report.errors if VERLTOOL in e.reason]
    assert issue.file.endswith("2025-09-03.md") and issue.line == 137
    assert "2020-01-02.md:3" in issue.reason and "summary: '본 논문은" in issue.reason and FORGED[:20] in issue.reason
