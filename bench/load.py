"""Load under rebuilds: at least N requests at concurrency C against a real ``papersearch
serve``, going on until R rebuild+reload cycles are done. Prints one JSON object; asserts
nothing.

    python -m bench.load --index /tmp/load-ix                 # 10,000 requests, 32 at once, 10 reloads
    python -m bench.load --index /tmp/load-ix --requests 2000 --reloads 3
    python -m bench.load --index /tmp/load-ix --reloads 0      # the same load without reloads

The server runs as its own process (as in production: the client threads here do not
share its interpreter lock). Each cycle rebuilds the index in another process from the
sample digests, alternately with and without one digest so every build differs, then
POSTs /api/reload and waits for it. Requests are BM25 searches over a fixed query list
plus paper lookups; an error is any status but 200, or a failed connection.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.http_bench import free_port
from bench.measure import percentile

REPO = Path(__file__).resolve().parent.parent
QUERIES = [
    "다중 턴 강화학습", "GUI 에이전트", "비디오 추론", "reinforcement learning", "멀티모달 모델",
    "에이전트 도구 사용", "diffusion", "검색 증강 생성", "벤치마크", "LLM reasoning", "이미지 생성",
    "데이터 플라이휠", "효율적인 추론", "코드 생성", "텍스트 음성",
]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "papersearch", *args]


def _build(index: Path, sources: list[Path]) -> float:
    t = time.perf_counter()
    cmd = _cli("index", "build", "--index", str(index), "--no-dense", *(a for s in sources for a in ("--source", str(s))))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def run(index: Path, requests: int, concurrency: int, reloads: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ps-load-"))
    full, partial = work / "full", work / "partial"
    shutil.copytree(REPO / "data" / "digests", full)
    shutil.copytree(full, partial)
    sorted(partial.glob("*.md"))[-1].unlink()
    _build(index, [full])
    port = free_port()
    server = subprocess.Popen(
        _cli("serve", "--index", str(index), "--no-build-if-missing", "--port", str(port), "--log-level", "warning"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                ids = [h["id"] for h in httpx.get(f"{base}/api/search", params={"q": "모델", "k": 50, "mode": "bm25"}).json()["results"]]
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        return _load(base, index, [full, partial], ids, requests, concurrency, reloads)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def _load(
    base: str, index: Path, sources: list[Path], ids: list[str], requests: int, concurrency: int, reloads: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    builds: Counter[str] = Counter()
    lock = threading.Lock()
    counter = iter(range(10**9))
    reloads_over = threading.Event()
    cycles: list[dict[str, float]] = []
    spans: list[tuple[float, float]] = []  # each request's start and end
    windows: dict[str, list[tuple[float, float]]] = {"build": [], "reload": []}

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                with lock:
                    n = next(counter)
                if n >= requests and reloads_over.is_set():
                    return
                if n % 5 == 4:
                    url, params = f"/api/papers/{ids[n % len(ids)]}", None
                else:
                    url, params = "/api/search", {"q": QUERIES[n % len(QUERIES)], "k": 10, "mode": "bm25"}
                t = time.perf_counter()
                try:
                    r = http.get(url, params=params)
                    status = str(r.status_code)
                except httpx.HTTPError as e:
                    status = type(e).__name__
                elapsed = time.perf_counter() - t
                with lock:
                    latencies.append(elapsed)
                    spans.append((t, t + elapsed))
                    if status != "200":
                        errors[status] += 1
                    else:
                        builds[r.headers.get("X-Index-Build", "?")] += 1

    def reloader() -> None:
        try:
            with httpx.Client(base_url=base, timeout=300) as http:
                for i in range(reloads):
                    b = time.perf_counter()
                    build_s = _build(index, [sources[(i + 1) % 2]])
                    t = time.perf_counter()
                    r = http.post("/api/reload")
                    end = time.perf_counter()
                    windows["build"].append((b, t))
                    windows["reload"].append((t, end))
                    cycles.append({"build_s": round(build_s, 2), "reload_s": round(end - t, 3), "status": r.status_code, "at_s": round(end - t0, 1)})
        finally:
            reloads_over.set()  # a failed build ends the load instead of hanging it

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    reload_thread = threading.Thread(target=reloader)
    t0 = time.perf_counter()  # read by reloader()
    reload_thread.start()
    for t in threads:
        t.start()
    reload_thread.join()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = sorted(x * 1000 for x in latencies)

    def overlapping(kind: str) -> list[float]:
        return sorted((e - s) * 1000 for s, e in spans if any(s < we and e > ws for ws, we in windows[kind]))

    during = {kind: overlapping(kind) for kind in windows}
    return {
        "requests": len(ms),
        "concurrency": concurrency,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(ms[-1], 1),
        "requests_per_s": round(len(ms) / wall, 1),
        "wall_s": round(wall, 1),
        "reload_cycles": len(cycles),
        # Requests that overlapped a rebuild (another process, same CPUs) or a reload
        # (the new build loading inside the server): where a spike would come from.
        **{
            f"during_{kind}": {"requests": len(v), "p50_ms": round(percentile(v, 50), 1), "p99_ms": round(percentile(v, 99), 1)}
            for kind, v in during.items()
        },
        "cycles": cycles,
        "builds_that_answered": len(builds),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="index folder to build into and serve (made if missing)")
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--reloads", type=int, default=10)
    args = ap.parse_args()
    print(json.dumps(run(args.index, args.requests, args.concurrency, args.reloads), indent=2))


if __name__ == "__main__":
    main()
