"""Quality gate: the staged build is scored and refused below the bar or the served index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import build_index
from index.gate import QualityGate
from search.errors import GateFailed
from search.layout import IndexLayout

QUERIES = {"queries": [{"qid": "g1", "query": "sparse autoencoder", "relevant": {}}]}


def _qrels_for(index_root: Path) -> dict:
    # A relevance set that the corpus answers: the top paper of a clear query.
    from search.engine import SearchEngine

    top = SearchEngine.open(index_root).search("희소 오토인코더", k=1, mode="bm25").results[0].paper.id
    return {"queries": [{"qid": "g1", "query": "희소 오토인코더", "lang": "ko", "kind": "topic", "relevant": {top: 2}}]}


def test_gate_refuses_below_min_and_keeps_served(tmp_path: Path, digests: Path, bm25_index: Path) -> None:
    qrels = _qrels_for(bm25_index)
    root = tmp_path / "idx"
    build_index([digests], root, dense="off", progress=False)
    served = IndexLayout(root).current_build()
    gate = QualityGate(qrels, root, min_ndcg=1.01)
    with pytest.raises(GateFailed, match="below --min-ndcg"):
        build_index([digests], root, dense="off", progress=False, gate=gate)
    assert IndexLayout(root).current_build() == served
    assert gate.result["new"] == pytest.approx(1.0)
    assert not [p for p in (root / "builds").iterdir() if p.name.startswith(".staging")]


def test_gate_refuses_a_build_worse_than_the_served_one(tmp_path: Path, digests: Path, bm25_index: Path) -> None:
    qrels = _qrels_for(bm25_index)
    root = tmp_path / "idx"
    build_index([digests], root, dense="off", progress=False)
    one_file = sorted(digests.glob("*.md"))[-1]  # a corpus without the relevant paper
    with pytest.raises(GateFailed, match="below the served"):
        build_index([one_file], root, dense="off", progress=False, gate=QualityGate(qrels, root))
    forced = QualityGate(qrels, root, force=True)
    report = build_index([one_file], root, dense="off", progress=False, gate=forced)
    assert IndexLayout(root).current_build().name == report.build_id
    assert forced.result["new"] < forced.result["served"]


def test_cli_gate_flags(tmp_path: Path, digests: Path, bm25_index: Path) -> None:
    from click.testing import CliRunner

    from search.cli import main

    qrels = tmp_path / "q.json"
    qrels.write_text(json.dumps(_qrels_for(bm25_index)), encoding="utf-8")
    root = tmp_path / "idx"
    args = ["index", "build", "--source", str(digests), "--index", str(root), "--no-dense", "--no-progress"]
    runner = CliRunner()
    ok = runner.invoke(main, [*args, "--gate", str(qrels), "--min-ndcg", "0.5"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, [*args, "--gate", str(qrels), "--min-ndcg", "1"])
    assert bad.exit_code == 0, bad.output  # exactly 1.0 passes
    usage = runner.invoke(main, [*args, "--min-ndcg", "0.5"])
    assert usage.exit_code == 2 and "--gate" in usage.output
