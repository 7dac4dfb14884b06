"""Encoder backends side by side: load time, query-encode p50/p99, passages/s, memory.

    python -m bench.encoders                      # e5 and use, on the sample corpus
    python -m bench.encoders --models e5,use,/path/to/st-model --passages 200

Queries are the dev set's; passages are the sample papers' title + summary (what a build
encodes), repeated to ``--passages``. One process per backend would isolate memory
better; here each model is loaded in turn and the resident-memory growth is reported.
Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from bench.measure import Table, percentile, rss_mib, timed_queries

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="e5,use")
    ap.add_argument("--passages", type=int, default=144)
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args()

    from index.parse.parse_cache import parse_sources_cached
    from search.core.encoders import load_encoder, parse_models, passage_text

    papers = list(parse_sources_cached([REPO / "data" / "digests"], None, enabled=False).papers)
    passages = [passage_text(p) for p in papers]
    passages = (passages * (args.passages // len(passages) + 1))[: args.passages]
    dev = json.loads((REPO / "tests" / "data" / "dev.json").read_text(encoding="utf-8"))
    queries = [q["query"] for q in dev["queries"]]
    # Distinct strings, so the query cache never answers.
    queries = [f"{q} {i}" for i, q in enumerate((queries * (args.queries // len(queries) + 1))[: args.queries])]
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{len(passages)} passages (mean {sum(map(len, passages)) // len(passages)} chars), {len(queries)} queries")
    table = Table()
    for name in parse_models(args.models):
        before = rss_mib()
        t = time.perf_counter()
        enc = load_encoder(name)
        load = time.perf_counter() - t
        enc.encode_passages(passages[:4])  # warm-up
        ms = timed_queries(enc.encode_query, queries)
        t = time.perf_counter()
        enc.encode_passages(passages)
        rate = len(passages) / (time.perf_counter() - t)
        tokens = sum(enc.count_tokens(enc.fit(p), False) for p in passages) / len(passages)
        label = f"{name} ({enc.backend} {enc.version}, {enc.dim}-d)"
        table.add(len(passages), f"{label}: load", f"{load * 1000:.0f} ms", f"RSS +{rss_mib() - before:.0f} MiB")
        table.add(len(passages), f"{label}: query encode", f"p50 {percentile(ms, 50):.2f} ms", f"p99 {percentile(ms, 99):.2f} ms")
        table.add(len(passages), f"{label}: passages", f"{rate:.1f} /s", f"mean {tokens:.0f} tokens a passage")
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
