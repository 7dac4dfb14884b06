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

from index.build import build_index
from index.digest_values import MAX_FILE_BYTES
from papersearch.api import create_app
from tests.api_support import DIGESTS
from tests.hostile_cases import CASES, UI_TARS, UI_TARS_TITLE, Built, Case, block, daily, hf


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
    from index.digest import parse_sources

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
        "BACKDATED HIJACK" in e.reason and "served index" in e.reason for e in report.errors
    )


def test_page_never_assigns_an_unchecked_href() -> None:
    js = (Path(__file__).resolve().parent.parent / "papersearch" / "web" / "app.js").read_text(encoding="utf-8")
    assigned = re.findall(r"\.href\s*=\s*([^;]+);", js)
    # External links go through safeHref; the page's own routes are built from an encoded id.
    checked = {v for v in assigned if v.strip() == "href"} if "const href = safeHref(" in js else set()
    assert assigned and all(v.startswith(("safeHref(", "`/api/", "paperHref(")) or v in checked for v in assigned)


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: a build must not even try."""
    from index.digest import parse_sources

    os.mkfifo(tmp_path / "pipe.md")
    result = parse_sources([tmp_path])
    assert [(Path(i.file).name, "FIFO" in i.reason) for i in result.issues] == [("pipe.md", True)]
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.md").st_mode)
