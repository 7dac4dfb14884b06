"""The query side on Milvus: the query pipeline (``search/pipeline/``) over the served
collection (``search/stores/milvus.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search.core.encoders import Encoder
from search.pipeline import Engine
from search.stores.milvus import MilvusStore
from search.stores.milvus_client import DEFAULT_ALIAS


class MilvusEngine(Engine):
    """The pipeline over the served Milvus collection of ``alias`` at ``uri``."""

    engine = "milvus"
    store: MilvusStore

    def __init__(
        self, uri: str, alias: str = DEFAULT_ALIAS, model: str | Sequence[str] | None = None,
        load_model: bool = True, encoders: Sequence[Encoder] = (),
    ) -> None:
        """``model``, ``load_model``, ``encoders``: as ``SearchEngine``'s."""
        super().__init__(MilvusStore(uri, alias=alias, model=model, load_model=load_model, encoders=encoders))

    @property
    def uri(self) -> str:
        return self.store.uri

    @property
    def alias(self) -> str:
        return self.store.alias

    @property
    def collection(self) -> str:
        return self.store.collection

    @property
    def client(self) -> Any:
        return self.store.client

    @property
    def paper_count(self) -> int:
        return self.store.paper_count

    def document_frequency(self, term: str) -> int:
        return self.store.document_frequency(term)

    def info(self) -> dict[str, Any]:
        return {"engine": self.engine, "milvus_uri": self.uri, "alias": self.alias, "collection": self.collection, **self.manifest.to_dict()}
