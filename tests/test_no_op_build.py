"""A rebuild with nothing new makes no build and loads no model (index/artifacts/no_op.py);
any difference that would change the index still builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.artifacts import dense_build
from index.build import build_index
from search.core.layout import IndexLayout


def _served(root: Path) -> str:
    return IndexLayout(root).current_build().name


def test_nothing_new_builds_nothing_and_loads_no_model(digests: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, root, model = tmp_path / "src", tmp_path / "ix", str(tiny_model_dir)
    shutil.copytree(digests, src)
    first = build_index([src], root, model=model, dense="required", progress=False)

    def no_model(*_a, **_k):  # noqa: ANN202
        raise AssertionError("a no-op rebuild loaded a model")

    monkeypatch.setattr("index.build.load_encoders", no_model)
    dead = IndexLayout(root).builds_dir / ".staging-20000101T000000.000000-dead"  # a killed build's leftovers
    dead.mkdir()
    again = build_index([src], root, model=model, dense="required", progress=False)
    assert not dead.exists()  # collected all the same
    assert again.build_id == first.build_id == _served(root)
    assert again.delta["unchanged"] == again.papers == first.papers and again.legs == first.legs
    monkeypatch.setattr("index.build.load_encoders", dense_build.load_encoders)

    # Each of these changes the index: each builds.
    changes = [
        {"dense": "off"},  # drop the dense leg
        {"model": model, "dense": "required", "full": True},  # --full always builds
    ]
    for kwargs in changes:
        report = build_index([src], root, progress=False, **kwargs)
        assert report.build_id != first.build_id and report.build_id == _served(root), kwargs
        first = report
    other = tmp_path / "other"  # the same papers from another folder: the manifest's sources change
    shutil.copytree(src, other)
    assert build_index([other], root, model=model, dense="required", progress=False).build_id != first.build_id


def test_a_changed_digest_builds(digests: Path, tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "ix"
    shutil.copytree(digests, src)
    first = build_index([src], root, dense="off", progress=False)
    digest = sorted(src.glob("*.md"))[0]
    digest.write_text(digest.read_text(encoding="utf-8").replace("강화학습", "강화 학습", 1), encoding="utf-8")
    report = build_index([src], root, dense="off", progress=False)
    assert report.build_id != first.build_id and report.delta["changed"] == 1
