"""What score-aware fusion costs a query, beside RRF, in one run: the whole search, the
legs' corpus-wide statistics, and the fusion itself.

    python -m bench.fusion_bench [--n 10000] [--queries 300] [--work /tmp/papersearch-bench]

On a synthetic index of ``--n`` papers (``bench.run``'s corpus; the tiny 384-d model as the
dense leg, which costs what any 384-d leg costs past its encoder) it times, query by
query and interleaved so the machine's drift hits every arm alike:

* ``engine.search`` in hybrid mode with ``fusion=rrf`` and ``fusion=zscore`` (p50, p99);
* the statistics z-score needs: BM25's sum and sum of squares over the score array, a
  dense leg's ``q·μ`` and ``qᵀΣq``;
* the exact scores of the candidates a leg did not list (``LegRuns.fill``);
* the fusions alone on the legs' real candidate lists (depth 100 each).

Then BM25's statistics on score arrays of 100k and 1M papers, the sizes an index of this
machine's reach holds, where they grow with the corpus (the dense ones do not: d² flops).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from bench.measure import Table, machine_probe, percentile
from bench.run import REPO, _queries, ensure_index
from search.core.query_limits import CANDIDATES
from search.engine import SearchEngine
from search.legs.dense import similarity_stats
from search.pipeline.fusion import LegStats, fuse


def _ms(fn, repeat: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) * 1000 / repeat


def _row(name: str, xs: list[float]) -> str:
    return f"{name:44} p50 {percentile(xs, 50):8.3f} ms   p99 {percentile(xs, 99):8.3f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersearch-bench"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.work / "tiny-model-384"
    if not (model / "modules.json").exists():
        from tests.tiny_model import build_tiny_model

        build_tiny_model(model, REPO / "data" / "digests", dim=384)
    root = ensure_index(args.work, args.n, model, rebuild=False, table=Table())
    engine = SearchEngine.open(root)
    leg = next(iter(engine.dense_legs))
    qs = _queries(args.queries)
    print(f"{args.n:,} papers, legs bm25 + {leg} (tiny 384-d), {len(qs)} queries; machine probe {machine_probe():.2f} ms")
    for q in qs[:10]:  # warm both arms
        engine.search(q, mode="hybrid", fusion="rrf")
        engine.search(q, mode="hybrid", fusion="zscore")
    arms: dict[str, list[float]] = {"rrf": [], "zscore": []}
    order = ["rrf", "zscore"]
    for i, q in enumerate(qs):
        for fusion in order if i % 2 else order[::-1]:
            arms[fusion].append(_ms(lambda f=fusion: engine.search(q, mode="hybrid", fusion=f)))
    for fusion, xs in arms.items():
        print(_row(f"search hybrid, fusion={fusion}", xs))
    stats_bm25, stats_dense, fills, fuse_t = [], [], [], {m: [] for m in ("rrf", "zscore", "dbsf")}
    dense = engine.dense_legs[leg]
    for q in qs:
        runs = engine.run_legs(q, ("bm25", leg), CANDIDATES)
        rankings, stats, terms = runs.rankings, runs.stats, runs.terms
        # BM25's statistics: the rank without them, and with them, on the same terms.
        plain = _ms(lambda: engine.bm25.rank_terms(terms, CANDIDATES, stats=False), 3)
        stats_bm25.append(_ms(lambda: engine.bm25.rank_terms(terms, CANDIDATES, stats=True), 3) - plain)
        vector = dense.encoder.encode_query(q)
        stats_dense.append(_ms(lambda: similarity_stats(dense.moments, vector, rankings[leg]), 5))
        fills.append(_ms(runs.fill, 5))
        fill = runs.fill()
        for method in fuse_t:
            fuse_t[method].append(_ms(lambda m=method: fuse(rankings, m, stats=stats, fill=fill), 5))
    print(_row("bm25 statistics (rank with - rank without)", stats_bm25))
    print(_row(f"{leg} statistics (q·μ, qᵀΣq; 384-d)", stats_dense))
    print(_row("exact scores of unlisted candidates (fill)", fills))
    for method, xs in fuse_t.items():
        print(_row(f"fusion alone: {method}", xs))
    rng = np.random.default_rng(0)
    for n in (100_000, 1_000_000):
        scores = np.zeros(n, dtype=np.float32)
        scores[rng.integers(0, n, n // 3)] = rng.random(n // 3, dtype=np.float32)
        xs = [_ms(lambda: LegStats.of(float(scores.sum(dtype=np.float64)), float(np.dot(scores, scores)), n, 0.0)) for _ in range(200)]
        print(_row(f"bm25 statistics alone, {n:,} scores", xs))
    for d in (384, 512, 1024):
        m = rng.random((d + 1, d))
        v = rng.random(d)
        xs = [_ms(lambda: similarity_stats(m, v, [])) for _ in range(200)]
        print(_row(f"dense statistics alone, {d}-d", xs))


if __name__ == "__main__":
    random.seed(0)
    main()
