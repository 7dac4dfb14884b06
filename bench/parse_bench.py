"""How long one hostile digest file takes to parse: the long lines that once stalled a
build, at growing sizes, beside the patterns they replaced, and the largest file allowed.

    python -m bench.parse_bench [--repeat 3]

Each row is the best of ``--repeat`` runs of ``index.parse.digest.parse_text`` on one file
(the reader view, every line pattern, the paper blocks; no Kiwi). The "old pattern" rows
time the regular expressions this parser used before (``\\s*:?\\s*``, ``(.*?)\\s*$``) on
the same lines, so the super-linear growth they had is on record next to the linear one
that replaced it; they stop at sizes that still finish.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

from index.parse.digest import parse_text
from index.parse.digest_values import MAX_FILE_BYTES

HEAD = "# 2026-02-01 Daily Papers (Top 5)\n\n## 1. [Bench Paper](https://huggingface.co/papers/2511.00001)\n**Upvotes**: 3\n\n### 📌 요약\n요약.\n"
OLD_UPVOTES = re.compile(r"^\*\*Upvotes\*\*\s*:?\s*(\d+)", re.IGNORECASE)
OLD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def _lines() -> dict[str, Callable[[int], str]]:
    """Each hostile line by its size n (characters of padding)."""
    return {
        "**Upvotes** + n spaces + x": lambda n: "**Upvotes**" + " " * n + "x",
        "#### x + n spaces + y": lambda n: "#### x" + " " * n + "y",
        "## 1. [T](link) + n spaces + y": lambda n: "## 1. [T](https://arxiv.org/abs/2509.02544)" + " " * n + "y",
        "n spaces + -x (bullet)": lambda n: " " * n + "-x",
        "<!-- repeated n/4 times": lambda n: "<!--" * (n // 4),
        "<div hidden> repeated n/12 times": lambda n: "<div hidden>" * (n // 12),
    }


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=Path, default=Path("data/digests/2025-09-03.md"))
    args = ap.parse_args()
    print(f"{'line (inside a paper block)':36} {'n':>9} {'parse (s)':>10}")
    for name, make in _lines().items():
        for n in (40_000, 1_000_000, 4_000_000):
            text = HEAD + make(n) + "\n"
            print(f"{name:36} {n:>9,} {_best(lambda: parse_text(text, 'bench.md'), args.repeat):>10.3f}")
    print(f"\n{'old pattern, same line':36} {'n':>9} {'match (s)':>10}")
    for name, pattern, make in (
        ("\\s*:?\\s* on **Upvotes** + spaces + x", OLD_UPVOTES, _lines()["**Upvotes** + n spaces + x"]),
        ("(.*?)\\s*$ on #### x + spaces + y", OLD_HEADING, _lines()["#### x + n spaces + y"]),
    ):
        for n in (2_500, 5_000, 10_000, 20_000):
            line = make(n)
            print(f"{name:36} {n:>9,} {_best(lambda: pattern.match(line), 1):>10.3f}")
    sample = args.sample.read_text(encoding="utf-8")
    big = sample * (MAX_FILE_BYTES // len(sample.encode("utf-8")))
    seconds = _best(lambda: parse_text(big, "big.md"), args.repeat)
    size = len(big.encode("utf-8"))
    print(f"\nlargest file allowed: {size / 2**20:.1f} MiB of real digests ({args.sample.name} repeated): "
          f"{seconds:.2f} s, {size / 2**20 / seconds:.1f} MiB/s")


if __name__ == "__main__":
    main()
