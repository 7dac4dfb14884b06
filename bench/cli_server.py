"""What a CLI search costs, answered in its own process and by a running server, side by
side in one run: each command is a fresh ``papersearch`` process, timed from start to exit.

    python -m bench.cli_server --index /tmp/readme-ix [--runs 5]

Starts ``papersearch serve`` on a free port for the ``--server`` runs and stops it at the
end; every command must exit 0. Also times a no-op rebuild (nothing changed: no build,
no model). Prints numbers; asserts no speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.http_bench import free_port, start_server, wait_ready

QUERIES = ["다중 턴 강화학습", "GUI agent RL", "비전-언어 모델 평가", "LLM을 genetic algorithm처럼 써서 합성 데이터 생성", "강화학습 보상 설계"]


def timed(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "papersearch", *args], check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    port = free_port()
    server = start_server(args.index, 1, port)
    try:
        wait_ready("127.0.0.1", port)
        url = f"http://127.0.0.1:{port}"
        rows = []
        for mode in ("hybrid", "bm25"):
            for where, extra in (("in process (--local)", ["--local"]), ("server (--server)", ["--server", url])):
                runs = [timed(["search", QUERIES[i % len(QUERIES)], "--index", str(args.index), "--mode", mode, *extra])
                        for i in range(args.runs)]
                rows.append((mode, where, runs))
        for mode, where, runs in rows:
            print(f"search {mode:7} {where:22} median {statistics.median(runs):6.2f} s  "
                  f"(min {min(runs):.2f}, max {max(runs):.2f}; {len(runs)} processes)")
        similar = [timed(["similar", "2509.02544", "--index", str(args.index), *extra]) for extra in (["--local"], ["--server", url])]
        print(f"similar by id           in process {similar[0]:.2f} s, server {similar[1]:.2f} s")
    finally:
        server.terminate()
        server.wait(30)
    noop = [timed(["index", "build", "--index", str(args.index), "--source", "data/digests"]) for _ in range(3)]
    print(f"no-op rebuild (nothing changed) median {statistics.median(noop):.2f} s  ({', '.join(f'{t:.2f}' for t in noop)})")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
