"""The dense step of a build: the encoders, and per dense leg its normalised vectors (.npy)
and a FAISS index chosen by size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.artifacts.embed_cache import EmbeddingCache, Progress
from index.artifacts.incremental import Delta, ServedBuild
from index.parse.corpus import Corpus
from index.storage import append_file, atomic_file, atomic_path
from search.core.encoders import (
    Encoder,
    default_models,
    leg_name,
    load_encoder,
    parse_models,
    passage_text,
)
from search.core.errors import ModelUnavailable, PaperSearchError
from search.core.layout import BuildFiles
from search.core.manifest import DenseLegSpec
from search.core.threads import all_cores
from search.legs.dense import corpus_moments

DenseMode = Literal["auto", "off", "required"]

# Below this many papers exact search is both fast and perfect; above it HNSW keeps
# query latency flat while recall stays high (measured by bench/).
FLAT_MAX = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
# A query-time setting (the manifest's, applied on load; changing it rebuilds nothing).
# 384-d vectors at 100k papers (bench/): recall@10 0.959 at 128, 0.976 at 256, for
# 0.46 → 0.91 ms a query.
HNSW_EF_SEARCH = 256


def choose_index(n: int, kind: str = "auto") -> dict[str, Any]:
    if kind == "auto":
        kind = "flat" if n <= FLAT_MAX else "hnsw"
    if kind == "flat":
        return {"type": "flat", "metric": "inner_product"}
    if kind == "hnsw":
        return {
            "type": "hnsw",
            "metric": "inner_product",
            "M": HNSW_M,
            "efConstruction": HNSW_EF_CONSTRUCTION,
            "efSearch": HNSW_EF_SEARCH,
        }
    raise ValueError(f"unknown dense index type {kind!r} (auto, flat, hnsw)")


def write_dense(vectors: np.ndarray, vectors_path: Path, faiss_path: Path, spec: dict[str, Any]) -> None:
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    with atomic_file(vectors_path, binary=True) as f:
        np.save(f, vectors, allow_pickle=False)
    dim = vectors.shape[1]
    if spec["type"] == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, spec["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = spec["efConstruction"]
        index.hnsw.efSearch = spec["efSearch"]
    with all_cores():  # many vectors at once: every core (a server's process runs FAISS on one)
        index.add(vectors)
    with atomic_path(faiss_path) as tmp:
        faiss.write_index(index, str(tmp))


def extend_dense(
    new_vectors: np.ndarray, served_faiss: Path, served_vectors: Path, vectors_path: Path, faiss_path: Path, start: int
) -> bool:
    """The served index plus rows appended: copy the served FAISS index and add only the
    new vectors (an HNSW graph over 100k papers takes minutes to build and milliseconds
    to extend), and write ``vectors.npy`` as the served file's bytes plus the new rows.
    False when the served files do not hold exactly ``start`` rows (then build anew)."""
    import faiss

    try:
        index = faiss.read_index(str(served_faiss))
        served = np.load(served_vectors, mmap_mode="r", allow_pickle=False)
    except (RuntimeError, OSError, ValueError):
        return False
    new_vectors = np.ascontiguousarray(new_vectors, dtype=np.float32)
    if index.ntotal != start or served.shape[0] != start or served.dtype != np.float32 or not served.flags.c_contiguous:
        return False
    if len(new_vectors) and (new_vectors.ndim != 2 or new_vectors.shape[1] != served.shape[1]):
        return False
    dim, offset = served.shape[1], served.offset
    del served
    with atomic_file(vectors_path, binary=True) as out:
        np.lib.format.write_array_header_1_0(
            out, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False, "shape": (start + len(new_vectors), dim)}
        )
        append_file(out, served_vectors, start=offset)
        out.write(new_vectors.tobytes())
    if len(new_vectors):
        with all_cores():
            index.add(new_vectors)
    with atomic_path(faiss_path) as tmp:
        faiss.write_index(index, str(tmp))
    return True


def load_encoders(model: str | Sequence[str] | None, dense: DenseMode) -> tuple[dict[str, Encoder], str | None]:
    """One encoder per dense leg. A model that cannot load is left out with a notice (or
    fails the build with ``dense="required"``); with none left the build is BM25-only."""
    if dense == "off":
        return {}, None
    names = parse_models(model) or default_models()
    encoders: dict[str, Encoder] = {}
    problems: list[str] = []
    for name in names:
        leg = leg_name(name)
        if leg in encoders:
            raise PaperSearchError(f"two models would both be dense leg {leg!r}: {', '.join(names)}")
        try:
            encoders[leg] = load_encoder(name)
        except ModelUnavailable as e:
            if dense == "required":
                raise
            problems.append(str(e))
    if not problems:
        return encoders, None
    rest = f"building without it ({', '.join(encoders)} kept)" if encoders else "building a BM25-only index"
    return encoders, f"no embedding model ({'; '.join(problems)}); {rest}"


def write_leg(
    leg: str, corpus: Corpus, encoder: Encoder, files: BuildFiles, show: bool, cache_dir: Path, delta: Delta,
    served: ServedBuild | None, fields: tuple[str, ...], use_cache: bool = True,
    on_progress: Progress | None = None,
) -> tuple[DenseLegSpec, float]:
    """One dense leg's vectors and ANN index: its manifest entry, and the seconds spent in
    the model. ``on_progress(embedded, to_embed)`` after each chunk of passages."""
    cache = EmbeddingCache(cache_dir, {**encoder.describe(), "text_fields": list(fields)}, enabled=use_cache, on_progress=on_progress)

    def texts_of(rows: list[int]) -> list[str]:
        return [passage_text(corpus[i], fields) for i in rows]

    spec = choose_index(len(corpus))
    meta = DenseLegSpec.from_dict({
        "name": leg, "source": encoder.model if encoder.backend == "sentence-transformers" else leg,
        **encoder.describe(), "text_fields": list(fields), "index": spec,
    })
    vectors, faiss_index = files.leg_vectors(leg), files.leg_faiss(leg)
    # The daily case: same model and graph settings, the served rows untouched and first,
    # new rows appended: only they are encoded and added; the rest is copied.
    extended = False
    if delta.appends_only and served is not None and meta.same_graph(served.dense_leg(leg)):
        start = served.papers
        new = cache.encode_papers(corpus.hashes, texts_of, encoder, progress=show, start=start)
        extended = extend_dense(new, served.files.leg_faiss(leg), served.files.leg_vectors(leg), vectors, faiss_index, start)
    if not extended:
        write_dense(cache.encode_papers(corpus.hashes, texts_of, encoder, progress=show), vectors, faiss_index, spec)
    cache.save_papers(vectors)
    write_moments(vectors, files.leg_moments(leg))
    return meta, cache.encode_seconds


def write_moments(vectors_path: Path, moments_path: Path) -> None:
    """The leg's mean and covariance (``search.legs.dense.corpus_moments``): what z-score
    fusion needs to place any query's similarities without scoring every paper."""
    moments = corpus_moments(np.load(vectors_path, mmap_mode="r", allow_pickle=False))
    with atomic_file(moments_path, binary=True) as f:
        np.save(f, moments, allow_pickle=False)
