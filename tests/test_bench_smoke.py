"""The benchmark script runs end to end in its tiny smoke mode (numbers are not checked:
speed is measured by running the bench, never asserted in a test)."""

from __future__ import annotations

import json
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


def test_http_bench_runs_against_a_real_server(bm25_index: Path, tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    res = subprocess.run(
        [sys.executable, "-m", "bench.http_bench", "--index", str(bm25_index), "--workers", "2",
         "--queries", "12", "--rounds", "2", "--concurrency", "4", "--json", str(figures)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "sequential     p50" in out and "concurrency 4" in out and "(24 requests)" in out
    assert "/api/health    p50" in out and "the rest (server, loopback, this client), per request: p50" in out
    assert out.count("worker ") == 2 and "PSS" in out  # one memory line per worker process
    # The figures file holds what was printed, for bench.series.
    got = json.loads(figures.read_text())
    assert f"sequential     p50 {got['seq_p50']:.2f} ms  p99 {got['seq_p99']:.2f} ms" in out
    assert f"concurrency 4  {got['rps']:.0f} req/s  p50 {got['conc_p50']:.2f} ms" in out
    assert f"the rest (server, loopback, this client), per request: p50 {got['rest_p50']:.2f} ms" in out
    assert got["mode"] == "bm25" and got["served_modes"] == ["bm25"] and len(got["workers"]) == 2


def test_http_ab_pairs_two_checkouts(bm25_index: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "bench.http_ab", "--a", str(REPO), "--b", str(REPO), "--index", str(bm25_index), "--queries", "8"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert out.count("inside the endpoint p50") == 2 and "B - A, paired by query" in out and "(8 queries" in out


def test_series_runs_every_benchmark_and_counts_runs_against_targets(bm25_index: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "bench.series", "--index", str(bm25_index), "--runs", "1", "--hybrid-every", "1",
         "--peers-every", "1", "--queries", "12", "--rounds", "2", "--hybrid-rounds", "1", "--concurrency", "4"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "run  1 bm25" in out and "run  1 hybrid" in out and "run  1 peers" in out
    assert "bm25, sequential p50 (ms): " in out and " of 1 ≤ 3" in out
    assert "bm25, concurrency throughput (req/s): " in out and " of 1 ≥ 300" in out
    # This index has no dense leg: its "hybrid" answers are BM25's, held to no target.
    assert "(served as bm25)" in out and "hybrid asked, served as bm25, sequential p50 (ms): " in out
    assert "ours vs tantivy (ms): " in out and "ours no slower in " in out
    assert "bm25 worker memory: PSS" in out


def test_series_summary_counts_the_runs_that_meet_each_target() -> None:
    from bench.series import Target, summary

    def run(mode: str, p50: float, rps: float, served: str | None = None) -> dict:
        return {"mode": mode, "served_modes": [served or mode], "seq_p50": p50, "rps": rps, "inside_p50": p50 - 0.5,
                "rest_p50": 0.5, "probe_before": 3.0, "probe_after": 5.5, "workers": [{"pss_mib": 700.0}, {"pss_mib": 780.0}]}

    http = [run("bm25", 2.5, 400), run("bm25", 3.004, 299), run("bm25", 3.0, 300), run("hybrid", 16.0, 80),
            run("hybrid", 14.0, 90), run("hybrid", 4.0, 300, served="bm25")]
    peers = [{"ours_p50": 0.40, "tantivy_p50": 0.45}, {"ours_p50": 0.77, "tantivy_p50": 0.76}]
    targets = {"bm25_p50": Target(3.0, True), "hybrid_p50": Target(15.0, True), "rps": Target(300.0, False)}
    lines = summary(http, peers, targets)
    # 3.004 shows as 3.00 but misses, and is named.
    assert "bm25, sequential p50 (ms): 2.50, 3.00, 3.00; median 3.00; 2 of 3 ≤ 3 (misses: 3.004)" in lines
    assert "bm25, concurrency throughput (req/s): 400, 299, 300; median 300; 2 of 3 ≥ 300 (misses: 299.000)" in lines
    assert "hybrid, sequential p50 (ms): 16.00, 14.00; median 15.00; 1 of 2 ≤ 15 (misses: 16.000)" in lines
    assert "hybrid asked, served as bm25, sequential p50 (ms): 4.00; median 4.00" in lines
    assert "scoring + top-k p50, ours vs tantivy (ms): 0.400 vs 0.450, 0.770 vs 0.760; ours no slower in 1 of 2" in lines
    assert "bm25 worker memory: PSS 700-780 MiB" in lines
    assert "speed probe (lower is faster): 3.00-5.50 ms across the runs" in lines
    # A series whose every run failed still prints its (empty) summary.
    assert summary([], [], targets)[0] == "bm25, sequential p50 (ms): no runs"
