"""Write the dense index: normalised vectors (.npy) and a FAISS index chosen by size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# Below this many papers exact search is both fast and perfect; above it HNSW keeps
# query latency flat while recall stays high (measured by bench/).
FLAT_MAX = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128


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
    vectors_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(vectors_path, vectors, allow_pickle=False)
    dim = vectors.shape[1]
    if spec["type"] == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, spec["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = spec["efConstruction"]
        index.hnsw.efSearch = spec["efSearch"]
    index.add(vectors)
    faiss.write_index(index, str(faiss_path))


def extend_dense(
    vectors: np.ndarray, served_faiss: Path, vectors_path: Path, faiss_path: Path, start: int
) -> bool:
    """Copy the served FAISS index and add only rows ``start:``: an HNSW graph over 100k
    papers takes minutes to build and milliseconds to extend. False when the served
    index does not hold exactly ``start`` rows (then build anew)."""
    import faiss

    try:
        index = faiss.read_index(str(served_faiss))
    except RuntimeError:
        return False
    if index.ntotal != start:
        return False
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    vectors_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(vectors_path, vectors, allow_pickle=False)
    if vectors.shape[0] > start:
        index.add(vectors[start:])
    faiss.write_index(index, str(faiss_path))
    return True
