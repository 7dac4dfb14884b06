"""Dense retrieval over one dense leg's FAISS index (``index/dense_build.py`` writes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from search.encoders import Encoder
from search.errors import IndexCorrupt, ModelUnavailable
from search.records import ScoredId


class DenseRetriever:
    """One encoder's vectors: ``name`` is the leg's name (``e5``, ``use``, ...)."""

    def __init__(self, name: str, vectors_path: Path, faiss_path: Path, ids: list[str], spec: dict[str, Any]):
        import faiss

        self.name = name
        try:
            # Memory-map the stored vectors: "similar" reads one row, never the whole matrix.
            self.vectors = np.load(vectors_path, mmap_mode="r", allow_pickle=False)
            # The vectors inside the index (a flat index's codes, an HNSW graph's storage)
            # are memory-mapped, not copied: the worker processes serving one build share
            # them through the page cache (205 MB of 512-d vectors per leg at 100k papers,
            # which each worker held on its own), and opening reads only the graph. A
            # served file's bytes never change: builds write a new file and rename it.
            self.index = faiss.read_index(str(faiss_path), faiss.IO_FLAG_READ_ONLY | faiss.IO_FLAG_MMAP_IFC)
        except (OSError, ValueError, RuntimeError) as e:
            raise IndexCorrupt(f"dense leg {name!r} unreadable: {e}") from e
        if self.index.ntotal != len(ids) or self.vectors.shape[0] != len(ids):
            raise IndexCorrupt(
                f"dense leg {name!r} has {self.index.ntotal} vectors but the index lists {len(ids)} papers"
            )
        if spec.get("type") == "hnsw":
            self.index.hnsw.efSearch = int(spec.get("efSearch", 128))
        self.ids = ids
        self.encoder: Encoder | None = None
        self.notice: str | None = "embedding model not loaded"  # why it cannot answer queries

    @property
    def ready(self) -> bool:
        return self.encoder is not None

    def retrieve(self, query: str, k: int) -> list[ScoredId]:
        if self.encoder is None:
            raise ModelUnavailable(f"dense leg {self.name!r}: {self.notice}")
        return self.search_vector(self.encoder.encode_query(query), k)

    def search_vector(self, vector: np.ndarray, k: int, exclude_row: int | None = None) -> list[ScoredId]:
        k = min(k + (exclude_row is not None), len(self.ids))
        if k <= 0:
            return []
        scores, rows = self.index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return [
            ScoredId(self.ids[r], float(s))
            for s, r in zip(scores[0], rows[0])
            if r >= 0 and r != exclude_row
        ][: k - (exclude_row is not None)]

    def vector(self, row: int) -> np.ndarray:
        return np.asarray(self.vectors[row], dtype=np.float32)
