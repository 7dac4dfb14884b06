"""The benchmark script runs end to end in its tiny smoke mode (numbers are not checked:
speed is measured by running the bench, never asserted in a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_bench_smoke_prints_a_table(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--work", str(tmp_path / "bench")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "| papers | measure | value | notes |" in out
    for measure in ("build (full, from scratch)", "incremental +10 papers", "query bm25", "query hybrid",
                    "rank_bm25 BM25Okapi", "tantivy, same Kiwi tokens", "bm25s, whitespace tokens", "ANN hnsw recall@10", "resident memory"):
        assert measure in out, measure


def test_http_bench_runs_against_a_real_server(bm25_index: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "bench.http_bench", "--index", str(bm25_index), "--workers", "2",
         "--queries", "12", "--rounds", "2", "--concurrency", "4"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "sequential     p50" in out and "concurrency 4" in out and "(24 requests)" in out
    assert "/api/health    p50" in out and "the rest (server, loopback, this client), per request: p50" in out
    assert out.count("worker ") == 2 and "PSS" in out  # one memory line per worker process


def test_http_ab_pairs_two_checkouts(bm25_index: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "bench.http_ab", "--a", str(REPO), "--b", str(REPO), "--index", str(bm25_index), "--queries", "8"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert out.count("inside the endpoint p50") == 2 and "B - A, paired by query" in out and "(8 queries" in out
