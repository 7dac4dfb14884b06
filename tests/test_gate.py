"""Quality gate: the staged build is scored and refused below the bar or the served index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import build_index
from index.publish.gate import QualityGate
from search.core.errors import GateFailed
from search.core.layout import IndexLayout

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

    from papersearch.cli import main

    qrels = tmp_path / "q.json"
    qrels.write_text(json.dumps(_qrels_for(bm25_index)), encoding="utf-8")
    root = tmp_path / "idx"

    def build(source: Path, *flags: str):
        args = ["index", "build", "--source", str(source), "--index", str(root), "--no-dense", "--no-progress"]
        return CliRunner().invoke(main, [*args, *flags])

    ok = build(digests, "--gate", str(qrels), "--min-ndcg", "0.5")
    assert ok.exit_code == 0, ok.output
    boundary = build(digests, "--gate", str(qrels), "--min-ndcg", "1")
    assert boundary.exit_code == 0, boundary.output  # exactly 1.0 passes
    usage = build(digests, "--min-ndcg", "0.5")
    assert usage.exit_code == 2 and "--gate" in usage.output


def test_cli_refuses_a_build_that_fails_the_gate(tmp_path: Path, digests: Path, bm25_index: Path) -> None:
    """The CLI's side of the gate: a one-line error, exit 1, the served build untouched;
    ``--json`` still answers on stdout; ``--force`` swaps the build in anyway."""
    from click.testing import CliRunner

    from papersearch.cli import main

    qrels = tmp_path / "q.json"
    qrels.write_text(json.dumps(_qrels_for(bm25_index)), encoding="utf-8")
    root = tmp_path / "idx"
    one_file = sorted(digests.glob("*.md"))[-1]  # a corpus without the relevant paper

    def build(source: Path, *flags: str):
        args = ["index", "build", "--source", str(source), "--index", str(root), "--no-dense", "--no-progress"]
        return CliRunner().invoke(main, [*args, *flags])

    assert build(digests).exit_code == 0
    served = IndexLayout(root).current_build()

    refused = build(one_file, "--gate", str(qrels), "--min-ndcg", "0.5")
    assert refused.exit_code == 1, refused.output
    assert (
        "Error: quality gate: ndcg@10 0.0000 is below --min-ndcg 0.5000; "
        "ndcg@10 0.0000 is below the served index's 1.0000."
    ) in refused.output
    assert "Traceback" not in refused.output
    assert IndexLayout(root).current_build() == served

    as_json = build(one_file, "--gate", str(qrels), "--json")
    assert as_json.exit_code == 1
    answer = json.loads(as_json.stdout)
    assert answer["ok"] is False and "below the served index's" in answer["error"]
    assert IndexLayout(root).current_build() == served

    forced = build(one_file, "--gate", str(qrels), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert IndexLayout(root).current_build().name == json.loads(forced.stdout)["build_id"] != served.name
