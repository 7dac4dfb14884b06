"""Papers like several papers at once ("papers like these").

Each chosen paper's own similar-papers list (what ``SearchEngine.similar`` gives: its
stored vector in dense mode, BM25 more-like-this over its text otherwise) is fused by
reciprocal rank fusion, and the chosen papers themselves are left out. RRF rather than
the mean of the stored vectors: it works the same in BM25-only indexes, and it favours
a paper close to all of the chosen ones over one very close to a single one, which a
mean vector between two distant topics would not.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.engine import SearchEngine
from search.errors import InvalidQuery
from search.fusion import DEFAULT_RRF_K
from search.query_limits import MAX_K, SIMILAR_MODE
from search.results import SearchHit, SearchResponse

MAX_IDS = 20


def similar_to_many(engine: SearchEngine, ids: Sequence[str], k: int = 10, mode: str = SIMILAR_MODE) -> SearchResponse:
    """Papers like all of ``ids`` (1 to MAX_IDS ids of papers in the index)."""
    chosen = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))  # unique, in order
    if not chosen:
        raise InvalidQuery("give at least one paper id")
    if len(chosen) > MAX_IDS:
        raise InvalidQuery(f"{len(chosen)} paper ids; the limit is {MAX_IDS}")
    if not 1 <= k <= MAX_K:
        raise InvalidQuery(f"k must be between 1 and {MAX_K}")
    papers = [engine.paper(i) for i in chosen]  # an unknown id fails here, named
    skip = {p.id for p in papers}
    scores: dict[str, float] = {}
    answered: set[str] = set()
    notice: str | None = None
    code: str | None = None
    for paper in papers:
        resp = engine.similar(paper_id=paper.id, k=MAX_K, mode=mode)  # each list as deep as allowed
        answered.add(resp.mode)
        notice, code = notice or resp.notice, code or resp.notice_code
        for hit in resp.results:
            if hit.paper.id not in skip:
                scores[hit.paper.id] = scores.get(hit.paper.id, 0.0) + 1.0 / (DEFAULT_RRF_K + hit.rank)
    # Ties (the same ranks in every list) go to the lower row: deterministic.
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], engine.row_of[kv[0]]))
    # A hit's place comes from several papers' lists, so it carries no per-leg breakdown.
    hits = [SearchHit(n + 1, engine.paper(pid), score, {}) for n, (pid, score) in enumerate(ranked[:k])]
    effective = answered.pop() if len(answered) == 1 else mode
    return SearchResponse(
        ", ".join(p.id for p in papers), effective, mode, hits, len(ranked), 0, notice=notice, notice_code=code
    )
