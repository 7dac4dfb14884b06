"""The Milvus engine beside the local one: top-10 agreement and query/build speed.

    python -m bench.milvus --index ROOT --milvus-uri /tmp/ix.db            # parity, dev queries
    python -m bench.milvus --index ROOT --milvus-uri /tmp/ix.db --latency 200 --publish

``--publish`` sends the local index's served build to Milvus first (timed); ``--latency N``
times N queries per mode on both engines (p50/p99) and reports resident memory. Prints a
Markdown table; asserts nothing. Overlap@10 is |top10(local) ∩ top10(milvus)| / 10 per query
(/ the longer list when fewer than 10 papers match), averaged: 1.0 means the same ten papers (order is not compared).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import Table, percentile, rss_mib, timed_queries

REPO = Path(__file__).resolve().parent.parent
DEV = REPO / "tests" / "data" / "dev.json"


def dev_queries(path: Path = DEV) -> list[str]:
    return [q["query"] for q in json.loads(path.read_text(encoding="utf-8"))["queries"]]


def mean_overlap(local: Any, milvus: Any, queries: Sequence[str], mode: str, k: int = 10, **kw: Any) -> float:
    """Mean |top-k(local) ∩ top-k(milvus)| / k over ``queries`` (1.0: the same papers;
    / the longer list when fewer than k papers match)."""
    total = 0.0
    for q in queries:
        a = {h.paper.id for h in local.search(q, k=k, mode=mode, **kw).results}
        b = {h.paper.id for h in milvus.search(q, k=k, mode=mode, **kw).results}
        # Over the longer list, not k: a query fewer than k papers match (BM25) would
        # otherwise score below 1.0 with both engines returning the same papers.
        total += len(a & b) / max(len(a), len(b)) if a or b else 1.0
    return total / len(queries)


def milvus_lite_rss() -> float | None:
    """Resident MiB of the Milvus Lite server processes this one started (None: none)."""
    try:
        import psutil
    except ImportError:
        return None
    procs = [p for p in psutil.Process().children(recursive=True) if "milvus" in " ".join(p.cmdline()).lower()]
    return sum(p.memory_info().rss for p in procs) / 2**20 if procs else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="the local index root")
    ap.add_argument("--milvus-uri", required=True)
    ap.add_argument("--publish", action="store_true", help="publish the local build first (timed)")
    ap.add_argument("--latency", type=int, default=0, help="time this many queries per mode")
    ap.add_argument("--queries", type=Path, default=DEV, help="relevance set whose queries are used")
    args = ap.parse_args(argv)

    from search.engine import SearchEngine
    from search.milvus_engine import MilvusEngine

    table = Table()
    if args.publish:
        from index.publish.milvus_build import publish_build
        from search.core.layout import IndexLayout

        t = time.perf_counter()
        report = publish_build(IndexLayout(args.index).current_build(), args.milvus_uri)
        table.add(report.papers, "milvus publish (collection + load + alias swap)", f"{time.perf_counter() - t:.1f} s", "")
    rss0 = rss_mib()
    local = SearchEngine.open(args.index)
    rss1 = rss_mib()
    milvus = MilvusEngine(args.milvus_uri, encoders=local.encoders)  # the same models, loaded once
    rss2 = rss_mib()
    label = len(local.ids)
    table.add(label, "resident memory, local engine loaded", f"{rss1 - rss0:.0f} MiB", "this process")
    table.add(label, "resident memory, milvus engine loaded", f"{rss2 - rss1:.0f} MiB", "client side")
    if milvus_lite_rss() is not None:
        table.add(label, "resident memory, Milvus Lite server", f"{milvus_lite_rss():.0f} MiB", "its own process, collection loaded")
    qs = dev_queries(args.queries)
    # Every mode the local engine answers as asked: hybrid, bm25, dense and each dense leg.
    modes = [m for m in local.modes if m == "bm25" or m in milvus.modes]
    for mode in modes:
        table.add(label, f"overlap@10 {mode}", f"{mean_overlap(local, milvus, qs, mode):.3f}", f"{len(qs)} dev queries")
    if args.latency:
        many = (qs * (args.latency // len(qs) + 1))[: args.latency]
        for mode in modes:
            for name, engine in (("local", local), ("milvus", milvus)):
                times = timed_queries(lambda q: engine.search(q, k=10, mode=mode), many)
                table.add(label, f"query {mode} ({name})", f"p50 {percentile(times, 50):.1f} ms, p99 {percentile(times, 99):.1f} ms", f"{len(many)} queries, k=10")
    print(table.markdown())


if __name__ == "__main__":
    main()
