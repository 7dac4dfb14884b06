"""Retrieval metrics over a relevance set (the format of ``shared/eval/dev.json``).

nDCG@k uses graded gains (2^rel − 1) with the ideal ranking from all judged documents;
MRR@k and Recall@k count any grade > 0 as relevant. ``similar`` items are scored with
nDCG@k of the similar-papers list for their id.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from search.core.errors import InvalidQuery
from search.core.query_limits import SIMILAR_MODE
from search.engine import SearchEngine

FORMAT_HINT = (
    'expected {"queries": [{"query": "...", "relevant": {"<arXiv id>": <grade>, ...}}, ...], '
    '"similar": [{"id": "<arXiv id>", "relevant": {...}}, ...]} (see README, Evaluation)'
)


def load_qrels(path: Path) -> dict[str, Any]:
    """Read and check a relevance set; every problem is named with its place in the file,
    since a malformed item would otherwise score as silent zeros or crash mid-run."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidQuery(f"cannot read relevance set {path}: {e}") from e
    if not isinstance(data, dict):
        raise InvalidQuery(f"{path}: {FORMAT_HINT}")
    problems: list[str] = []
    for key, field in (("queries", "query"), ("similar", "id")):
        items = data.get(key, [])
        if not isinstance(items, list):
            problems.append(f'"{key}" must be a list')
            continue
        for i, item in enumerate(items):
            problems += [f"{key}[{i}]: {p}" for p in _item_problems(item, field)]
    if not problems and not data.get("queries") and not data.get("similar"):
        problems.append('no "queries" and no "similar" items: nothing to score')
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InvalidQuery(f"{path}: bad relevance set: {shown}. {FORMAT_HINT}")
    return data


def _item_problems(item: Any, field: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"expected an object, got {type(item).__name__} {str(item)[:40]!r}"]
    out = []
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        out.append(f'"{field}" is missing or not a non-empty string')
    rel = item.get("relevant")
    if not isinstance(rel, dict) or not rel:
        out.append('"relevant" is missing or not a non-empty {"<id>": grade} object')
    elif not all(isinstance(g, (int, float)) and not isinstance(g, bool) and g >= 0 for g in rel.values()):
        out.append('"relevant" grades must be numbers >= 0')
    return out


def dcg(gains: Sequence[float]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    return dcg([relevant.get(pid, 0) for pid in ranked[:k]]) / ideal


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    for i, pid in enumerate(ranked[:k]):
        if relevant.get(pid, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    rel = {pid for pid, g in relevant.items() if g > 0}
    return len(rel.intersection(ranked[:k])) / len(rel) if rel else 0.0


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def evaluate(
    engine: SearchEngine,
    qrels: Mapping[str, Any],
    mode: str = "hybrid",
    k: int = 10,
    fusion: str | None = None,
    rrf_k: int | None = None,
    weights: Mapping[str, float] | None = None,
    similar_mode: str | None = None,
) -> dict[str, Any]:
    """Scores ``mode`` on the queries; similar items are scored with ``similar_mode``
    (default: the engine's default for similar papers)."""
    similar_mode = similar_mode or SIMILAR_MODE
    unknown = unknown_ids(engine, qrels)
    per_query: list[dict[str, Any]] = []
    answered_modes: set[str] = set()
    for q in qrels.get("queries", []):
        resp = engine.search(q["query"], k=k, mode=mode, fusion=fusion, rrf_k=rrf_k, weights=weights)
        answered_modes.add(resp.mode)
        ranked = [h.paper.id for h in resp.results]
        rel = q["relevant"]
        per_query.append(
            {
                "qid": q.get("qid"),
                "query": q["query"],
                "kind": q.get("kind", "unknown"),
                "lang": q.get("lang", "unknown"),
                "ndcg@10": ndcg_at_k(ranked, rel, k),
                "mrr@10": mrr_at_k(ranked, rel, k),
                "recall@10": recall_at_k(ranked, rel, k),
                "top": ranked[:3],
            }
        )
    similar_scores = []
    for item in qrels.get("similar", []):
        resp = engine.similar(paper_id=item["id"], k=k, mode=similar_mode)
        similar_scores.append({"id": item["id"], "ndcg@10": ndcg_at_k([h.paper.id for h in resp.results], item["relevant"], k)})
    return {
        "mode": mode,
        "answered_mode": "/".join(sorted(answered_modes)) or mode,
        "k": k,
        "queries": len(per_query),
        "overall": _summary(per_query),
        "by_kind": _grouped(per_query, "kind"),
        "by_lang": _grouped(per_query, "lang"),
        # A relevant id the index lacks scores as a miss: said, so a stale relevance file
        # or an index built from other digests is not mistaken for a worse ranking.
        "unknown_ids": unknown,
        "similar": {"mode": similar_mode, "items": len(similar_scores), "ndcg@10": _mean([s["ndcg@10"] for s in similar_scores]), "per_item": similar_scores},
        "per_query": [{**q, **{m: round(q[m], 4) for m in ("ndcg@10", "mrr@10", "recall@10")}} for q in per_query],
    }


def unknown_ids(engine: SearchEngine, qrels: Mapping[str, Any]) -> list[str]:
    """The relevance file's paper ids (relevant, and similar items' own) not in the index."""
    named: set[str] = set()
    for q in qrels.get("queries", []):
        named.update(q["relevant"])
    for item in qrels.get("similar", []):
        named.add(item["id"])
        named.update(item["relevant"])
    return sorted(engine.missing_ids(sorted(named)))


def _summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {m: _mean([r[m] for r in rows]) for m in ("ndcg@10", "mrr@10", "recall@10")} | {"n": len(rows)}


def _grouped(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, dict[str, float]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    return {g: _summary(v) for g, v in sorted(groups.items())}
