"""Builds and first answers with the real (bundled) encoders, side by side in one run.

    python -m bench.real_build [--papers 1000] [--serve-papers 800] [--large 10000] [--work DIR]

On the project's synthetic corpus (``bench/synthetic.py``) and the default legs (e5 + use):

1. ``serve --source`` on a new ``--serve-papers`` archive, a real server process polled
   with searches: seconds to its first answer (BM25, notice ``dense_pending``) and to its
   first hybrid answer, with the embedding progress ``/api/health`` reported on the way.
2. A first build of ``--papers`` papers three ways: ``--no-dense``, all at once (every
   leg before anything is served), and progressively (BM25 published first); then an
   incremental build of 10 new papers on the all-at-once index.
3. ``--large`` papers: the BM25 build measured; the full build's embedding extrapolated
   from step 2's seconds per passage (each passage is embedded on its own, so the cost is
   linear in papers; the synthetic passages have the same length distribution at any
   size), and 100k extrapolated from both.
4. ``--large`` papers served: the BM25 index given real-encoder vectors
   (``bench/attach_dense.py``: real query encoders, sampled passage vectors), then every
   mode's HTTP p50/p99 over unique queries, throughput at concurrency 8 and server RSS
   (``bench/modes_bench.py``).

Every root is built from scratch (no embedding cache carried over). Prints numbers; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.http_bench import REPO, free_port
from bench.measure import machine_probe
from bench.synthetic import add_papers, generate

QUERY = "강화학습 에이전트"


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _corpus(work: Path, papers: int) -> Path:
    out = work / f"syn{papers}"
    if not (out / ".complete").exists():
        _fresh(out)
        generate(out, papers)
        (out / ".complete").write_text("", encoding="utf-8")
    return out


def _get(port: int, path: str) -> tuple[int, dict[str, Any] | None]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except (OSError, ValueError):
        return 0, None


def serve_source(work: Path, papers: int, timeout: float) -> dict[str, Any]:
    """Seconds from ``papersearch serve --source`` to its first answer and first hybrid one."""
    source = _corpus(work, papers)
    root = _fresh(work / f"serve{papers}")
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "papersearch", "serve", "--source", str(source), "--index", str(root),
         "--port", str(port), "--log-level", "warning"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    out: dict[str, Any] = {"papers": papers}
    q = "/api/search?" + urllib.parse.urlencode({"q": QUERY, "k": 5})
    try:
        while time.monotonic() - t0 < timeout:
            status, body = _get(port, q)
            now = time.monotonic() - t0
            if status == 200 and body is not None:
                if "first_answer_s" not in out:
                    out["first_answer_s"] = now
                    out["first_mode"], out["first_notice"] = body.get("mode"), body.get("notice_code")
                if body.get("mode") == "hybrid" and body.get("notice_code") is None:
                    out["first_hybrid_s"] = now
                    break
                _, health = _get(port, "/api/health")
                emb = (health or {}).get("embedding") or {}
                if emb:
                    out["last_progress"] = {k: emb.get(k) for k in ("leg", "embedded", "to_embed", "papers_per_s", "eta_s")}
            time.sleep(0.25)
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def _build(sources: list[Path], root: Path, **kw: Any) -> dict[str, Any]:
    from index.build import build_index

    t = time.perf_counter()
    report = build_index(sources, root, progress=False, **kw)
    d = report.to_dict()
    d["wall"] = time.perf_counter() - t
    return d


def _progressive(sources: list[Path], root: Path) -> dict[str, Any]:
    from index.progressive import build_progressively

    t = time.perf_counter()
    first: list[float] = []
    report = build_progressively(sources, root, progress=False, on_bm25=lambda _r: first.append(time.perf_counter() - t))
    d = report.to_dict()
    d["wall"], d["first_answer_s"] = time.perf_counter() - t, first[0] if first else None
    return d


def _row(name: str, papers: int, wall: float, note: str = "") -> None:
    print(f"| {name} | {papers:,} | {wall:.1f} | {papers / wall:.1f} | {note} |", flush=True)


def _steps(timings: dict[str, float]) -> str:
    keep = ("parse", "load_model", "embed", "encode", "tokenize", "bm25")
    return ", ".join(f"{k} {timings[k]:.1f}" for k in keep if k in timings)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.real_build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=1000, help="papers in the measured full builds")
    ap.add_argument("--serve-papers", type=int, default=800, help="papers in the serve --source archive (0: skip)")
    ap.add_argument("--large", type=int, default=10_000, help="papers in the BM25-measured, embed-extrapolated build and the served one (0: skip)")
    ap.add_argument("--queries", type=int, default=200, help="unique queries per mode at --large")
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersearch-bench/real"))
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; probe {machine_probe():.2f} ms", flush=True)

    if args.serve_papers:
        s = serve_source(args.work, args.serve_papers, args.timeout)
        print(f"\nserve --source, new archive of {s['papers']} papers: first answer after {s.get('first_answer_s', float('nan')):.1f} s "
              f"(mode {s.get('first_mode')}, notice {s.get('first_notice')}), first hybrid answer after "
              f"{s.get('first_hybrid_s', float('nan')):.1f} s; last progress seen {s.get('last_progress')}", flush=True)

    corpus = _corpus(args.work, args.papers)
    print("\n| build (default legs e5 + use unless said) | papers | seconds | papers/s | steps (s) |\n|---|---|---|---|---|", flush=True)
    bm = _build([corpus], _fresh(args.work / "ix-bm25"), dense="off", full=True)
    _row("`--no-dense` (BM25 only)", bm["papers"], bm["wall"], _steps(bm["timings"]))
    full = _build([corpus], _fresh(args.work / "ix-full"), full=True)
    _row("all at once (`--all-at-once`)", full["papers"], full["wall"], _steps(full["timings"]))
    prog = _progressive([corpus], _fresh(args.work / "ix-prog"))
    _row("progressive (default first build)", prog["papers"], prog["wall"], f"first answer after {prog['first_answer_s']:.1f} s")
    inc_corpus = args.work / f"syn{args.papers}-inc"
    _fresh(inc_corpus)
    shutil.copytree(corpus, inc_corpus)
    shutil.copytree(args.work / "ix-full", _fresh(args.work / "ix-inc"), symlinks=True)
    add_papers(inc_corpus, args.papers, 10)
    inc = _build([inc_corpus], args.work / "ix-inc")
    print(f"| incremental +10 papers on the all-at-once index | {inc['papers']:,} | {inc['wall']:.1f} | – | "
          f"added {inc.get('added')}, unchanged {inc.get('unchanged')}; {_steps(inc['timings'])} |", flush=True)

    per_paper = full["timings"].get("embed", 0.0) / max(1, full["papers"])
    print(f"\nembedding: {per_paper * 1000:.0f} ms a paper for both legs ({1 / per_paper:.1f} papers/s); "
          f"e5 + use model time {full['timings'].get('encode', 0.0):.1f} s of {full['wall']:.1f} s", flush=True)
    if args.large:
        big = _corpus(args.work, args.large)
        bml = _build([big], _fresh(args.work / f"ix{args.large}-bm25"), dense="off", full=True)
        print("\n| size | BM25 build s (measured) | + embedding s (extrapolated) | full build s | papers/s | first answer (progressive) |\n|---|---|---|---|---|---|")
        for n, bm_s in ((args.large, bml["wall"]), (100_000, bml["wall"] * 100_000 / args.large)):
            tag = "measured" if n == args.large else "extrapolated"
            emb = per_paper * n
            print(f"| {n:,} | {bm_s:.0f} ({tag}) | {emb:.0f} | {bm_s + emb:.0f} | {n / (bm_s + emb):.1f} | after ~{bm_s:.0f} s |", flush=True)
        hybrid = args.work / f"ix{args.large}-real"
        _fresh(hybrid)
        subprocess.run([sys.executable, "-m", "bench.attach_dense", "--index", str(args.work / f"ix{args.large}-bm25"),
                        "--out", str(hybrid)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        print(f"\nserved at {args.large:,} papers (bench.modes_bench, unique queries):", flush=True)
        subprocess.run([sys.executable, "-m", "bench.modes_bench", "--index", str(hybrid), "--queries", str(args.queries)],
                       cwd=REPO, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
