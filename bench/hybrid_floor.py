"""What a hybrid query cannot go below on this machine: the two bundled encoders' query
passes alone, one after the other and side by side, and the engine's own work per stage
with the encoders taken out (their vectors computed beforehand), in one process.

    python -m bench.hybrid_floor --index IX [--queries 300]

Every encoded query is one not asked before (no cache). The stages are the engine's own
methods timed in place (p50 each; a stage run on the leg pool overlaps the others, so the
stages do not sum to the total). Prints numbers only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.http_bench import distinct_queries
from bench.measure import machine_probe


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:6.2f}"


def prompted(graph: Any) -> Callable[[str], Any]:
    """e5's query pass as a search pays it: the prompt, the tokenizer and the graph."""
    return lambda q: graph.embed("query: " + q)


def encoder_floor(queries: list[str]) -> None:
    """e5 (its query graph on 1 and 2 threads) and USE, alone, in sequence, side by side."""
    from search.core.encoders.e5_graph import E5QueryGraph, model_path
    from search.core.encoders.usem3_backend import USEEncoder

    use = USEEncoder()
    pool = ThreadPoolExecutor(2)
    print(f"{'e5 threads':10} {'e5 alone':>9} {'USE alone':>10} {'e5 then USE':>12} {'side by side':>13}   (p50 ms, {len(queries)} queries)")
    for threads in (2, 1):
        e5 = prompted(E5QueryGraph(model_path(), threads=threads))
        for q in queries[:20]:
            e5(q), use.encode_query(q)
        times: dict[str, list[float]] = {k: [] for k in ("e5", "use", "seq", "par")}
        for i, q in enumerate(queries):
            for key, measured in times.items():  # a fresh text for each measure: no cache answers
                text = f"{q} {key}{i}-{threads}"
                t = time.perf_counter()
                if key == "e5":
                    e5(text)
                elif key == "use":
                    use.encode_query(text)
                elif key == "seq":
                    e5(text), use.encode_query(text)
                else:
                    a, b = pool.submit(e5, text), pool.submit(use.encode_query, text)
                    a.result(), b.result()
                measured.append(time.perf_counter() - t)
        print(f"{threads:<10} {ms(times['e5']):>9} {ms(times['use']):>10} {ms(times['seq']):>12} {ms(times['par']):>13}")


def engine_stages(index: Path, queries: list[str]) -> None:
    """A hybrid search with each dense leg's query vector ready: what is left is Kiwi,
    BM25, FAISS, fusion, match counting and the response."""
    import search.pipeline.engine as pipeline
    from papersearch.engine_choice import open_engine
    from search.pipeline.runs import LegRuns

    engine = open_engine("local", None, index, None, True)
    store = engine.store
    vectors = {(leg, q): store.encode(leg, q) for q in queries for leg in store.dense_legs}
    store.encode = lambda leg, text: vectors[(leg, text)]
    times: dict[str, list[float]] = {}

    def timed(owner: Any, name: str, label: str) -> None:
        call = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                times.setdefault(label, []).append(time.perf_counter() - t)

        setattr(owner, name, wrapper)

    timed(engine, "run_legs", "legs (all)")
    timed(engine, "query_terms", "  Kiwi + expansion")
    timed(store, "rank_bm25", "  BM25")
    for leg, retriever in store.dense_legs.items():
        timed(retriever, "search_vector", f"  FAISS {leg} (leg pool)")
        timed(retriever, "stats", f"  moments {leg}")
    timed(LegRuns, "fill", "exact scores of others' hits")
    timed(pipeline, "fuse", "fusion")
    timed(pipeline, "count_matches", "match counting")
    timed(engine, "_respond", "response")
    for q in queries[:40]:
        engine.search(q, mode="hybrid")
    times.clear()
    total = []
    for q in queries:
        t = time.perf_counter()
        engine.search(q, mode="hybrid", k=10)
        total.append(time.perf_counter() - t)
    print(f"index: {engine.store.paper_count} papers; hybrid search without encoding, p50 {ms(total).strip()} ms")
    for label, values in times.items():
        print(f"  {label:32} {ms(values)} ms")


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.hybrid_floor", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    queries = distinct_queries(args.queries)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, probe {machine_probe():.2f} ms")
    encoder_floor(queries)
    engine_stages(args.index, queries)
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
