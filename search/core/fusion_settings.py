"""How an index fuses its legs by default: the fusion, its constant and per-leg weights.

The shipped default is what won on the dev set across folds (README, "Fusion"); ``papersearch
tune QRELS`` may choose others for one index by cross-validation, and records them in the
index's manifest (``"fusion"``) with how they were chosen. A request can still name its
own (``--fusion``, ``?fusion=``); what it leaves out comes from the index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from search.core.errors import IndexCorrupt, InvalidQuery, shown

DEFAULT_RRF_K = 60
FUSIONS = ("zscore", "dbsf", "rrf", "weighted")  # search/pipeline/fusion.py: what each does
DEFAULT_FUSION = "zscore"

MAX_RRF_K = 10_000
MAX_WEIGHT = 100.0


@dataclass(frozen=True)
class FusionSettings:
    method: str = DEFAULT_FUSION
    rrf_k: int = DEFAULT_RRF_K
    weights: Mapping[str, float] = field(default_factory=dict)  # a leg not named weighs 1
    # How ``papersearch tune`` chose them (relevance file, folds, held-out figures); None
    # for the shipped default.
    tuned: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "rrf_k": self.rrf_k, "weights": dict(self.weights)}
        if self.tuned is not None:
            out["tuned"] = dict(self.tuned)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "FusionSettings":
        """Recorded settings (``search/core/manifest.py`` reads them from the manifest)."""
        try:
            return cls(
                check_fusion(raw["method"]), check_rrf_k(raw["rrf_k"]), check_weights(raw.get("weights") or {}),
                raw.get("tuned"),
            )
        except (InvalidQuery, KeyError, TypeError) as e:
            raise IndexCorrupt(f"the index's fusion settings are unreadable ({e}): run `papersearch tune` again") from e

    def asked(self, method: str | None, rrf_k: int | None, weights: Mapping[str, float] | None) -> "FusionSettings":
        """These settings with what a request names instead (checked)."""
        if method is None and rrf_k is None and weights is None:
            return self  # the common case: ~5 µs a search spared
        return replace(
            self,
            method=self.method if method is None else check_fusion(method),
            rrf_k=self.rrf_k if rrf_k is None else check_rrf_k(rrf_k),
            weights=self.weights if weights is None else check_weights(weights),
        )

    def describe(self) -> str:
        """One line for ``info`` and the logs."""
        weights = ", ".join(f"{k}={v:g}" for k, v in self.weights.items()) or "every leg 1"
        k = f" k={self.rrf_k}" if self.method == "rrf" else ""
        if not self.tuned:
            how = "the shipped default"
        else:
            held = self.tuned.get("held_out") or {}
            figures = f"held-out nDCG@10 tuned {held.get('tuned')} vs default {held.get('default')}"
            verb = "chosen by" if self.tuned.get("replaced_default") else "the shipped default, kept by"
            how = f"{verb} `papersearch tune` on {self.tuned.get('qrels')}: {figures}"
        return f"{self.method}{k}, weights {weights} ({how})"


def check_fusion(fusion: object) -> str:
    if fusion not in FUSIONS:
        raise InvalidQuery(
            f"unknown fusion {fusion!r}: use one of {', '.join(FUSIONS)}",
            code="unknown_fusion", params={"value": shown(fusion), "known": list(FUSIONS)},
        )
    return str(fusion)


def check_rrf_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_RRF_K:
        raise InvalidQuery(
            f"rrf_k must be a whole number between 0 and {MAX_RRF_K}", code="out_of_range", params={"field": "rrf_k", "min": 0, "max": MAX_RRF_K}
        )
    return k


def check_weights(weights: Mapping[str, object]) -> dict[str, float]:
    out: dict[str, float] = {}
    for leg, w in weights.items():
        if not isinstance(leg, str) or not leg:
            raise InvalidQuery(f"a weight needs a leg name, got {leg!r}", code="bad_weights", params={"value": shown(leg)})
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or not 0 <= w <= MAX_WEIGHT:
            raise InvalidQuery(
                f"weight of {leg!r} must be a number between 0 and {MAX_WEIGHT:g}, got {w!r}",
                code="out_of_range", params={"field": "weights", "leg": shown(leg), "min": 0, "max": MAX_WEIGHT},
            )
        out[leg] = float(w)
    return out


def check_weight_legs(weights: Mapping[str, float], legs: Iterable[str]) -> None:
    """Every weighted leg is one of the index's: a typo (``e6=2``) would be ignored."""
    known = list(legs)
    unknown = [leg for leg in weights if leg not in known]
    if unknown:
        raise InvalidQuery(
            f"no leg {', '.join(map(repr, unknown))} in this index: its legs are {', '.join(known)}",
            code="unknown_leg", params={"value": ", ".join(shown(u) for u in unknown), "known": known},
        )


def parse_weights(text: str) -> dict[str, float]:
    """``bm25=1,e5=1,use=0.5`` → per-leg weights (the CLI's and the API's spelling)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, num = part.partition("=")
        name = name.strip()
        try:
            value = float(num)
        except ValueError:
            value = math.nan
        if not sep or not name or not math.isfinite(value):
            raise InvalidQuery(
                f"weights {part.strip()!r}: use LEG=NUMBER, e.g. bm25=1,e5=1,use=0.5", code="bad_weights", params={"value": shown(part.strip())}
            )
        out[name] = value
    return check_weights(out)
