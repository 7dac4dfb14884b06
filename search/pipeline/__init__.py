"""The query pipeline: one :class:`Engine` over a :class:`Store` (local files or Milvus)."""

from search.pipeline.engine import Engine
from search.pipeline.runs import LegRun, LegRuns
from search.pipeline.store import DenseLeg, Store

__all__ = ["DenseLeg", "Engine", "LegRun", "LegRuns", "Store"]
