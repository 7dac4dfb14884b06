"""Small pieces of the Milvus query side: a dense leg's search settings, the served
collection's reads (BM25, ANN, rows by id), the id listing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from search.core.encoders import Encoder
from search.core.errors import ModelUnavailable
from search.core.manifest import DenseLegSpec
from search.core.records import ScoredId
from search.stores.milvus_client import MAX_QUERY_ROWS, leg_field, milvus_errors

# Exact sparse search: no small weights dropped from the query (the build drops none either).
SPARSE_PARAMS = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}


class MilvusLeg:
    """One dense leg (a manifest ``dense_legs`` entry): its Milvus field and, once loaded,
    the encoder for its queries. ``encoder``/``notice``/``ready`` as ``DenseRetriever``."""

    def __init__(self, spec: DenseLegSpec, moments: Any = None, reads: "CollectionReads | None" = None) -> None:
        """``moments``: the leg's corpus mean and covariance as published (lists), or None
        for a collection published before they were (z-score fusion then normalises the
        leg over its own list)."""
        self.name = spec.name
        self.spec = spec
        self.reads = reads
        self.moments = _moments(moments, spec.dim)
        self.field = leg_field(self.name)
        self.encoder: Encoder | None = None
        self.notice: str | None = "embedding model not loaded"  # why it cannot answer queries
        ef = {"ef": spec.ef_search} if spec.ef_search is not None else {}
        self.params = {"metric_type": "IP", "params": ef}

    @property
    def ready(self) -> bool:
        return self.encoder is not None

    def retrieve(self, query: str, k: int) -> list[ScoredId]:
        """The ``Retriever`` interface: the best ``k`` papers for ``query`` by this leg."""
        if self.encoder is None or self.reads is None:
            raise ModelUnavailable(f"dense leg {self.name!r}: {self.notice}")
        return self.reads.ann(self, [float(x) for x in self.encoder.encode_query(query)], k, "")


class PaperIds(Sequence[str]):
    """The served collection's paper ids: counted from the manifest, listed on demand."""

    def __init__(self, engine: Any) -> None:  # a MilvusStore (not imported: it imports this)
        self._engine = engine

    def __len__(self) -> int:
        return self._engine.paper_count

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        return self._engine._all_ids()[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._engine._all_ids())


class CollectionReads:
    """The three reads a query makes of the served collection. Milvus errors become
    ``MilvusUnavailable`` (``milvus_errors``)."""

    def __init__(self, client: Any, collection: str, column: Mapping[str, int]) -> None:
        self.client, self.collection, self.column = client, collection, column

    def bm25(self, terms: Mapping[str, float], depth: int, expr: str) -> list[ScoredId]:
        # A query term's weight times each paper's stored BM25 weight, summed: the same
        # arithmetic as search/legs/bm25.py over the same matrix, so the same scores.
        sparse = {self.column[t]: float(w) for t, w in terms.items() if w > 0 and t in self.column}
        if not sparse:
            return []
        with milvus_errors("BM25 search"):
            res = self.client.search(
                self.collection, data=[sparse], anns_field="bm25", limit=min(depth, MAX_QUERY_ROWS),
                filter=expr, output_fields=[], search_params=SPARSE_PARAMS,
            )
        return [ScoredId(str(h["id"]), float(h["distance"])) for h in res[0] if float(h["distance"]) > 0]

    def ann(self, leg: MilvusLeg, vector: list[float], depth: int, expr: str) -> list[ScoredId]:
        with milvus_errors(f"{leg.name} search"):
            res = self.client.search(
                self.collection, data=[vector], anns_field=leg.field, limit=min(depth, MAX_QUERY_ROWS),
                filter=expr, output_fields=[], search_params=leg.params,
            )
        return [ScoredId(str(h["id"]), float(h["distance"])) for h in res[0]]

    def get(self, ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        with milvus_errors("reading papers"):
            return list(self.client.get(self.collection, ids=ids, output_fields=fields))


def _moments(raw: Any, dim: int) -> np.ndarray | None:
    """The published moments when they are what they should be (d+1 rows of d finite
    numbers), else None: the leg is then normalised over its own list."""
    if raw is None:
        return None
    try:
        moments = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return moments if moments.shape == (dim + 1, dim) and np.isfinite(moments).all() else None
