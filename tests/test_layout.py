"""The index folder: atomic swaps, failed builds that change nothing, old builds collected."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build_index
from search.core.errors import GateFailed, IndexNotFound
from search.core.layout import KEEP_BUILDS, IndexLayout
from search.engine import SearchEngine


def test_failed_build_leaves_the_served_index_untouched(digests: Path, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    first = build_index([digests], root, dense="off", progress=False)
    served = IndexLayout(root).current_build()

    def failing_gate(staged: Path) -> None:
        assert (staged / "manifest.json").exists() and staged != served
        raise GateFailed("scored too low")

    with pytest.raises(GateFailed):
        build_index([digests], root, dense="off", progress=False, gate=failing_gate)
    layout = IndexLayout(root)
    assert layout.current_build() == served and served.name == first.build_id
    assert not list(layout.builds_dir.glob(".staging-*"))
    assert len(SearchEngine.open(root).search("강화학습", mode="bm25").results) == 10


def test_rebuilds_swap_and_old_builds_are_collected(digests: Path, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    # --full: a rebuild with nothing new would otherwise make no build (index/artifacts/no_op.py)
    ids = [build_index([digests], root, dense="off", progress=False, full=True).build_id for _ in range(KEEP_BUILDS + 1)]
    layout = IndexLayout(root)
    assert layout.current_build().name == ids[-1]
    kept = sorted(p.name for p in layout.builds_dir.iterdir())
    assert kept == sorted(ids[-KEEP_BUILDS:])
    assert layout.current_link.is_symlink()


def test_engine_keeps_its_build_across_a_swap(digests: Path, tmp_path: Path) -> None:
    root = tmp_path / "ix"
    build_index([digests], root, dense="off", progress=False)
    engine = SearchEngine.open(root)
    before = engine.build_id
    build_index([digests], root, dense="off", progress=False, full=True)
    assert engine.build_id == before and engine.search("강화학습", mode="bm25").results
    assert SearchEngine.open(root).build_id != before


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="papersearch index build"):
        SearchEngine.open(tmp_path / "nothing")


def test_append_file_copies_from_an_offset_in_the_kernel_or_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from index.storage import append_file

    src = tmp_path / "src"
    src.write_bytes(bytes(range(256)) * 5000)
    for kernel in (True, False):
        if not kernel:
            monkeypatch.setattr(os, "copy_file_range", lambda *a: (_ for _ in ()).throw(OSError("unsupported")))
        out = tmp_path / f"out-{kernel}"
        with open(out, "wb") as f:
            f.write(b"head")
            append_file(f, src, start=1000)
            f.write(b"tail")
        assert out.read_bytes() == b"head" + src.read_bytes()[1000:] + b"tail"


def test_layout_names_every_file_a_build_writes(dense_index: Path) -> None:
    """search/core/layout.py's folder diagram names every file and folder of a real index (a
    build with a dense leg, and its caches), so it cannot go stale unnoticed."""
    import search.core.layout

    diagram = search.core.layout.__doc__ or ""
    layout = IndexLayout(dense_index)
    build = layout.current_build()
    names = {p.name for p in build.rglob("*")} | {p.name for p in layout.cache_dir.iterdir()}
    names |= {p.name for p in layout.root.iterdir() if p.name != "builds"}
    leg = next((build / "dense").iterdir()).name
    names -= {leg, build.name}  # named by the diagram as <leg> and <build-id>
    assert names and not sorted(n for n in names if n not in diagram)
