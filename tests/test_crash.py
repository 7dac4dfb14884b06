"""Crash safety: a build killed with SIGKILL leaves the served index loadable and
answering, the next build succeeds, and two builds at once are refused by the lock."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.synthetic import add_papers
from index.build import build_index
from search.core.errors import BuildLocked
from search.core.layout import IndexLayout
from search.engine import SearchEngine

REPO = Path(__file__).resolve().parent.parent

# A build in a child process; its gate (run on the fully written, not yet served build)
# signals the test through a file and then waits to be killed.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index.build import build_index

    src, root, flag, mode = sys.argv[1:5]
    def gate(staged):
        Path(flag).write_text(str(staged))
        time.sleep(600)
    build_index([Path(src)], Path(root), dense="off", progress=False,
                gate=gate if mode == "gate" else None, full=(mode == "full"))
    """
)


def _start(src: Path, root: Path, flag: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(src), str(root), str(flag), mode],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(cond, proc: subprocess.Popen, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"child exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("child never reached the expected point")
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, digests: Path) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("crash")
    build_index([digests], work / "index", dense="off", progress=False)
    return digests, work / "index"


@pytest.fixture
def index(served: tuple[Path, Path], tmp_path: Path) -> Path:
    shutil.copytree(served[1], tmp_path / "index", symlinks=True)
    return tmp_path / "index"


def _answers(root: Path) -> tuple[str, list[str]]:
    engine = SearchEngine.open(root, load_model=False)
    hits = engine.search("다중 턴 강화학습 GUI 에이전트", k=3, mode="bm25").results
    assert hits, "the served index must still answer"
    return engine.build_id, [h.paper.id for h in hits]


def test_kill_after_staging_keeps_the_served_index(served: tuple[Path, Path], index: Path, tmp_path: Path) -> None:
    digests = served[0]
    before = _answers(index)
    flag = tmp_path / "staged"
    proc = _start(digests, index, flag, "gate")
    _wait_for(flag.exists, proc)
    staged = Path(flag.read_text())
    assert staged.name.startswith(".staging-") and (staged / "manifest.json").exists()
    _kill(proc)

    assert _answers(index) == before  # same build, same answers
    assert staged.exists()  # the dead build's leftovers are still there...
    report = build_index([digests], index, dense="off", progress=False, full=True)
    assert not staged.exists()  # ...until the next build collects them
    assert _answers(index)[0] == report.build_id != before[0]


def test_kill_while_tokenizing_keeps_the_served_index(served: tuple[Path, Path], index: Path, tmp_path: Path) -> None:
    """Killed mid-Kiwi (the long part of a build), before anything is staged."""
    src = tmp_path / "corpus"
    shutil.copytree(served[0], src)
    add_papers(src / "new", 0, 100)  # new text: Kiwi stays busy past the kill
    before = _answers(index)
    proc = _start(src, index, tmp_path / "unused", "full")
    layout = IndexLayout(index)
    # The lock file names its holder once the build is under way.
    _wait_for(lambda: layout.lock_path.read_text().strip() == str(proc.pid), proc)
    time.sleep(1.0)
    _kill(proc)

    assert _answers(index) == before
    report = build_index([src], index, dense="off", progress=False)
    assert report.papers == before_count(served) + 100
    assert _answers(index)[0] == report.build_id


def before_count(served: tuple[Path, Path]) -> int:
    return len(SearchEngine.open(served[1], load_model=False).ids)


def test_second_build_is_refused_while_one_runs_and_freed_when_it_dies(
    served: tuple[Path, Path], index: Path, tmp_path: Path
) -> None:
    digests = served[0]
    flag = tmp_path / "staged"
    proc = _start(digests, index, flag, "gate")
    try:
        _wait_for(flag.exists, proc)
        with pytest.raises(BuildLocked, match=rf"another build is running .*pid {proc.pid}"):
            build_index([digests], index, dense="off", progress=False)
    finally:
        _kill(proc)
    # A dead holder does not keep the lock: the kernel dropped it with the process.
    report = build_index([digests], index, dense="off", progress=False)
    assert _answers(index)[0] == report.build_id
