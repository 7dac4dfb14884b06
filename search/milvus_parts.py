"""Small pieces of the Milvus query side: a dense leg's search settings, the id listing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from search.encoders import Encoder
from search.milvus_store import leg_field


class MilvusLeg:
    """One dense leg (a manifest ``dense_legs`` entry): its Milvus field and, once loaded,
    the encoder for its queries. ``encoder``/``notice``/``ready`` as ``DenseRetriever``."""

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.name = str(meta["name"])
        self.meta = meta
        self.field = leg_field(self.name)
        self.encoder: Encoder | None = None
        self.notice: str | None = "embedding model not loaded"  # why it cannot answer queries
        spec = meta.get("index") or {}
        ef = {"ef": int(spec.get("efSearch", 128))} if spec.get("type") == "hnsw" else {}
        self.params = {"metric_type": "IP", "params": ef}

    @property
    def ready(self) -> bool:
        return self.encoder is not None


class PaperIds(Sequence[str]):
    """The served collection's paper ids: counted from the manifest, listed on demand."""

    def __init__(self, engine: Any) -> None:  # a MilvusEngine (not imported: it imports this)
        self._engine = engine

    def __len__(self) -> int:
        return self._engine.paper_count

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        return self._engine._all_ids()[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._engine._all_ids())
