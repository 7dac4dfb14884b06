"""Every search mode against one real server in one run, side by side with ``/api/health``:
sequential p50/p99 of ``hybrid``, ``dense``, each dense leg and ``bm25``, then throughput at
concurrency 8 of ``hybrid`` and ``bm25``.

    python -m bench.modes_bench --index IX [--queries 200] [--workers 1] [--tree CHECKOUT]

The sequential requests interleave (health, then each mode in turn, query after query), so
the machine's drift reaches every mode alike; every search is a query not asked before
(the encoders cache recent query vectors), so each pays its forward passes. ``--tree``
serves from another checkout (e.g. a git worktree of an older commit) to set two versions
side by side. Prints numbers, with the load average and the machine probe around them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

from bench.http_bench import REPO, concurrent, distinct_queries, free_port, search_path, start_server, wait_ready, worker_memory
from bench.http_client import Client
from bench.measure import machine_probe, percentile


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.modes_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=200, help="sequential requests per mode")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--tree", type=Path, default=REPO, help="the checkout whose server answers")
    args = ap.parse_args(argv)
    port = free_port()
    proc = start_server(args.index, args.workers, port, tree=args.tree.resolve())
    try:
        health = wait_ready("127.0.0.1", port)
        legs = [leg["name"] for leg in health["legs"] if leg["kind"] == "dense" and leg["ready"]]
        modes = ["bm25", *legs, "dense", "hybrid"] if legs else ["bm25"]
        n = args.queries
        conc_n = n * 2
        queries = iter(distinct_queries(40 + n * len(modes) + conc_n * 2))
        client = Client("127.0.0.1", port)
        for mode in modes:  # warm-up: Kiwi, the encoders' first calls, page-ins
            for _ in range(10 // len(modes) + 2):
                client.get(search_path(next(queries), mode, 10))
        client.check()
        load_before, probe_before = os.getloadavg(), machine_probe()
        lat: dict[str, list[float]] = {"health": [], **{m: [] for m in modes}}
        for _ in range(n):
            client.get("/api/health")
            lat["health"].append(client.last_ms)
            for mode in modes:
                client.get(search_path(next(queries), mode, 10))
                lat[mode].append(client.last_ms)
        client.check(key=None)
        rates = {}
        for mode in [m for m in ("hybrid", "bm25") if m in modes]:
            paths = [search_path(next(queries), mode, 10) for _ in range(conc_n)]
            rates[mode] = concurrent("127.0.0.1", port, paths, args.concurrency, 1, split=True)
        load_after, probe_after = os.getloadavg(), machine_probe()
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
              f"probe {probe_before:.2f} / {probe_after:.2f} ms; server from {args.tree.resolve()} ({args.workers} worker)")
        print(f"index: {health['papers']} papers, legs bm25 + {', '.join(legs) or 'none'}; {n} distinct queries per mode, k=10")
        floor = percentile(lat["health"], 50)
        for name, xs in lat.items():
            ratio = "" if name == "health" else f"  ({percentile(xs, 50) / floor:.1f}x health)"
            print(f"{name:8} p50 {percentile(xs, 50):7.2f} ms  p99 {percentile(xs, 99):7.2f} ms{ratio}")
        for mode, (rps, conc_lat, count) in rates.items():
            print(f"{mode:8} concurrency {args.concurrency}: {rps:.0f} req/s, p50 {percentile(conc_lat, 50):.2f} ms, p99 {percentile(conc_lat, 99):.2f} ms ({count} requests)")
        for pid, rss, pss in worker_memory(proc.pid):
            print(f"server {pid}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
