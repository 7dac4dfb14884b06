"""BM25 scoring and top-k, ours against tantivy over the very same Kiwi tokens.

    python -m bench.peers --index /tmp/i12/ix          # an index built with `papersearch index build`

Both sides get each query's weighted terms (our analysis: own terms and expansions), so
what is compared is scoring, counting the matches and choosing the top ``k``: ours
(``BM25Retriever.search_terms``) against a tantivy index whose documents are our token
lists (title twice, then the body, as our BM25 documents), split on whitespace, with the
weights as boosts. Timings are interleaved query by query, in the same process, so both
see the same machine load. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.measure import percentile


class TantivyPeer:
    """A tantivy index over our documents' tokens; query = weighted terms."""

    def __init__(self, docs: list[list[str]], workdir: Path | None = None) -> None:
        import tantivy

        sb = tantivy.SchemaBuilder()
        # "whitespace": the tokens are ours already; tantivy must not split or stem them.
        sb.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
        self.schema = sb.build()
        self.tantivy = tantivy
        self.index = tantivy.Index(self.schema, path=str(workdir) if workdir else None)
        writer = self.index.writer(heap_size=500_000_000, num_threads=1)
        for d in docs:
            writer.add_document(tantivy.Document(body=" ".join(d)))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, terms: dict[str, float], k: int) -> tuple[list[tuple[float, int]], int]:
        t = self.tantivy
        q = t.Query.boolean_query([
            (t.Occur.Should, t.Query.boost_query(t.Query.term_query(self.schema, "body", term), weight))
            for term, weight in terms.items()
        ])
        res = self.searcher.search(q, k)
        return [(score, addr.doc) for score, addr in res.hits], res.count


def document_token_lists(engine: Any) -> list[list[str]]:
    """Each paper's BM25 document as token strings, exactly as the build made them."""
    from index.artifacts.bm25_build import BM25Params
    from index.artifacts.bm25_documents import served_documents

    spec = engine.manifest.bm25
    params = BM25Params(k1=spec.k1, b=spec.b, method=spec.method, title_weight=spec.title_weight)
    return list(served_documents(engine.files, engine.files.path.parent.parent / "cache", engine.tokenizer, params))


def compare(engine: Any, queries: list[str], k: int = 10, rounds: int = 3) -> dict[str, float]:
    """p50/p99 (ms) of ours and tantivy's scoring + top-k, and how often the top-k agree."""
    docs = document_token_lists(engine)
    t = time.perf_counter()
    peer = TantivyPeer(docs)
    build_s = time.perf_counter() - t
    del docs
    terms = [engine.query_terms(q) for q in queries]
    terms = [ts for ts in terms if ts]
    ours: list[float] = []
    theirs: list[float] = []
    for r in range(rounds):
        for i, ts in enumerate(terms):
            order = (0, 1) if (i + r) % 2 == 0 else (1, 0)  # alternate who goes first
            for who in order:
                t = time.perf_counter()
                if who == 0:
                    engine.bm25.search_terms(ts, k)
                else:
                    peer.search(ts, k)
                (ours if who == 0 else theirs).append((time.perf_counter() - t) * 1000)
    same = 0
    for ts in terms:
        a = {h.id for h in engine.bm25.search_terms(ts, k)[0]}
        b = {engine.ids[doc] for _s, doc in peer.search(ts, k)[0]}
        same += len(a & b) / max(1, len(a))
    return {
        "ours_p50": percentile(ours, 50), "ours_p99": percentile(ours, 99),
        "tantivy_p50": percentile(theirs, 50), "tantivy_p99": percentile(theirs, 99),
        "top_overlap": same / max(1, len(terms)), "queries": len(terms), "tantivy_index_s": build_s,
    }


def main(argv: list[str] | None = None) -> None:
    from bench.run import _queries
    from search.engine import SearchEngine

    ap = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="index root")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the figures to this file (bench/series.py reads it)")
    args = ap.parse_args(argv)
    engine = SearchEngine.open(args.index, load_model=False)
    res = compare(engine, _queries(args.queries), args.k, args.rounds)
    print(f"{len(engine.ids):,} papers, {res['queries']} queries x {args.rounds} rounds, k={args.k}, interleaved")
    print(f"ours    search_terms  p50 {res['ours_p50']:.3f} ms  p99 {res['ours_p99']:.3f} ms")
    print(f"tantivy search        p50 {res['tantivy_p50']:.3f} ms  p99 {res['tantivy_p99']:.3f} ms  (index {res['tantivy_index_s']:.0f} s)")
    print(f"top-{args.k} overlap {res['top_overlap']:.3f} (tantivy quantises document lengths, so near ties may differ)")
    if args.json:
        args.json.write_text(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1:])
