"""Dense retrieval over one dense leg's FAISS index (``index/artifacts/dense_build.py`` writes it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.core.encoders import Encoder
from search.core.errors import IndexCorrupt, ModelUnavailable
from search.core.layout import BuildFiles
from search.core.manifest import DenseLegSpec
from search.core.records import LegStats, ScoredId
from search.core.threads import one_query_at_a_time

# Rows the corpus moments are estimated from: a mean and a covariance need no more than
# this to be exact to ~1% for a 512-d leg, and 1M rows would cost 1M × d² flops.
MOMENT_ROWS = 20_000


def corpus_moments(vectors: np.ndarray) -> np.ndarray:
    """A leg's vectors' mean (row 0) and covariance (rows 1..d), float64, from up to
    ``MOMENT_ROWS`` evenly spaced rows: with them any query's mean and variance of
    similarity over the whole corpus is ``q·μ`` and ``qᵀΣq``, without scoring a paper."""
    n = vectors.shape[0]
    step = max(1, -(-n // MOMENT_ROWS))
    sample = np.asarray(vectors[::step], dtype=np.float64)
    if sample.shape[0] == 0:
        return np.zeros((vectors.shape[1] + 1, vectors.shape[1]))
    mean = sample.mean(axis=0)
    centred = sample - mean
    cov = centred.T @ centred / sample.shape[0]
    return np.vstack([mean[None, :], cov])


class DenseRetriever:
    """One encoder's vectors: ``name`` is the leg's name (``e5``, ``use``, ...)."""

    def __init__(self, name: str, files: BuildFiles, ids: list[str], spec: DenseLegSpec):
        import faiss

        one_query_at_a_time()  # FAISS on one thread for one query (search/core/threads.py)

        vectors_path, faiss_path = files.leg_vectors(name), files.leg_faiss(name)

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
        if spec.ef_search is not None:
            self.index.hnsw.efSearch = spec.ef_search
        self.moments = read_moments(files.leg_moments(name), self.vectors)
        self.ids = ids
        self.encoder: Encoder | None = None
        self.notice: str | None = "embedding model not loaded"  # why it cannot answer queries

    @property
    def ready(self) -> bool:
        return self.encoder is not None

    def retrieve(self, query: str, k: int) -> list[ScoredId]:
        """The ``Retriever`` interface: the best ``k`` hits alone."""
        return self.rank(query, k)[0]

    def rank(self, query: str, k: int) -> tuple[list[ScoredId], LegStats, np.ndarray]:
        """The best ``k`` hits, the query's similarity distribution over the corpus, and
        the query's vector (for ``scores_of``)."""
        if self.encoder is None:
            raise ModelUnavailable(f"dense leg {self.name!r}: {self.notice}")
        vector = self.encoder.encode_query(query)
        return (*self.rank_vector(vector, k), vector)

    def scores_of(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact similarities of these rows (papers another leg found, this one did not
        list): a gather of the memory-mapped vectors and one product."""
        return np.asarray(self.vectors[rows], dtype=np.float32) @ np.asarray(vector, dtype=np.float32).reshape(-1)

    def rank_vector(self, vector: np.ndarray, k: int, exclude_row: int | None = None) -> tuple[list[ScoredId], LegStats]:
        hits = self.search_vector(vector, k, exclude_row)
        return hits, self.stats(vector, hits)

    def stats(self, vector: np.ndarray, hits: list[ScoredId]) -> LegStats:
        return similarity_stats(self.moments, vector, hits)


    def search_vector(self, vector: np.ndarray, k: int, exclude_row: int | None = None) -> list[ScoredId]:
        k = min(k + (exclude_row is not None), len(self.ids))
        if k <= 0:
            return []
        one_query_at_a_time()  # in this thread: OpenMP's thread count is per thread
        scores, rows = self.index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return [
            ScoredId(self.ids[r], float(s))
            for s, r in zip(scores[0], rows[0])
            if r >= 0 and r != exclude_row
        ][: k - (exclude_row is not None)]

    def vector(self, row: int) -> np.ndarray:
        return np.asarray(self.vectors[row], dtype=np.float32)


def similarity_stats(moments: np.ndarray, vector: object, hits: list[ScoredId]) -> LegStats:
    """Mean ``q·μ`` and deviation ``√(qᵀΣq)`` of a query's similarities to every paper
    (``moments``: ``corpus_moments``); a paper not listed stands at the last listed score
    (the list is best-first). Shared by the local and the Milvus engines."""
    q = np.asarray(vector, dtype=np.float64).reshape(-1)
    mean = float(moments[0] @ q)
    var = float(q @ moments[1:] @ q)
    floor = hits[-1].score if hits else mean
    return LegStats(mean, float(np.sqrt(max(var, 0.0))), floor)


def read_moments(path: Path | None, vectors: np.ndarray) -> np.ndarray:
    """A leg's stored moments; computed here for a build made before they were stored (or
    with the file unreadable): the same numbers, once per load."""
    dim = vectors.shape[1]
    if path is not None and path.exists():
        try:
            moments = np.load(path, allow_pickle=False)
            if moments.shape == (dim + 1, dim) and np.isfinite(moments).all():
                return np.asarray(moments, dtype=np.float64)
        except (OSError, ValueError):
            pass
    return corpus_moments(vectors)
