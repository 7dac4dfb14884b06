"""When a hit counts as a match: per-leg thresholds on each leg's evidence.

Every paper has a cosine similarity to every query and most share a common word with it,
so "found by a leg" means nothing on its own: a nonsense query would list the whole
corpus. A hit is a **match** when one of the legs that answered gives strong evidence:

* ``bm25``: its *coverage*, the share of the query's own terms (idf-weighted) that the
  paper contains, expansion terms counting at their weight (``search/pipeline/matching.py``);
* a dense leg: its cosine similarity (each model has its own scale: e5's cosines sit in
  0.7–0.95 for anything, USE's spread from −0.1 to 0.7).

Thresholds come in two sets: ``fused`` for a leg answering beside others (hybrid, dense)
and ``alone`` for a mode of one leg, since a lone leg has no other leg to rescue what it
cuts. The shipped values are what ``python -m bench.match_calibration`` chose on the dev
set with off-topic queries (README, "What counts as a match"); ``papersearch tune``
chooses them again for one index and records them in its manifest (``"match"``). A leg
with no threshold (a hub model nobody calibrated) counts every hit it lists, as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from search.core.errors import IndexCorrupt


@dataclass(frozen=True)
class MatchThresholds:
    fused: Mapping[str, float] = field(default_factory=dict)
    alone: Mapping[str, float] = field(default_factory=dict)
    # How they were chosen (relevance file, folds, held-out figures); None: shipped.
    calibrated: Mapping[str, Any] | None = None

    def for_legs(self, legs: Sequence[str]) -> dict[str, float | None]:
        """Each answering leg's threshold (None: every hit of that leg counts)."""
        chosen = self.alone if len(legs) == 1 else self.fused
        return {leg: chosen.get(leg) for leg in legs}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fused": dict(self.fused), "alone": dict(self.alone)}
        if self.calibrated is not None:
            out["calibrated"] = dict(self.calibrated)
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> "MatchThresholds":
        try:
            if not isinstance(raw, Mapping) or any(not isinstance(raw.get(n) or {}, Mapping) for n in ("fused", "alone")):
                raise TypeError("expected {\"fused\": {leg: threshold}, \"alone\": {leg: threshold}}")
            sets = {name: {str(k): float(v) for k, v in (raw.get(name) or {}).items()} for name in ("fused", "alone")}
            if any(not math.isfinite(v) for s in sets.values() for v in s.values()):
                raise ValueError("a threshold is not a finite number")
            return cls(sets["fused"], sets["alone"], raw.get("calibrated"))
        except (AttributeError, TypeError, ValueError) as e:
            raise IndexCorrupt(f"the index's match thresholds are unreadable ({e}): run `papersearch tune` again") from e

    def merged_over(self, base: "MatchThresholds") -> "MatchThresholds":
        """These thresholds, with ``base``'s for legs these do not name."""
        return MatchThresholds({**base.fused, **self.fused}, {**base.alone, **self.alone}, self.calibrated)

    def describe(self) -> str:
        """One line for ``info``."""
        def one(s: Mapping[str, float]) -> str:
            return ", ".join(f"{k}≥{v:g}" for k, v in s.items()) or "none"

        how = "shipped" if not self.calibrated else f"calibrated by `papersearch tune` on {self.calibrated.get('qrels')}"
        return f"fused {one(self.fused)}; alone {one(self.alone)} ({how})"


# Chosen by `python -m bench.match_calibration` on the sample index (dev set + the
# off-topic queries of index/publish/offtopic_queries.json), rounded to 4 places inside
# the gaps it chose; its folds are in the README, "What counts as a match".
SHIPPED_MATCH = MatchThresholds(
    fused={"bm25": 0.4208, "e5": 0.8504, "use": 0.1614},
    alone={"bm25": 0.0056, "e5": 0.8119, "use": 0.1614},
)
