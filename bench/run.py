"""Benchmarks at scale: build throughput, incremental rebuild, query latency, memory,
ANN recall, and rank_bm25 / bm25s side by side. Prints a Markdown table; asserts nothing.

    python -m bench.run                       # 10k and 100k papers (corpora and indexes cached in --work)
    python -m bench.run --sizes 10000 --million
    python -m bench.run --smoke               # a tiny run in seconds, for CI

Indexes are built once per size and kept under ``--work`` (with the build report), so
later runs measure queries without rebuilding; ``--rebuild`` starts over. Dense legs use
the offline tiny model from ``tests/tiny_model.py``: its vectors mean nothing, but
latency, memory and ANN recall against exact search are what is measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import Table, percentile, rss_mib, timed_queries
from bench.scale import ann_recall, million

REPO = Path(__file__).resolve().parent.parent
DEV = Path("/work/shared/eval/dev.json")


def _queries(n: int, seed: int = 0) -> list[str]:
    """The dev set's real queries, then short phrases drawn from the synthetic text."""
    from bench.synthetic import Vocabulary

    qs: list[str] = []
    for path in (DEV, REPO / "tests" / "data" / "dev.json"):
        if path.exists():
            qs = [q["query"] for q in json.loads(path.read_text(encoding="utf-8"))["queries"]]
            break
    v = Vocabulary.from_sample()
    rng = random.Random(seed)
    while len(qs) < n:
        qs.append(v.korean.sentence(rng, rng.randint(2, 4)) if len(qs) % 2 else v.titles.sentence(rng, 3))
    return qs[:n]


def _build(sources: list[Path], root: Path, model: Path | str | None, full: bool = True) -> dict[str, Any]:
    from index.build import build_index

    t = time.perf_counter()
    report = build_index(
        sources, root, model=str(model) if model else None, dense="required" if model else "off", progress=False, full=full
    )
    out = report.to_dict()
    out["wall"] = time.perf_counter() - t
    out.pop("errors", None)
    return out


def ensure_index(work: Path, n: int, model: Path | str | None, rebuild: bool, table: Table) -> Path:
    from bench.synthetic import generate

    corpus, root, saved = work / f"syn{_tag(n)}", work / f"idx{_tag(n)}", work / f"idx{_tag(n)}.build.json"
    if not (corpus / ".done").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        generate(corpus, n)
        (corpus / ".done").touch()
    if rebuild or not saved.exists():
        shutil.rmtree(root, ignore_errors=True)
        saved.write_text(json.dumps(_build([corpus], root, model)), encoding="utf-8")
    elif not _has_paper_hashes(root):
        _build([corpus], root, model, full=False)  # an index cached before paper_hashes.json: upgrade it once
    report = json.loads(saved.read_text(encoding="utf-8"))
    t = report["timings"]
    total = report["wall"]
    table.add(n, "build (full, from scratch)", f"{n / total:,.0f} papers/s", f"{total:.1f} s; Kiwi {t.get('tokenize', 0) / total:.0%} of it; " + ", ".join(f"{k} {v:.1f}s" for k, v in t.items()))
    return root


def _has_paper_hashes(root: Path) -> bool:
    from search.core.layout import BuildFiles, IndexLayout

    try:
        return BuildFiles(IndexLayout(root).current_build()).paper_hashes.exists()
    except Exception:  # no readable index: the build above made one, or the bench fails later
        return False


def incremental(work: Path, n: int, root: Path, model: Path | str | None, table: Table) -> None:
    """+10 papers (a later day's digest) on a copy of the index, so the cached one stays."""
    from bench.synthetic import add_papers

    extra = work / f"extra{_tag(n)}"
    shutil.rmtree(extra, ignore_errors=True)
    add_papers(extra, n, 10)
    copy = work / f"idx{_tag(n)}-incr"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, symlinks=True)
    os.sync()  # the copy's half a gigabyte of dirty pages is the harness's, not the build's, to flush
    try:
        r = _build([work / f"syn{_tag(n)}", extra], copy, model, full=False)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    encode = r["timings"].get("encode", 0.0)  # the model's forward passes alone
    load = r["timings"].get("load_model", 0.0)  # importing sentence-transformers, mostly
    table.add(
        n, "incremental +10 papers", f"{r['wall'] - load - encode:.2f} s",
        f"excluding model load ({load:.1f} s) and encoding ({encode:.2f} s); {r['wall']:.2f} s in all; "
        f"added {r['added']}, reused {r['reused']}; "
        + ", ".join(f"{k} {v:.2f}s" for k, v in r["timings"].items() if k not in ("load_model", "encode")),
    )


