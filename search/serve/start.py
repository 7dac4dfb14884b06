"""What the start page offers before a first search: example queries drawn from the
served index, and its newest papers.

Examples come from the glossary the build mined (``glossary.json``): its most frequent
Korean phrases, English phrases, and an acronym with a Korean phrase for a mixed query,
each kept only if BM25 finds at least ``MIN_HITS`` papers for it, so every example shown
leads somewhere on this index, whatever corpus it was built from.
"""

from __future__ import annotations

from typing import Any

from search.core.errors import PaperSearchError
from search.core.layout import read_json
from search.engine import SearchEngine

MIN_HITS = 3
PER_LANG = 2
MAX_CANDIDATES = 40  # glossary rows tried per language: bounds the start page's cost


def example_queries(engine: SearchEngine, per_lang: int = PER_LANG) -> list[dict[str, str]]:
    """[{"query", "lang": "ko"|"en"|"mixed"}], most frequent glosses first."""
    rows = _glossary_rows(engine)
    by_kind: dict[str, list[str]] = {"ko": [], "en": [], "acr": []}
    for row in rows:
        for side in (row["a"], row["b"]):
            texts = by_kind.get(side.get("kind", ""))
            if texts is not None and side["text"] not in texts and len(texts) < MAX_CANDIDATES:
                texts.append(side["text"])
    mixed = [f"{acr} {ko}" for acr, ko in zip(by_kind["acr"], by_kind["ko"][1:]) if acr.isascii()]
    out: list[dict[str, str]] = []
    for lang, cands in (("ko", by_kind["ko"]), ("en", by_kind["en"]), ("mixed", mixed)):
        kept = 0
        for query in cands:
            if kept == per_lang:
                break
            if _finds_enough(engine, query):
                out.append({"query": query, "lang": lang})
                kept += 1
    return out


def newest_papers(engine: SearchEngine, n: int = 5) -> list[dict[str, Any]]:
    dated = sorted((p for p in engine.papers if p.date), key=lambda p: p.date or "", reverse=True)
    return [{"id": p.id, "title": p.title, "url": p.url, "date": p.date, "upvotes": p.upvotes} for p in dated[:n]]


def start_page(engine: SearchEngine) -> dict[str, Any]:
    return {"examples": example_queries(engine), "newest": newest_papers(engine), "papers": len(engine.ids)}


def _glossary_rows(engine: SearchEngine) -> list[dict[str, Any]]:
    path = engine.files.glossary
    if not path.exists():
        return []
    try:
        return list(read_json(path).get("pairs", []))
    except (PaperSearchError, AttributeError):
        return []  # a damaged glossary costs the examples, not the page


def _finds_enough(engine: SearchEngine, query: str) -> bool:
    try:
        return engine.search(query, k=MIN_HITS, mode="bm25").total >= MIN_HITS
    except PaperSearchError:
        return False
