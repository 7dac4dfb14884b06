"""The manifest adapter the Milvus engine loops over: today's single "dense" entry and the
planned "dense_legs" list give the same kind of leg list."""

from __future__ import annotations

from pathlib import Path

from search.dense_legs import SINGLE_LEG, dense_legs
from search.layout import BuildFiles


def test_single_dense_entry_is_one_leg_named_dense(tmp_path: Path) -> None:
    meta = {"model": "m", "dim": 8, "prompts": {"query": "", "passage": ""}, "index": {"type": "flat"}}
    (leg,) = dense_legs({"dense": meta}, BuildFiles(tmp_path))
    assert leg.name == SINGLE_LEG == "dense" and leg.dim == 8
    assert leg.vectors == BuildFiles(tmp_path).vectors


def test_dense_legs_list_keeps_order_and_per_leg_files(tmp_path: Path) -> None:
    legs = [{"name": "e5", "dim": 384, "model": "a"}, {"name": "use", "dim": 512, "model": "b"}]
    got = dense_legs({"dense_legs": legs, "dense": None}, BuildFiles(tmp_path))
    assert [(g.name, g.dim) for g in got] == [("e5", 384), ("use", 512)]
    assert got[1].vectors == tmp_path / "dense" / "use" / "vectors.npy"
    assert [g.vectors for g in dense_legs({"dense_legs": legs})] == [None, None]  # read remotely


def test_bm25_only_build_has_no_legs() -> None:
    assert dense_legs({"dense": None}) == []