def queries(n: int, root: Path, qs: list[str], table: Table) -> dict[str, Any]:
    from search.engine import SearchEngine

    before = rss_mib()
    t = time.perf_counter()
    engine = SearchEngine.open(root)
    table.add(n, "open index", f"{time.perf_counter() - t:.2f} s", f"RSS +{rss_mib() - before:,.0f} MiB (now {rss_mib():,.0f} MiB)")
    engine.search(qs[0], k=10, mode="bm25")  # Kiwi's first call loads its model
    kiwi = timed_queries(lambda q: engine.query_terms(q), qs)
    table.add(n, "Kiwi query tokenization", f"p50 {percentile(kiwi, 50):.2f} ms", f"p99 {percentile(kiwi, 99):.2f} ms")
    for mode in ("bm25", "dense", "hybrid"):
        if mode != "bm25" and not engine.dense_ready:
            continue
        lat = timed_queries(lambda q: engine.search(q, k=10, mode=mode), qs)
        table.add(n, f"query {mode} (engine.search, k=10)", f"p50 {percentile(lat, 50):.2f} ms", f"p99 {percentile(lat, 99):.2f} ms")
    table.add(n, "resident memory after queries", f"{rss_mib():,.0f} MiB", "whole bench process")
    return {"engine": engine, "bm25_p50": percentile(timed_queries(lambda q: engine.search(q, k=10, mode="bm25"), qs), 50)}


def alternatives(n: int, engine: Any, qs: list[str], ours_p50: float, table: Table, rank_queries: int) -> None:
    """rank_bm25 over our very tokens, and bm25s over plain whitespace tokens."""
    import bm25s
    from rank_bm25 import BM25Okapi

    from bench.peers import document_token_lists

    papers = engine.papers
    docs = document_token_lists(engine)
    t = time.perf_counter()
    okapi = BM25Okapi(docs)
    build = time.perf_counter() - t
    sub = qs[:rank_queries]
    terms = [list(engine.query_terms(q)) for q in sub]
    lat = []
    for q, ts in zip(sub, terms):
        t = time.perf_counter()
        engine.query_terms(q)  # same Kiwi cost as ours, for a fair ratio
        scores = okapi.get_scores(ts)
        np.argpartition(-scores, min(10, len(scores) - 1))[:10]
        lat.append((time.perf_counter() - t) * 1000)
    p50 = percentile(lat, 50)
    table.add(n, "rank_bm25 BM25Okapi, same Kiwi tokens", f"p50 {p50:.1f} ms", f"build {build:.1f} s; ours is {p50 / ours_p50:,.0f}x faster at p50 ({len(sub)} queries)")
    del okapi

    from bench.peers import compare

    peer = compare(engine, qs)  # scoring + top-10 alone, interleaved with ours, same tokens and weights
    table.add(
        n, "tantivy, same Kiwi tokens and weights (scoring + top-10)", f"p50 {peer['tantivy_p50']:.3f} ms",
        f"ours (search_terms) p50 {peer['ours_p50']:.3f} ms, p99 {peer['ours_p99']:.3f} ms; tantivy p99 {peer['tantivy_p99']:.3f} ms; "
        f"top-10 overlap {peer['top_overlap']:.3f}; interleaved, {peer['queries']} queries x 3",
    )

    texts = [f"{p.title}\n{p.search_text()}" for p in papers]
    t = time.perf_counter()
    model = bm25s.BM25()
    model.index([s.split() for s in texts], show_progress=False)
    build = time.perf_counter() - t
    lat = timed_queries(lambda q: model.retrieve([q.split()], k=min(10, len(papers)), show_progress=False), qs)
    table.add(n, "bm25s, whitespace tokens (no Kiwi)", f"p50 {percentile(lat, 50):.2f} ms", f"index {len(texts) / build:,.0f} docs/s; quality not comparable (Korean particles stay glued)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; for CI")
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersearch-bench"), help="cache of corpora and indexes")
    ap.add_argument("--model", default=None, help="encoders, e.g. e5,use (bundled; slow to encode 100k) or a folder (default: build the tiny one)")
    ap.add_argument("--dim", type=int, default=384, help="tiny model's vector size (384: multilingual-e5-small's)")
    ap.add_argument("--no-dense", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="rebuild cached indexes")
    ap.add_argument("--million", action="store_true", help="also BM25 at 1M papers (resampled tokens)")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args(argv)
    sizes = [300] if args.smoke else [int(s) for s in args.sizes.split(",")]
    nq = 30 if args.smoke else args.queries
    work = args.work
    if args.smoke and args.work == ap.get_default("work"):
        work = Path(f"/tmp/papersearch-bench-smoke-{random.randrange(1 << 30):x}")
    work.mkdir(parents=True, exist_ok=True)
    model = None
    if not args.no_dense:
        model = args.model or work / f"tiny-model-{args.dim}"
        if args.model is None and not (model / "modules.json").exists():
            from tests.tiny_model import build_tiny_model

            build_tiny_model(model, REPO / "data" / "digests", dim=args.dim)
    qs = _queries(nq)
    table = Table()
    try:
        for n in sizes:
            root = ensure_index(work, n, model, args.rebuild, table)
            incremental(work, n, root, model, table)
            res = queries(n, root, qs, table)
            alternatives(n, res["engine"], qs, res["bm25_p50"], table, rank_queries=min(nq, 30))
            ann_recall(n, res["engine"], qs, table, force_hnsw=args.smoke)
            del res
        if args.million:
            million(work, work / f"idx{_tag(max(sizes))}", qs, table)
    finally:
        if args.smoke:
            shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {platform.machine()}, {_cpus()} cores, {_mem_gib():.0f} GiB RAM, Python {platform.python_version()}")
    print(table.markdown())



def _tag(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _mem_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


if __name__ == "__main__":
    main(sys.argv[1:])
