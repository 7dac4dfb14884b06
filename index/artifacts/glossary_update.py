"""The glossary step of a build: mine the whole corpus, or merge a small change into the
served glossary.

Mining every build costs time in proportion to the corpus (Kiwi over every gloss window,
one pass over all tokens for phrase counts), which a daily "+10 papers" build should not
pay. When the served build has a glossary of the same version and the change is small
(added + changed + removed papers at most ``max(100, 1 % of the corpus)``), only the
added and changed papers are mined, phrase frequencies still coming from the whole new
corpus, and the result is merged into the served glossary:

* pairs are keyed by their two sides (text, terms, kind, as the miner keys them):
  counts and text counts add up;
* word pairs are derived again from the merged pairs (so two papers agreeing across
  builds give the same evidence as within one);
* transliteration keys are a union (first key kept).

What merging does not do: a removed or changed paper's old pairs and keys stay (their
counts are not subtracted, the served glossary does not say which paper gave what), and
the old papers' phrase boundaries are not re-weighed against the grown corpus. Both drift
slowly and only by as much as the small deltas add up; a ``--full`` build, or any large
change, mines everything again and starts clean. ``glossary.json`` says which it was
(``mode``: ``full`` or ``merged``, ``papers_mined``, and for merged, ``merged_into``:
how many papers the served glossary had been mined from in total).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.artifacts.gloss_pairs import Side
from index.artifacts.glossary import GLOSSARY_VERSION, mine_glossary, word_pairs
from search.core.tokenizer import KiwiTokenizer


def small_change(changed: int, n_papers: int) -> bool:
    """A change small enough to merge: at most 100 papers or 1 % of the corpus."""
    return changed <= max(100, n_papers // 100)


def build_glossary(
    texts: Sequence[str],
    doc_terms: Sequence[Sequence[str]],
    tokenizer: KiwiTokenizer,
    *,
    fresh: Sequence[int],
    changed: int,
    served: Path | None,
    full: bool = False,
) -> dict[str, Any]:
    """The new build's glossary. ``fresh`` are the rows added or changed since the served
    build, ``changed`` the papers added, changed or removed, ``served`` the served
    build's ``glossary.json`` (None or missing: mine everything)."""
    old = None if full or not small_change(changed, len(texts)) else _read(served)
    if old is None:
        return mine_glossary(texts, doc_terms, tokenizer)
    new = mine_glossary(texts, doc_terms, tokenizer, only=list(fresh))
    return merge_glossaries(old, new)


def merge_glossaries(old: dict[str, Any], new: dict[str, Any], min_word_support: int = 2) -> dict[str, Any]:
    """``new`` (mined from the fresh papers) merged into ``old`` (the served glossary)."""
    rows: dict[tuple[Side, Side], dict[str, Any]] = {}
    for p in [*old["pairs"], *new["pairs"]]:
        key = (Side.from_dict(p["a"]), Side.from_dict(p["b"]))  # text, terms and kind: as the miner keys them
        if key in rows:
            rows[key] = {**rows[key], "count": rows[key]["count"] + p["count"], "texts": rows[key]["texts"] + p["texts"]}
        else:
            rows[key] = p
    pairs = sorted(rows.values(), key=lambda p: (-p["count"], p["a"]["text"]))
    pair_count: Counter[tuple[Side, Side]] = Counter({key: p["count"] for key, p in rows.items()})
    translit: dict[str, dict[str, Any]] = {}
    for part in ("ko", "en"):
        keys = dict(old["translit"][part])  # old keys win and keep their order; new ones follow
        for k, v in new["translit"][part].items():
            keys.setdefault(k, v)
        translit[part] = keys
    return {
        "version": GLOSSARY_VERSION,
        "mode": "merged",
        "papers_mined": new.get("papers_mined", 0),
        "merged_into": _mined_total(old) + new.get("papers_mined", 0),
        "pairs": pairs,
        "words": word_pairs(pair_count, min_word_support),
        "translit": translit,
    }


def _mined_total(g: dict[str, Any]) -> int:
    return int(g.get("merged_into", g.get("papers_mined", 0)))


def _read(path: Path | None) -> dict[str, Any] | None:
    """The served glossary if it can be merged into; None means mine everything."""
    if path is None:
        return None
    try:
        g = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(g, dict) or g.get("version") != GLOSSARY_VERSION:
        return None
    if not all(k in g for k in ("pairs", "words", "translit")):
        return None
    return g


__all__ = ["build_glossary", "merge_glossaries", "small_change"]
