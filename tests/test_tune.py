"""``papersearch tune``: cross-validated, deterministic, recorded in the index, used by
its searches, kept by every later build (incremental and ``watch``) whose legs it fits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from index.build import build_index
from index.publish.tune import _choose, candidates, folds_of, tune
from index.storage import republish
from index.watch import Watcher
from papersearch.api import create_app
from papersearch.cli import main
from search.core.fusion_settings import FusionSettings
from search.core.layout import BuildFiles, IndexLayout
from search.engine import SearchEngine
from tests.conftest import DEV_QRELS

RECORDED = {"method": "rrf", "rrf_k": 20, "weights": {"bm25": 2.0}, "tuned": {"qrels": "test", "replaced_default": True}}
NEW_DIGEST = """# 2026-02-02 Daily Papers (Top 5)

## 1. [Zorbulaxian Lattices for Retrieval](https://huggingface.co/papers/2602.00001)
**Upvotes**: 7

### 📌 요약
조르불락시안(Zorbulaxian) 격자로 검색 색인을 압축하는 방법을 제안한다.
"""


def _manifest(root: Path) -> dict:
    return BuildFiles(IndexLayout(root).current_build()).read_manifest().to_dict()


@pytest.fixture
def tuned_index(tmp_path: Path, dense_index: Path, digests: Path) -> tuple[Path, Path]:
    """A copy of the tiny-model index (its own digest folder) with recorded settings."""
    root, src = tmp_path / "ix", tmp_path / "digests"
    shutil.copytree(dense_index, root, symlinks=True)
    shutil.copytree(digests, src)
    republish(IndexLayout(root), lambda m: m.with_fusion(FusionSettings.from_dict(RECORDED)))
    return root, src


def test_tuning_is_deterministic_for_a_seed_and_reports_held_out_folds(dense_index: Path) -> None:
    a = tune(dense_index, DEV_QRELS, folds=5, seed=7, write=False)
    b = tune(dense_index, DEV_QRELS, folds=5, seed=7, write=False)
    strip = lambda r: {**r.to_dict(), "chosen": {**r.chosen.to_dict(), "tuned": {**r.chosen.tuned, "at": None}}}  # noqa: E731
    assert strip(a) == strip(b)
    assert len(a.folds) == 5 and sum(f["queries"] for f in a.folds) == 20
    assert set(a.held_out) == {"tuned", "default"} and a.candidates == len(candidates(["bm25", "tiny-static"]))
    assert folds_of(20, 5, 7) == folds_of(20, 5, 7) != folds_of(20, 5, 8)


def test_tuning_replaces_the_default_only_when_it_wins_on_held_out_queries() -> None:
    grid = candidates(["bm25", "e5"])
    queries = [{"kind": "topic"}] * 10
    parts = folds_of(10, 5, 0)
    # Candidate 3 is better on every query: chosen in every fold, and recorded.
    table = [[0.5] * 10 for _ in grid]
    table[3] = [0.9] * 10
    report = _choose(grid, table, queries, parts)
    assert report.replaced_default and report.chosen == grid[3]
    assert all(f["chosen"] == grid[3].to_dict() for f in report.folds)
    # Candidate 3 wins each fold's training queries but not its held-out ones: kept default.
    table = [[0.5] * 10 for _ in grid]
    for f, test in enumerate(parts):
        table[3 + f] = [0.0 if i in test else 0.9 for i in range(10)]
    report = _choose(grid, table, queries, parts)
    assert not report.replaced_default and report.chosen == FusionSettings()
    assert report.held_out["tuned"] < report.held_out["default"]


def test_tune_records_its_choice_and_the_engine_info_and_health_use_it(tmp_path: Path, dense_index: Path) -> None:
    root = tmp_path / "ix"
    shutil.copytree(dense_index, root, symlinks=True)
    before = _manifest(root)["build_id"]
    result = CliRunner().invoke(main, ["tune", str(DEV_QRELS), "--index", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    manifest = _manifest(root)
    assert manifest["build_id"] == report["build_id"] != before
    assert manifest["fusion"]["tuned"]["qrels"] == str(DEV_QRELS) and manifest["fusion"]["tuned"]["folds"] == 5
    engine = SearchEngine.open(root)
    assert engine.fusion.to_dict() == manifest["fusion"]
    info = json.loads(CliRunner().invoke(main, ["info", "--index", str(root), "--json"]).stdout)
    assert info["fusion"] == manifest["fusion"]
    with TestClient(create_app(root)) as client:
        assert client.get("/api/health").json()["fusion"] == manifest["fusion"]


def test_recorded_settings_are_what_searches_use_unless_a_request_names_its_own(tuned_index: tuple[Path, Path]) -> None:
    root, _src = tuned_index
    engine = SearchEngine.open(root)
    assert engine.fusion == FusionSettings("rrf", 20, {"bm25": 2.0}, RECORDED["tuned"])
    q = "다중 턴 강화학습"
    recorded = engine.search(q, k=10)
    explicit = engine.search(q, k=10, fusion="rrf", rrf_k=20, weights={"bm25": 2.0})
    assert [h.paper.id for h in recorded.results] == [h.paper.id for h in explicit.results]
    hit = recorded.results[0]
    assert hit.score == pytest.approx(sum((2.0 if leg == "bm25" else 1.0) / (20 + s.rank) for leg, s in hit.legs.items() if s))
    assert engine.search(q, k=10, fusion="zscore").results[0].score != hit.score


def test_recorded_settings_survive_an_incremental_and_a_watch_build(tuned_index: tuple[Path, Path], tiny_model_dir: Path) -> None:
    root, src = tuned_index
    (src / "2026-02-02.md").write_text(NEW_DIGEST, encoding="utf-8")
    report = build_index([src], root, progress=False, model=str(tiny_model_dir))
    assert report.delta["added"] == 1 and _manifest(root)["fusion"] == RECORDED
    lines: list[str] = []
    watcher = Watcher([src], root, interval=0, log=lines.append)
    (src / "2026-02-03.md").write_text(NEW_DIGEST.replace("2602.00001", "2602.00002").replace("02-02", "02-03"), encoding="utf-8")
    assert watcher.poll() is None and watcher.poll() is not None, lines
    manifest = _manifest(root)
    assert manifest["papers"] == 74 and manifest["fusion"] == RECORDED
    assert SearchEngine.open(root).fusion.method == "rrf"


def test_a_build_without_a_weighted_leg_drops_the_settings_and_says_so(tuned_index: tuple[Path, Path]) -> None:
    root, src = tuned_index
    republish(IndexLayout(root), lambda m: m.with_fusion(FusionSettings.from_dict({**RECORDED, "weights": {"tiny-static": 3.0}})))
    lines: list[str] = []
    build_index([src], root, dense="off", progress=False, log=lines.append)
    assert "fusion" not in _manifest(root)
    assert any("tiny-static" in line and "papersearch tune" in line for line in lines)


def test_watch_rebuilds_with_the_served_legs_not_the_default_ones(tmp_path: Path, digests: Path, tiny_model_dir: Path) -> None:
    """An index built with a non-default model (the tiny one) keeps exactly that leg after
    a watch build: a watch build once read an old manifest key and re-embedded with e5 + use."""
    src, root = tmp_path / "digests", tmp_path / "ix"
    shutil.copytree(digests, src)
    build_index([src], root, model=str(tiny_model_dir), dense="required", progress=False)
    legs = [(m["name"], m["model"]) for m in _manifest(root)["dense_legs"]]
    watcher = Watcher([src], root, interval=0, log=lambda _m: None)
    (src / "2026-02-02.md").write_text(NEW_DIGEST, encoding="utf-8")
    assert watcher.poll() is None and watcher.poll() is not None
    assert [(m["name"], m["model"]) for m in _manifest(root)["dense_legs"]] == legs == [("tiny-static", str(tiny_model_dir))]


@pytest.mark.parametrize(
    "params",
    [{"fusion": "borda"}, {"rrf_k": "-1"}, {"rrf_k": "x"}, {"weights": "foo=1"}, {"weights": "bm25"}, {"weights": "bm25=-2"}, {"weights": "bm25=nan"}],
)
def test_api_fusion_parameters_are_validated(dense_index: Path, params: dict[str, str]) -> None:
    with TestClient(create_app(dense_index)) as client:
        r = client.get("/api/search", params={"q": "강화학습", **params})
        assert r.status_code == 422 and r.json()["detail"]
        ok = client.get("/api/search", params={"q": "강화학습", "fusion": "dbsf", "weights": "bm25=2,tiny-static=0.5"})
        assert ok.status_code == 200 and ok.json()["results"]
        names = {p["name"] for p in client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]}
        assert {"fusion", "rrf_k", "weights"} <= names


def test_tuning_records_match_thresholds_beside_the_fusion(tuned_index: tuple[Path, Path]) -> None:
    root, _src = tuned_index
    report = tune(root, DEV_QRELS, folds=3, seed=0)
    engine = SearchEngine.open(root)
    recorded = engine.manifest.match
    assert recorded is not None and recorded == report.match
    assert set(recorded.fused) <= {"bm25", "tiny-static"} and set(recorded.alone) == {"bm25", "tiny-static"}
    assert recorded.calibrated["offtopic"] == 50 and len(recorded.calibrated["folds"]) == 4  # 3 held out + all
    assert engine.manifest.match_thresholds.alone["tiny-static"] == recorded.alone["tiny-static"]
