"""Write the dense index: normalised vectors (.npy) and a FAISS index chosen by size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from search.layout import append_file

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
    vectors_path.parent.mkdir(parents=True, exist_ok=True)
    with open(vectors_path, "wb") as out:
        np.lib.format.write_array_header_1_0(
            out, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False, "shape": (start + len(new_vectors), dim)}
        )
        append_file(out, served_vectors, start=offset)
        out.write(new_vectors.tobytes())
    if len(new_vectors):
        index.add(new_vectors)
    faiss.write_index(index, str(faiss_path))
    return True


def same_graph(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two builds' dense settings give the same index, query-time knobs aside:
    then the served index can be extended."""

    def key(meta: dict[str, Any] | None) -> dict[str, Any] | None:
        if meta is None:
            return None
        spec = {k: v for k, v in (meta.get("index") or {}).items() if k != "efSearch"}
        return {**meta, "index": spec}

    return key(a) == key(b)
