"""Paired A/B of ``/api/search`` between two checkouts of this project: both servers run at
once, and every query goes to both, back to back (which one first alternates), so both
answer under the same machine conditions.

    git worktree add /tmp/before <commit>
    python -m bench.http_ab --a /tmp/before --b . --index /tmp/i12/ix --mode bm25

On a shared machine whose speed drifts by up to 2x within seconds (``bench.measure.
machine_probe``), two separate runs of ``bench.http_bench`` can differ more than two
versions of the code do; the paired difference cannot. Absolute latencies here are higher
than ``http_bench``'s: the two servers evict each other's caches. Prints numbers only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from bench.http_bench import (
    distinct_queries,
    free_port,
    search_path,
    start_server,
    wait_ready,
)
from bench.http_client import Client


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.http_ab", description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", type=Path, required=True, help="checkout A (e.g. a git worktree of the old commit)")
    ap.add_argument("--b", type=Path, required=True, help="checkout B")
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--mode", default="bm25")
    ap.add_argument("--queries", type=int, default=600, help="measured queries (after 200 warm-up ones)")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    ports = {name: free_port() for name in trees}
    procs = {name: start_server(args.index, args.workers, ports[name], tree=tree) for name, tree in trees.items()}
    try:
        for name in trees:
            wait_ready("127.0.0.1", ports[name])
        queries = distinct_queries(200 + args.queries)
        clients = {name: Client("127.0.0.1", ports[name]) for name in trees}
        for q in queries[:200]:
            for name in trees:
                clients[name].get(search_path(q, args.mode, 10))
        for c in clients.values():
            c.check()
        lat: dict[str, list[float]] = {name: [] for name in trees}
        for i, q in enumerate(queries[200:]):
            for name in ("A", "B") if i % 2 == 0 else ("B", "A"):
                clients[name].get(search_path(q, args.mode, 10))
                lat[name].append(clients[name].last_ms)
        for name, tree in trees.items():
            inside = [sum(t.values()) for t in clients[name].check()]
            outside = [a - b for a, b in zip(lat[name], inside)]
            print(f"{name} ({tree}): p50 {statistics.median(lat[name]):.3f} ms, inside the endpoint p50 "
                  f"{statistics.median(inside):.3f}, the rest p50 {statistics.median(outside):.3f}")
        diff = [b - a for a, b in zip(lat["A"], lat["B"])]
        print(f"B - A, paired by query: p50 {statistics.median(diff):+.3f} ms, mean {statistics.mean(diff):+.3f} ms "
              f"({args.queries} queries, mode {args.mode}, {args.workers} worker(s) each)")
    finally:
        for p in procs.values():
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
