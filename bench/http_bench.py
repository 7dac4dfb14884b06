"""HTTP benchmark of ``/api/search`` against a real server: sequential latency (p50/p99)
and throughput at a fixed concurrency, plus each worker's resident memory.

    python -m bench.http_bench --index /tmp/i12/ix --mode bm25 --workers 2
    python -m bench.http_bench --url http://127.0.0.1:8000 --mode hybrid     # a server already running

Without ``--url`` it starts ``papersearch serve --workers N`` (uvicorn, real sockets) on a
free port and stops it at the end. Clients use keep-alive connections over plain
sockets, one per thread, timing each request from send to last byte (``bench/http_client.py``). Every
answer must be a 200 with results, or the run fails. Prints numbers; asserts no speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.http_client import Client
from bench.measure import machine_probe, percentile

REPO = Path(__file__).resolve().parent.parent


def search_path(q: str, mode: str, k: int) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": q, "mode": mode, "k": k})


def sequential(client: Client, paths: list[str]) -> list[float]:
    """Latencies in ms; the answers wait in ``client`` for :meth:`Client.check`."""
    out = []
    for p in paths:
        client.get(p)
        out.append(client.last_ms)
    return out


def distinct_queries(n: int) -> list[str]:
    """``n`` different queries: the dev set's, then synthetic phrases (which can repeat)."""
    from bench.run import _queries

    want = n
    while True:
        qs = list(dict.fromkeys(_queries(want)))
        if len(qs) >= n:
            return qs[:n]
        want += n - len(qs) + 16


