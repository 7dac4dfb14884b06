"""The served Milvus engine, swappable while requests run: ``EngineHolder`` for a URI.

``reload()`` reads where the alias points now and, when it moved, loads a new
:class:`MilvusEngine` on that collection before rebinding: requests see the old engine or
the new one, never a gap (the build keeps the previous collection for that reason).
"""

from __future__ import annotations

import time
from typing import Any

from search.milvus_engine import MilvusEngine
from search.serve.holder import EngineHolder, Served
from search.serve.snippets import Snippeter
from search.stores.milvus_client import (
    DEFAULT_ALIAS,
    connect,
    milvus_errors,
    served_collection,
)


class MilvusHolder(EngineHolder):
    def __init__(self, uri: str, model: str | None = None, alias: str = DEFAULT_ALIAS) -> None:
        super().__init__(None, model=model)  # no index folder: everything is read from Milvus
        self.uri, self.alias = uri, alias

    @property
    def location(self) -> str:
        return self.uri

    def has_index(self) -> bool:
        with milvus_errors(f"opening {self.uri}"):
            return served_collection(connect(self.uri), self.alias) is not None

    def _load(self, notify: bool = True) -> dict[str, Any]:
        """As ``EngineHolder._load`` (called with ``_reload_lock`` held): a new engine only
        when the alias moved; the loaded encoders are reused."""
        previous = self._served
        if previous is not None:
            with milvus_errors(f"reading the alias at {self.uri}"):
                now = served_collection(previous.engine.client, self.alias)
            if now == previous.engine.collection:
                return {"status": "unchanged", "build_id": previous.engine.build_id, "previous": previous.engine.build_id}
        loaded = previous.engine.encoders if previous else []
        engine = MilvusEngine(self.uri, alias=self.alias, model=self.model, encoders=loaded)
        served = Served(engine, Snippeter(engine.tokenizer), engine.collection, time.time())
        return self._swap(served, previous, notify)
