"""Small measuring helpers for the benchmarks: latency percentiles, memory, a table."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def timed_queries(fn: Callable[[str], Any], queries: Sequence[str], warmup: int = 3) -> list[float]:
    """Milliseconds per call, one query at a time (a server's view, not a batch's)."""
    for q in queries[:warmup]:
        fn(q)
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def machine_probe(rounds: int = 5) -> float:
    """Milliseconds for a fixed piece of work shaped like a search's (interpreted Python and
    a cache-missing NumPy scatter-add over 100k floats), best of ``rounds``. Printed beside
    results: this shared machine's speed drifts by up to 2x within seconds (the probe
    itself ran 3.1-5.8 ms in one minute), so runs compare only with their probes."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 100_000, 40_000)
    vals = rng.random(40_000, dtype=np.float32)
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        scores = np.zeros(100_000, dtype=np.float32)
        np.add.at(scores, rows, vals)
        counts: dict[int, int] = {}
        for i in range(20_000):
            counts[i % 977] = counts.get(i % 977, 0) + i
        best = min(best, time.perf_counter() - t)
    return best * 1000


def percentile(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), p)) if values else float("nan")


def rss_mib() -> float:
    """Resident memory of this process now (Linux /proc; no psutil needed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class Table:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, papers: int, measure: str, value: str, notes: str = "") -> None:
        self.rows.append((f"{papers:,}", measure, value, notes))
        print(f"  [{papers:,}] {measure}: {value}  {notes}", flush=True)

    def markdown(self) -> str:
        head = ("papers", "measure", "value", "notes")
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)
