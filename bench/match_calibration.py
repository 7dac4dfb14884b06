"""What counts as a match: thresholds calibrated on the dev set and off-topic queries,
their cross-validated folds, and dev quality per mode and kind with and without them.

    python -m bench.match_calibration [--index /tmp/ps/ix] [--qrels tests/data/dev.json]

Builds the sample index (bundled e5 + use) under ``--work`` unless ``--index`` names one.
Prints, for each fold, what the thresholds chosen on the other folds cut (relevant papers
in the mode's top 10) and let through (off-topic queries answered with a match) on the
held-out part; then the thresholds chosen on everything (``search/core/match_settings.py``
ships them); then nDCG@10 per mode and query kind, uncut and cut, and how many off-topic
queries each mode answers "no good match". Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from index.build import build_index
from index.publish.match_calibration import calibrate, offtopic_queries
from search.core.match_settings import MatchThresholds
from search.engine import SearchEngine
from search.evaluate import evaluate, load_qrels


def _kinds(report: dict) -> str:
    return " ".join(f"{k}={v['ndcg@10']:.3f}" for k, v in sorted(report["by_kind"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--qrels", type=Path, default=Path("tests/data/dev.json"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/ps-match"))
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    # No timing here; the machine matters only because e5's floats differ slightly by CPU.
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, Python {platform.python_version()}")
    root = args.index
    if root is None:
        root = args.work / "index"
        if not (root / "current").exists():
            build_index([Path("data/digests")], root, full=True)
    engine = SearchEngine.open(root)
    qrels = load_qrels(args.qrels)
    offtopic = offtopic_queries()
    report = calibrate(engine, qrels["queries"], offtopic, folds=args.folds)
    print(f"\n{report.queries} dev queries, {report.offtopic} off-topic queries, {args.folds} folds (query i in fold i mod {args.folds})")
    for row in report.folds:
        t = row["thresholds"]
        figures = row.get("held_out") or row.get("fit")
        label = "held out" if "held_out" in row else "fit"
        print(f"\nfold {row['fold']}: fused {t['fused']}  alone {t['alone']}")
        for mode, c in figures.items():
            print(f"  {label:8} {mode:7} relevant cut {c['cut']}/{c['relevant']}   off-topic with a match {c['through']}/{c['offtopic']}")
    print("\nnDCG@10 on the dev set, uncut (every hit a match) vs with the chosen thresholds:")
    modes = ["hybrid", "dense", "bm25", *engine.ready_legs]
    for mode in modes:
        for name, thresholds in (("uncut", MatchThresholds()), ("cut", report.thresholds)):
            engine.match = thresholds
            r = evaluate(engine, qrels, mode=mode, k=10)
            no_match = sum(engine.search(q, k=10, mode=mode).no_match for q in offtopic)
            print(f"  {mode:7} {name:5} nDCG@10 {r['overall']['ndcg@10']:.4f}  {_kinds(r)}   off-topic 'no good match' {no_match}/{len(offtopic)}")
    engine.match = None


if __name__ == "__main__":
    main()
