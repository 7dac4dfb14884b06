"""Which retrieval legs answer a request, and the encoders the dense legs need.

Legs: ``bm25`` plus one dense leg per encoder the index was built with (``e5``, ``use``,
...). A mode picks the legs: ``hybrid`` all of them, ``bm25``, ``dense`` every dense leg,
or one leg by its name. Shared by the local and the Milvus engines, so both answer a mode
alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from search.core.encoders import Encoder, leg_name, load_for_leg, parse_models
from search.core.errors import InvalidQuery, ModelMismatch, ModelUnavailable, shown
from search.core.manifest import DenseLegSpec
from search.core.results import DENSE_PENDING, DENSE_UNAVAILABLE, LEGS_MISSING, MODES

# The encoders' forward passes release the GIL: with several dense legs they run side by
# side on this pool, so a hybrid query waits for the slowest encoder, not for their sum.
LEG_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="papersearch-leg")


@dataclass(frozen=True)
class LegPlan:
    """Which legs answer a request, and why that differs from what was asked."""

    mode: str
    legs: tuple[str, ...]
    notice: str | None = None
    code: str | None = None


def answered_modes(ready: Sequence[str]) -> list[str]:
    """The modes that answer as asked with these ``ready`` dense legs (others fall back to
    BM25 with a notice)."""
    return [*MODES, *ready] if ready else ["bm25"]


def plan_legs(
    mode: str, legs: Mapping[str, Any], ready: Sequence[str], model_notice: str | None, pending: bool = False,
) -> LegPlan:
    """The legs for ``mode`` among those that can answer: ``legs`` every dense leg of the
    index by name (objects with a ``notice``), ``ready`` those that can answer now.
    ``pending``: the dense legs are still being embedded (coming, not missing)."""
    if mode not in MODES and mode not in legs:
        known = [*MODES, *legs]
        raise InvalidQuery(
            f"unknown mode {mode!r}: use one of {', '.join(known)}", code="unknown_mode", params={"value": shown(mode), "known": known}
        )
    if mode == "bm25":
        return LegPlan("bm25", ("bm25",))
    wanted = list(legs) if mode in ("hybrid", "dense") else [mode]
    usable = tuple(leg for leg in wanted if leg in ready)
    if not usable:
        why = model_notice or "no embedding model"
        return LegPlan("bm25", ("bm25",), f"BM25 only: {why}", DENSE_PENDING if pending else DENSE_UNAVAILABLE)
    notice = code = None
    if len(usable) < len(wanted):
        missing = [leg for leg in wanted if leg not in usable]
        notice = f"without {', '.join(missing)}: " + "; ".join(str(legs[m].notice) for m in missing)
        code = LEGS_MISSING
    return LegPlan(mode, (("bm25",) if mode == "hybrid" else ()) + usable, notice, code)


def attach_encoders(
    legs: Mapping[str, Any], specs: Mapping[str, DenseLegSpec], model: str | Sequence[str] | None,
    load_model: bool, encoders: Sequence[Encoder] = (), pending: Sequence[str] = (),
) -> None:
    """Give each dense leg (an object with ``encoder`` and ``notice``) the encoder its
    manifest entry needs; a leg whose model cannot load keeps a notice instead. ``model``:
    names the caller expects, each one of the index's legs (a moved local model folder
    can be given). ``encoders``: models already loaded, reused as they are when one is
    what a leg needs (same backend, model, version, dimension and prompts), never
    changed: a server hands the same ones to each engine it loads. ``pending``: the models
    a progressive BM25 build is still embedding; asking for one of them is no mismatch."""
    given = {leg_name(m): m for m in parse_models(model)}
    coming = {leg_name(m) for m in pending}
    unknown = [m for leg, m in given.items() if leg not in specs and leg not in coming]
    if unknown:
        built = ", ".join(f"{n} ({spec.model})" for n, spec in specs.items()) or "no embedding model"
        raise ModelMismatch(f"index was built with {built}, not {', '.join(unknown)}: rebuild with --model")
    for name, leg in legs.items():
        if load_model:
            spec = specs[name]
            if name in given and spec.backend == "sentence-transformers":
                spec = spec.with_source(given[name])
            try:
                leg.encoder = load_for_leg(spec, encoders)
                leg.notice = None
            except (ModelUnavailable, ModelMismatch) as e:
                leg.notice = str(e)
