"""Give a BM25-only benchmark index dense legs of the bundled encoders, for latency.

    python -m bench.attach_dense --index /tmp/ps-bench/ix100k --out /tmp/ps-bench/ix100k-hybrid

Encoding 100k passages with e5 on a 2-core machine takes hours (README, "Models"), and
query latency does not depend on which paper a vector belongs to, only on the encoder and
on the ANN graph over vectors of a real spread. So each leg encodes ``--sample`` real
passages of the index (title + summary, as a build does) and fills every row with one of
them plus Gaussian noise, renormalised: distinct points with the spread of real ones, the
same recipe as the 1M ANN row of ``bench.run``. The copy's manifest gets each leg's real
description, so the engine loads the real encoders for queries. Its answers mean nothing;
its latency is the real thing. Asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="a BM25-only index root")
    ap.add_argument("--out", type=Path, required=True, help="where the copy with dense legs goes")
    ap.add_argument("--models", default="e5,use")
    ap.add_argument("--sample", type=int, default=300, help="real passages encoded per leg")
    args = ap.parse_args()

    from dataclasses import replace

    from index.artifacts.dense_build import choose_index, write_dense, write_moments
    from index.storage import write_manifest
    from search.core.encoders import leg_name, load_encoder, parse_models, passage_text
    from search.core.layout import BuildFiles, IndexLayout
    from search.core.manifest import DenseLegSpec
    from search.core.records import Paper

    build = IndexLayout(args.index).current_build()
    if args.out.exists():
        shutil.rmtree(args.out)
    (args.out / "builds").mkdir(parents=True)
    copy = args.out / "builds" / build.name
    shutil.copytree(build, copy)
    (args.out / "current").symlink_to(Path("builds") / build.name)
    # The build caches too (parsed digests, Kiwi tokens): an incremental build on the copy
    # then tokenizes and encodes only its new papers, and finds the served vectors to extend.
    if IndexLayout(args.index).cache_dir.exists():
        shutil.copytree(IndexLayout(args.index).cache_dir, IndexLayout(args.out).cache_dir)
    files = BuildFiles(copy)
    manifest = files.read_manifest()
    n = manifest.papers
    rng = np.random.default_rng(0)
    rows = sorted(rng.choice(n, size=min(args.sample, n), replace=False).tolist())
    wanted = set(rows)
    sample = [passage_text(Paper.from_dict(d)) for i, d in enumerate(files.iter_papers()) if i in wanted]
    legs = []
    for name in parse_models(args.models):
        enc = load_encoder(name)
        t = time.perf_counter()
        base = enc.encode_passages(sample)
        encode = time.perf_counter() - t
        vectors = base[rng.integers(0, len(base), n)] + rng.normal(0, 0.05, (n, enc.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        spec = choose_index(n)
        leg = leg_name(name)
        t = time.perf_counter()
        write_dense(vectors, files.leg_vectors(leg), files.leg_faiss(leg), spec)
        print(f"{leg}: encoded {len(sample)} passages in {encode:.1f} s; {spec['type']} over {n:,} rows in {time.perf_counter() - t:.1f} s")
        legs.append(DenseLegSpec.from_dict({
            "name": leg, "source": leg if enc.backend != "sentence-transformers" else enc.model,
            **enc.describe(), "text_fields": ["title", "summary"], "index": spec,
        }))
        write_moments(files.leg_vectors(leg), files.leg_moments(leg))
    write_manifest(files, replace(manifest, dense_legs=tuple(legs)))  # atomically, as a build does
    print(f"index with dense legs {', '.join(m.name for m in legs)}: {args.out}")


if __name__ == "__main__":
    main()
