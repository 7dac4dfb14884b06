"""Small pieces of the Milvus query side: a dense leg's search settings, the id listing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from search.dense_legs import DenseLeg
from search.encoder import Encoder
from search.milvus_store import leg_field


class MilvusLeg:
    """One dense leg: its Milvus field and, once loaded, the encoder for its queries."""

    def __init__(self, leg: DenseLeg) -> None:
        self.name = leg.name
        self.meta = leg.meta
        self.field = leg_field(leg.name)
        self.encoder: Encoder | None = None
        spec = leg.meta.get("index") or {}
        ef = {"ef": int(spec.get("efSearch", 128))} if spec.get("type") == "hnsw" else {}
        self.params = {"metric_type": "IP", "params": ef}


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