def concurrent(
    host: str, port: int, paths: list[str], concurrency: int, rounds: int, split: bool = False
) -> tuple[float, list[float], int]:
    """Each thread sends every query ``rounds`` times (starting at a different place), or
    with ``split`` its own share of them; returns (requests per second, latencies in ms,
    requests)."""
    lat: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[BaseException] = []
    start = threading.Barrier(concurrency + 1)
    clients = [Client(host, port) for _ in range(concurrency)]

    def worker(i: int) -> None:
        c = clients[i]
        if split:
            order = paths[i * len(paths) // concurrency : (i + 1) * len(paths) // concurrency]
        else:
            order = paths[i * len(paths) // concurrency :] + paths[: i * len(paths) // concurrency]
        start.wait()
        try:
            for _ in range(rounds):
                for p in order:
                    c.get(p)
                    lat[i].append(c.last_ms)
        except BaseException as e:  # reported after the run
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for th in threads:
        th.start()
    start.wait()
    t = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    if errors:
        raise RuntimeError(f"{len(errors)} client threads failed: {errors[0]}")
    for c in clients:
        c.check()
    n = sum(len(x) for x in lat)
    return n / wall, [v for x in lat for v in x], n


def worker_memory(server_pid: int) -> list[tuple[int, float, float]]:
    """(pid, RSS MiB, PSS MiB) of each worker process (children of the server), or of the
    server itself when it has none. PSS divides shared pages (the memory-mapped index,
    libraries) among the processes mapping them: the memory a worker really adds."""
    pids = _children(server_pid) or [server_pid]
    out = []
    for pid in pids:
        rss = pss = float("nan")
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
        except OSError:
            continue
        out.append((pid, rss, pss))
    return out


def _children(pid: int) -> list[int]:
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    # uvicorn's supervisor may also hold a multiprocessing helper: keep Python workers only.
    return [k for k in kids if "resource_tracker" not in Path(f"/proc/{k}/cmdline").read_bytes().decode(errors="replace")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, workers: int, port: int, tree: Path = REPO) -> subprocess.Popen[bytes]:
    """``papersearch serve`` from the checkout ``tree`` (``bench/http_ab.py`` runs two)."""
    env = {**os.environ, "PYTHONPATH": str(tree) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "papersearch", "serve", "--index", str(index), "--port", str(port), "--workers", str(workers),
         "--no-build-if-missing", "--log-level", "warning"],
        env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_ready(host: str, port: int, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Client(host, port).get_json("/api/health")
        except (OSError, RuntimeError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.http_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, help="index root to serve (starts a server)")
    ap.add_argument("--url", help="a running server instead, e.g. http://127.0.0.1:8000")
    ap.add_argument("--mode", default="bm25", help="search mode: bm25, hybrid, dense (or a leg name)")
    ap.add_argument("--workers", type=int, default=2, help="server processes when starting one")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=8, help="concurrent requests, in multiples of --queries")
    ap.add_argument("--json", type=Path, help="also write the figures to this file (bench/series.py reads it)")
    args = ap.parse_args(argv)
    if bool(args.index) == bool(args.url):
        ap.error("give --index (start a server) or --url (use a running one)")
    proc = None
    if args.url:
        u = urllib.parse.urlsplit(args.url)
        host, port = u.hostname or "127.0.0.1", u.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        proc = start_server(args.index, args.workers, port)
    try:
        health = wait_ready(host, port)
        # Every measured request is a query not asked before, so no cache helps (the
        # encoders keep recent query vectors): warm-up, sequential and concurrent runs each
        # get their own queries. The warm-up (Kiwi's model, first page-ins, through every
        # worker) takes the dev set's real queries, which open the list.
        n_conc = args.queries * args.rounds
        queries = distinct_queries(2 * args.queries + n_conc)
        warm, seq_q, conc_q = queries[: args.queries], queries[args.queries : 2 * args.queries], queries[2 * args.queries :]
        concurrent(host, port, [search_path(q, args.mode, args.k) for q in warm], max(2, args.workers), 1)
        load_before, probe_before = os.getloadavg(), machine_probe()
        floor_client, seq_client = Client(host, port), Client(host, port)
        floor = sequential(floor_client, ["/api/health"] * args.queries)
        seq = sequential(seq_client, [search_path(q, args.mode, args.k) for q in seq_q])
        floor_client.check(key=None)
        timings = seq_client.check()
        rps, lat, n = concurrent(host, port, [search_path(q, args.mode, args.k) for q in conc_q], args.concurrency, 1, split=True)
        load_after, probe_after = os.getloadavg(), machine_probe()
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
              f"speed probe (bench.measure.machine_probe, fixed work, lower is faster) {probe_before:.2f} ms before, {probe_after:.2f} after")
        print(f"index: {health.get('papers')} papers, build {health.get('build_id')}; mode {args.mode}; k={args.k}; "
              f"{len(seq_q)} queries sequential, {len(conc_q)} concurrent, {len(warm)} warm-up, all distinct; server workers: {args.workers if proc else '?'}")
        print(f"/api/health    p50 {percentile(floor, 50):.2f} ms  p99 {percentile(floor, 99):.2f} ms  (this client and server's floor)")
        print(f"sequential     p50 {percentile(seq, 50):.2f} ms  p99 {percentile(seq, 99):.2f} ms  ({len(seq)} requests, {1000 / (sum(seq) / len(seq)):.0f} req/s)")
        figures: dict[str, Any] = {
            # The mode asked for, and the modes the answers say served them: a hybrid request
            # to an index without a dense leg is answered by BM25 alone.
            "mode": args.mode, "served_modes": sorted(seq_client.served_modes), "papers": health.get("papers"),
            "seq_p50": percentile(seq, 50), "seq_p99": percentile(seq, 99), "health_p50": percentile(floor, 50),
            "probe_before": probe_before, "probe_after": probe_after,
        }
        if timings:
            parts = {name: [t.get(name, 0.0) for t in timings] for name in timings[0]}
            inside = [sum(t.values()) for t in timings]
            figures["inside_p50"] = percentile(inside, 50)
            print("  inside the endpoint (Server-Timing), p50: "
                  + ", ".join(f"{name} {percentile(v, 50):.2f}" for name, v in parts.items())
                  + f"; all {percentile(inside, 50):.2f} ms")
            if len(inside) == len(seq):  # one timing per answer, in order: the rest of each request
                rest = [total - own for total, own in zip(seq, inside)]
                figures["rest_p50"] = percentile(rest, 50)
                print(f"  the rest (server, loopback, this client), per request: p50 {percentile(rest, 50):.2f} ms  p99 {percentile(rest, 99):.2f} ms")
        print(f"concurrency {args.concurrency:<2} {rps:.0f} req/s  p50 {percentile(lat, 50):.2f} ms  p99 {percentile(lat, 99):.2f} ms  ({n} requests)")
        figures.update(rps=rps, conc_p50=percentile(lat, 50), conc_p99=percentile(lat, 99), workers=[])
        if proc is not None:
            for pid, rss, pss in worker_memory(proc.pid):
                print(f"worker {pid}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
                figures["workers"].append({"pid": pid, "rss_mib": rss, "pss_mib": pss})
        if args.json:
            args.json.write_text(json.dumps(figures))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
