"""Which passage text, legs, RRF k and leg weights: measured on the dev set only.

Fusion settings are now chosen by ``papersearch tune QRELS`` (cross-validated, recorded in
the index); this script stays for what ``tune`` cannot vary without rebuilding: the
passage text each dense leg embeds.

    python -m bench.tune_dev --qrels tests/data/dev.json --work /tmp/ps-tune

Builds the sample corpus once per passage-text variant (BM25 is the same in each), then
scores fusion settings in-process. Prints nDCG@10 overall, per query kind and for similar
papers. It chooses nothing by itself: the defaults in ``search/engine.py`` and
``search/core/encoders`` were set by reading its output (README, "Models"), preferring round
settings over the best-looking cell, since 20 queries cannot tell 0.01 apart.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from index.build import build_index
from search.engine import SearchEngine
from search.evaluate import evaluate, load_qrels

VARIANTS = {
    "title+summary": ("title", "summary"),
    "title+summary+key_points": ("title", "summary", "key_points"),
    "title+summary+abstract": ("title", "summary", "abstract"),
    "title+abstract": ("title", "abstract"),
}


def _row(name: str, report: dict) -> str:
    kinds = " ".join(f"{k}={v['ndcg@10']:.3f}" for k, v in report["by_kind"].items())
    return f"{name:44} nDCG@10 {report['overall']['ndcg@10']:.4f}  similar {report['similar']['ndcg@10']:.4f}  {kinds}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qrels", type=Path, default=Path("tests/data/dev.json"))
    ap.add_argument("--source", type=Path, default=Path("data/digests"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/ps-tune"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    qrels = load_qrels(args.qrels)
    for variant in args.variants.split(","):
        root = args.work / variant
        if not (root / "current").exists():
            build_index([args.source], root, full=True, passage_fields=VARIANTS[variant])
        engine = SearchEngine.open(root)
        print(f"\n## passage text: {variant}")
        for mode in ("bm25", *engine.dense_legs, "dense", "hybrid"):
            print(_row(f"mode {mode}", evaluate(engine, qrels, mode=mode, similar_mode=mode)))
        if variant != "title+summary":
            continue
        print("\n## fusion (hybrid), title+summary")
        for rrf_k, (w_e5, w_use) in itertools.product((20, 60, 100), ((1, 1), (1, 0.5), (0.5, 0.5), (1, 0), (0, 1))):
            weights = {"bm25": 1.0, "e5": w_e5, "use": w_use}
            r = evaluate(engine, qrels, mode="hybrid", fusion="rrf", rrf_k=rrf_k, weights=weights, similar_mode="hybrid")
            print(_row(f"rrf k={rrf_k} bm25=1 e5={w_e5} use={w_use}", r))
        for w in ((1, 1, 1), (1, 1, 0.5), (1, 0.5, 0.5)):
            weights = dict(zip(("bm25", "e5", "use"), map(float, w)))
            r = evaluate(engine, qrels, mode="hybrid", fusion="weighted", weights=weights, similar_mode="hybrid")
            print(_row(f"weighted bm25={w[0]} e5={w[1]} use={w[2]}", r))


if __name__ == "__main__":
    main()
