"""Incremental dense legs: new rows encoded and appended to the served ANN index, which is
extended rather than rebuilt, also for backfilled older papers and without a cache."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import generate
from index.build import build_index
from search.core.layout import BuildFiles, IndexLayout
from search.core.records import Paper
from search.engine import SearchEngine
from tests.incremental_support import base  # noqa: F401 (fixtures)


def test_dense_incremental_appends_and_reencodes_only_new(
    base: tuple[Path, Path], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.core.encoders import Encoder

    corpus, _ = base
    root = tmp_path / "dense"
    first = build_index([corpus], root, model=str(tiny_model_dir), dense="required", progress=False)
    seen: list[str] = []
    real = Encoder.encode_passages

    def spy(self, texts, progress=False):  # type: ignore[no-untyped-def]
        seen.extend(texts)
        return real(self, texts, progress=progress)

    monkeypatch.setattr(Encoder, "encode_passages", spy)
    decoded: list[str] = []
    from_dict = Paper.from_dict.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Paper, "from_dict", classmethod(lambda cls, d: decoded.append(d["id"]) or from_dict(cls, d)))
    generate(tmp_path / "new", 4, start=dt.date(2030, 1, 1))  # a later day: rows are appended
    report = build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert len(seen) == 4 and report.to_dict()["added"] == 4
    # The daily case touches no cached record: tokens, vectors and rows are found by hash.
    assert decoded == []
    engine = SearchEngine.open(root)
    (leg,) = engine.dense_legs.values()
    assert leg.index.ntotal == first.papers + 4
    full = build_index([corpus, tmp_path / "new"], tmp_path / "full", model=str(tiny_model_dir), dense="required", full=True, progress=False)
    assert full.papers == first.papers + 4
    np.testing.assert_allclose(
        np.load(BuildFiles(IndexLayout(root).current_build()).leg_vectors("tiny-static")),
        np.load(BuildFiles(IndexLayout(tmp_path / "full").current_build()).leg_vectors("tiny-static")), rtol=1e-6,
    )
    seen.clear()
    build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert seen == []
    new_id = engine.ids[-1]
    hit = engine.similar(paper_id=engine.ids[0], k=5)
    assert hit.results and all(h.paper.id != engine.ids[0] for h in hit.results)
    # the appended rows are the new papers' own vectors
    row = engine.row_of[new_id]
    _, rows = leg.index.search(leg.vector(row).reshape(1, -1), 1)
    assert int(rows[0][0]) == row


def test_backfilled_older_papers_extend_the_served_rows(
    base: tuple[Path, Path], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest of papers older than every served one is appended too: the served rows
    keep their places, the ANN index is extended, not rebuilt, and an unchanged rebuild
    after it still rebuilds nothing."""
    import index.artifacts.dense_build as dense_build

    corpus, _ = base
    root = tmp_path / "dense"
    first = build_index([corpus], root, model=str(tiny_model_dir), dense="required", progress=False)
    served = list(BuildFiles(IndexLayout(root).current_build()).iter_papers())
    rebuilt: list[int] = []
    real = dense_build.write_dense
    monkeypatch.setattr(dense_build, "write_dense", lambda v, *a, **k: rebuilt.append(len(v)) or real(v, *a, **k))
    old = tmp_path / "old"
    generate(old, 3, start=dt.date(2020, 1, 1))
    report = build_index([corpus, old], root, model=str(tiny_model_dir), dense="required", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"]) == (3, 0, 0) and rebuilt == []
    rows = list(BuildFiles(IndexLayout(root).current_build()).iter_papers())
    assert rows[: len(served)] == served and all(r["date"] < "2021" for r in rows[len(served):])
    engine = SearchEngine.open(root)
    (leg,) = engine.dense_legs.values()
    assert leg.index.ntotal == first.papers + 3
    hit = engine.search(rows[-1]["title"], mode="bm25", k=3).results
    assert hit[0].paper.id == rows[-1]["id"]
    again = build_index([corpus, old], root, model=str(tiny_model_dir), dense="required", progress=False).to_dict()
    assert again["reused"] == first.papers + 3 and rebuilt == []
    assert list(BuildFiles(IndexLayout(root).current_build()).iter_papers()) == rows
    full = build_index([corpus, old], tmp_path / "full", dense="off", full=True, progress=False)
    assert sorted(SearchEngine.open(tmp_path / "full", load_model=False).ids) == sorted(r["id"] for r in rows)
    assert full.papers == len(rows)


def test_daily_dense_build_without_its_cache_copies_the_served_vectors(
    base: tuple[Path, Path], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.core.encoders import Encoder

    corpus, _ = base
    root = tmp_path / "dense"
    build_index([corpus], root, model=str(tiny_model_dir), dense="required", progress=False)
    shutil.rmtree(root / "cache" / "embeddings")  # lost: the served build still has every vector
    seen: list[str] = []
    real = Encoder.encode_passages
    monkeypatch.setattr(Encoder, "encode_passages", lambda self, texts, progress=False: seen.extend(texts) or real(self, texts, progress=progress))
    generate(tmp_path / "new", 2, start=dt.date(2030, 1, 1))
    build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert len(seen) == 2
    full = tmp_path / "full"
    build_index([corpus, tmp_path / "new"], full, model=str(tiny_model_dir), dense="required", full=True, progress=False)
    np.testing.assert_allclose(
        np.load(BuildFiles(IndexLayout(root).current_build()).leg_vectors("tiny-static")),
        np.load(BuildFiles(IndexLayout(full).current_build()).leg_vectors("tiny-static")), rtol=1e-6,
    )
    seen.clear()
    build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert seen == []  # the cache was rebuilt from the copied rows
