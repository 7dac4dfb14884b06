"""The dense legs a build holds, read from its manifest: the one place that knows its shape.

Today a manifest has one ``"dense"`` dict (model, dim, prompts, index) whose vectors lie at
``BuildFiles.vectors``. Builds with several encoders will list ``"dense_legs"``: each a dict
with a ``"name"`` and its vectors under ``dense/<name>/vectors.npy``. Code that loops over
dense legs (the Milvus engine and its build) calls :func:`dense_legs` and works with both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.layout import VECTORS, BuildFiles

# Today's single leg answers mode "dense" and fills the hit's "dense" key: keep that name.
SINGLE_LEG = "dense"


@dataclass(frozen=True)
class DenseLeg:
    name: str  # "dense" today; "e5", "use", ... with several legs
    meta: Mapping[str, Any]  # model, dim, prompts, index settings as the manifest has them
    vectors: Path | None  # the build's normalised float32 vectors; None when read remotely

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])


def dense_legs(manifest: Mapping[str, Any], files: BuildFiles | None = None) -> list[DenseLeg]:
    """Every dense leg of a build, in the manifest's order ([] for a BM25-only build)."""
    listed = manifest.get("dense_legs")
    if listed:
        return [DenseLeg(str(leg["name"]), leg, _leg_vectors(files, str(leg["name"]))) for leg in listed]
    single = manifest.get("dense")
    if single:
        return [DenseLeg(SINGLE_LEG, single, files.vectors if files is not None else None)]
    return []


def _leg_vectors(files: BuildFiles | None, name: str) -> Path | None:
    if files is None:
        return None
    # BuildFiles gains leg_vectors() with multi-leg builds; until then the planned path.
    leg_vectors = getattr(files, "leg_vectors", None)
    return Path(leg_vectors(name)) if leg_vectors is not None else files.dense / name / VECTORS
