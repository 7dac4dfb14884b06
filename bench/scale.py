"""The scale rows of ``bench/run.py``: ANN recall against exact search, and BM25 and HNSW
at a million papers (resampled from a built index: a 1M Kiwi build takes hours here)."""

from __future__ import annotations

import functools
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import Table, percentile, rss_mib, timed_queries


def ann_recall(n: int, engine: Any, qs: list[str], table: Table, force_hnsw: bool = False) -> None:
    """Recall@10 of the served ANN index against exact inner-product search."""
    for name, dense in engine.dense_legs.items():
        if dense.encoder is not None:
            _leg_recall(name, dense, dict(engine.leg_specs[name].index), n, qs, table, force_hnsw)


def _leg_recall(name: str, dense: Any, spec: dict[str, Any], n: int, qs: list[str], table: Table, force_hnsw: bool) -> None:
    import faiss

    from index.artifacts.dense_build import choose_index

    vectors = np.asarray(dense.vectors, dtype=np.float32)
    ann = dense.index
    if spec["type"] == "flat" and force_hnsw:  # smoke runs are small; exercise HNSW anyway
        spec = choose_index(n, "hnsw")
        ann = faiss.IndexHNSWFlat(vectors.shape[1], spec["M"], faiss.METRIC_INNER_PRODUCT)
        ann.hnsw.efConstruction = spec["efConstruction"]
        ann.add(vectors)
        ann.hnsw.efSearch = spec["efSearch"]
    if spec["type"] == "flat":
        table.add(n, f"ANN ({name})", "exact (flat)", "below the HNSW threshold; recall 1.0 by construction")
        return
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    qv = dense.encoder.encode_queries(qs)
    rng = np.random.default_rng(0)  # plus stored vectors with noise: near-duplicate queries
    noisy = vectors[rng.choice(len(vectors), len(qs), replace=len(vectors) < len(qs))] + rng.normal(0, 0.05, (len(qs), vectors.shape[1])).astype(np.float32)
    qv = np.vstack([qv, noisy / np.linalg.norm(noisy, axis=1, keepdims=True)]).astype(np.float32)
    _, truth = exact.search(qv, 10)
    t = time.perf_counter()
    _, got = ann.search(qv, 10)
    per_q = (time.perf_counter() - t) * 1000 / len(qv)
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got)]))
    table.add(n, f"ANN {spec['type']} recall@10 vs exact ({name})", f"{recall:.3f}", f"M={spec['M']} efSearch={spec['efSearch']}; {per_q:.2f} ms/query batched; {len(qv)} queries")


def million(work: Path, base: Path, qs: list[str], table: Table, n: int = 1_000_000) -> None:
    """BM25 at 1M papers: token lists resampled from the base index's cached Kiwi tokens
    (a 1M Kiwi build would take hours on this machine), queried through Kiwi."""
    from index.artifacts.bm25_build import BM25Params, document_tokens, write_bm25
    from index.artifacts.token_cache import TokenCache
    from search.core.layout import BuildFiles, IndexLayout
    from search.core.span_arrays import SpanArrays
    from search.core.tokenizer import KiwiTokenizer
    from search.legs.bm25 import BM25Retriever

    files = BuildFiles(IndexLayout(base).current_build())
    tok = KiwiTokenizer()
    titles = TokenCache(base / "cache", tok).tokenize([d["title"] for d in files.iter_papers()])
    spans = SpanArrays.read(files)  # the bodies, as the build indexed them
    bounds, vocab = spans.paper_offsets().tolist(), np.asarray(spans.vocab, dtype=object)
    bodies = [vocab[spans.terms[a:b]].tolist() for a, b in zip(bounds, bounds[1:])]
    m = len(titles)
    rng = random.Random(0)
    docs = []
    for _ in range(n):  # title of one paper, body halves of two others: new documents, same statistics
        a, b, c = rng.randrange(m), rng.randrange(m), rng.randrange(m)
        body_b, body_c = bodies[b], bodies[c]
        docs.append(document_tokens(titles[a], body_b[: len(body_b) // 2] + body_c[len(body_c) // 2 :], BM25Params()))
    out = work / "bm25-1m"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    write_bm25(docs, out, BM25Params())
    build = time.perf_counter() - t
    del docs, titles, bodies
    before = rss_mib()
    bm25 = BM25Retriever(out, [str(i) for i in range(n)], tok)
    lat = timed_queries(functools.partial(bm25.retrieve, k=100), qs)
    table.add(n, "BM25 retrieve top-100 incl. Kiwi (resampled tokens)", f"p50 {percentile(lat, 50):.2f} ms", f"p99 {percentile(lat, 99):.2f} ms; bm25s index {build:.0f} s; mmap load RSS +{rss_mib() - before:,.0f} MiB")
    del bm25
    shutil.rmtree(out, ignore_errors=True)
    for leg in BuildFiles(IndexLayout(base).current_build()).read_manifest().get("dense_legs") or []:
        million_ann(np.load(files.leg_vectors(leg["name"])), table, n)
        break  # one leg's vectors: the graph's cost depends on the dimension, not the model


def million_ann(base: np.ndarray, table: Table, n: int, queries: int = 400) -> None:
    """HNSW at 1M: the base index's vectors resampled with Gaussian noise (distinct
    points with the same spread), recall@10 against exact search on the same vectors."""
    import faiss

    from index.artifacts.dense_build import write_dense

    rng = np.random.default_rng(0)
    vectors = base[rng.integers(0, len(base), n)]
    vectors += rng.normal(0, 0.05, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    from index.artifacts.dense_build import choose_index

    spec = choose_index(n)
    tmp = Path(f"/tmp/papersearch-ann-1m-{rng.integers(1 << 30):x}")
    try:
        t = time.perf_counter()
        write_dense(vectors, tmp / "vectors.npy", tmp / "faiss.index", spec)
        build = time.perf_counter() - t
        before = rss_mib()
        ann = faiss.read_index(str(tmp / "faiss.index"))
        ann.hnsw.efSearch = spec["efSearch"]
        loaded = rss_mib() - before
        qv = vectors[rng.integers(0, n, queries)] + rng.normal(0, 0.05, (queries, vectors.shape[1])).astype(np.float32)
        qv /= np.linalg.norm(qv, axis=1, keepdims=True)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        _, truth = exact.search(qv, 10)
        del exact
        lat = timed_queries(lambda q: ann.search(q.reshape(1, -1), 10), list(qv))
        _, got = ann.search(qv, 10)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got)]))
        table.add(n, f"ANN {spec['type']} recall@10 vs exact ({vectors.shape[1]}-d, resampled)", f"{recall:.3f}",
                  f"query p50 {percentile(lat, 50):.2f} ms, p99 {percentile(lat, 99):.2f} ms; build {build:.0f} s; index RSS +{loaded:,.0f} MiB; {queries} queries")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
