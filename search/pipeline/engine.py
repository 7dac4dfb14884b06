"""The one query pipeline: validate → plan the legs → run them → fuse → filter and sort
→ page → respond, written once for every store an index can live in.

A :class:`Store` is where an index's data is read from: the local build's files
(``search/stores/local.py``) or a Milvus collection (``search/milvus_engine.py``). It runs
each leg (BM25, every dense leg: ``search.legs.retriever.Retriever`` each) and reads records;
everything else (which legs a mode uses, how deep each leg is read, fusion, the page, the
response) happens here, so both stores answer a request alike. What differs is a store's
nature, stated as attributes: ``filters_in_legs`` (Milvus filters inside each leg's
search; the local store ranks every match and filters after fusion) and ``min_depth``
(Milvus reads every leg to the candidate depth, since it cannot count matches).

Search, papers like a paper, like a pasted text and like several papers all go through
:class:`Engine`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from search.core.encoders import Encoder, leg_name
from search.core.errors import InvalidQuery
from search.core.fields import snippet_fields
from search.core.filters import Filters
from search.core.fusion_settings import FusionSettings, check_weight_legs
from search.core.manifest import DenseLegSpec, Manifest
from search.core.match_settings import MatchThresholds
from search.core.query_limits import (
    CANDIDATES,
    MAX_IDS,
    MAX_K,
    MAX_TEXT_CHARS,
    MLT_CHARS,
    SIMILAR_FUSION,
    SIMILAR_MODE,
    SIMILAR_WEIGHTS,
    check_page,
    check_text,
)
from search.core.records import FusedHit, Paper
from search.core.request import SearchRequest
from search.core.results import SearchHit, SearchResponse
from search.core.sorting import sort_hits
from search.core.tokenizer import KiwiTokenizer
from search.legs.more_like_this import mlt_terms, term_counts
from search.legs.plan import LEG_POOL, LegPlan, answered_modes, plan_legs
from search.pipeline.fusion import DEFAULT_RRF_K, fuse
from search.pipeline.match_count import count_matches
from search.pipeline.runs import LegRun, LegRuns
from search.pipeline.store import DenseLeg, Store


class Engine:
    """One served index answering every kind of request through one pipeline."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # When hits count as matches; None: the index's own (recorded or shipped).
        # Calibration sets an empty one to see every leg's uncut ranking.
        self.match: MatchThresholds | None = None
        # How it fuses; None: the index's own. `tune` calibrates matches under its choice.
        self.fusion_override: FusionSettings | None = None

    # -- what this index is and can do ------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest

    @property
    def tokenizer(self) -> KiwiTokenizer:
        return self.store.tokenizer

    @property
    def dense_legs(self) -> Mapping[str, DenseLeg]:
        return self.store.dense_legs

    @property
    def leg_specs(self) -> dict[str, DenseLegSpec]:
        return {spec.name: spec for spec in self.manifest.dense_legs}

    @property
    def fusion(self) -> FusionSettings:
        """How this index fuses by default: tuned and recorded, or the shipped default."""
        return self.fusion_override or self.manifest.fusion_settings

    @property
    def match_thresholds(self) -> MatchThresholds:
        """When a hit counts as a match: calibrated and recorded, or the shipped thresholds."""
        return self.match or self.manifest.match_thresholds

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    @property
    def ready_legs(self) -> list[str]:
        return [name for name, leg in self.dense_legs.items() if leg.ready]

    @property
    def dense_ready(self) -> bool:
        return bool(self.ready_legs)

    @property
    def encoders(self) -> list[Encoder]:
        return [leg.encoder for leg in self.dense_legs.values() if leg.encoder is not None]

    @property
    def modes(self) -> list[str]:
        """The modes that answer as asked (others fall back to BM25 with a notice)."""
        return answered_modes(self.ready_legs)

    @property
    def model_notice(self) -> str | None:
        """Why dense search is (partly) off, or None when every leg answers."""
        if not self.dense_legs and self.manifest.pending_legs:
            legs = ", ".join(leg_name(m) for m in self.manifest.pending_legs)
            return f"dense legs {legs} are being embedded; BM25 answers until they are ready (GET /api/health shows progress)"
        if not self.dense_legs:
            return "index has no dense vectors (built without an embedding model)"
        missing = [f"{n}: {leg.notice}" for n, leg in self.dense_legs.items() if not leg.ready]
        return "; ".join(missing) or None

    @property
    def ids(self) -> Sequence[str]:
        return self.store.all_ids()

    def missing_ids(self, ids: Sequence[str]) -> list[str]:
        """Which of ``ids`` this index does not have."""
        known = set(self.ids)
        return [pid for pid in ids if pid not in known]

    def paper(self, paper_id: str) -> Paper:
        return self.store.paper(paper_id)

    def row(self, paper_id: str) -> int | None:
        """The paper's row in the build's row-aligned files (None for a store without them)."""
        return self.store.row(paper_id)

    def query_terms(self, query: str) -> dict[str, float]:
        """BM25 terms and their weights for a query: its own terms weigh 1, expansions
        (spacing variants, transliterations, glossary translations) less."""
        return self.store.expander.expand(query, self.store.own_terms(query))

    def encodes_query(self, mode: str) -> bool:
        """Whether a search in ``mode`` runs a dense leg (an encoder's forward pass and an
        ANN search, which release the GIL, or a call to a server) rather than BM25 alone."""
        if mode == "bm25":  # asked on every request: spare it the planning
            return False
        return any(leg != "bm25" for leg in self._plan(mode, self.ready_legs).legs)

    # -- search ---------------------------------------------------------------------

    def search(self, query: str, **asked: Any) -> SearchResponse:
        """``search(query, k=10, mode="hybrid", offset=0, fusion=None, rrf_k=None,
        weights=None, filters=Filters(), sort="relevance")``: a :class:`SearchRequest`."""
        return self.run(SearchRequest(query, **asked))

    def run(self, request: SearchRequest) -> SearchResponse:
        req = request.checked()
        settings = self.fusion.asked(req.fusion, req.rrf_k, req.weights)
        if req.weights is not None:
            check_weight_legs(req.weights, ["bm25", *self.dense_legs])
        plan = self._plan(req.mode, self.ready_legs)
        fused_legs = len(plan.legs) > 1
        thresholds = self.match_thresholds.for_legs(plan.legs)
        # Matches are counted among each leg's candidates, however small the page
        gated = any(t is not None for t in thresholds.values())
        ranks_after = bool(req.filters) and not self.store.filters_in_legs
        if ranks_after or (req.sort != "relevance" and plan.legs == ("bm25",) and not self.store.filters_in_legs):
            depth = self.store.paper_count  # filtering or sorting after ranking: every match may be needed
        elif fused_legs or req.sort != "relevance" or gated:
            depth = max(CANDIDATES, req.k + req.offset)  # fusion needs each leg's deeper ranks
        else:
            depth = max(req.k + req.offset, self.store.min_depth)  # one leg's own order: the page
        runs = self.run_legs(req.query, plan.legs, depth, req.filters if self.store.filters_in_legs else Filters())
        fill = runs.fill() if settings.method == "zscore" and fused_legs else None
        fused = fuse(runs.rankings, settings.method, rrf_k=settings.rrf_k, weights=settings.weights, stats=runs.stats, fill=fill)
        if ranks_after:
            fused = self.store.keep(fused, req.filters)
        matches, total = count_matches(self.store, plan.legs, runs, fused, thresholds)
        if not matches:  # no good match: the nearest papers, offered as such, in relevance order
            return self._respond(req.query, req.mode, plan, runs, fused, req.k, req.offset, runs.terms, 0, runs.terms, False)
        if req.sort != "relevance":
            matches = sort_hits(matches, req.sort, self.store.sort_key_papers(matches))
        return self._respond(req.query, req.mode, plan, runs, matches, req.k, req.offset, runs.terms, total, runs.terms)

    def run_legs(self, query: str, legs: Sequence[str], depth: int, filters: Filters = Filters()) -> LegRuns:
        """Each leg's best ``depth`` hits for ``query`` (in ``legs``' order), and when several
        legs are fused their corpus-wide distributions and exact scorers; the query's BM25
        terms are analysed while the dense legs encode and search."""
        out = LegRuns()
        fused = len(legs) > 1
        dense = [leg for leg in legs if leg != "bm25"]
        # Encoders' forward passes, FAISS and calls to a server release the GIL: the dense
        # legs run side by side with each other and with BM25 (LEG_POOL), so a hybrid query
        # waits for its slowest leg, not for their sum. A lone leg runs here.
        pending = {leg: LEG_POOL.submit(self._rank_text, leg, query, depth, filters, fused) for leg in dense if fused}
        out.terms = self.query_terms(query)
        runs: dict[str, LegRun] = {}
        if "bm25" in legs:
            runs["bm25"] = self.store.rank_bm25(out.terms, depth, filters, stats=fused)
        for leg in dense:
            runs[leg] = pending[leg].result() if leg in pending else self._rank_text(leg, query, depth, filters, fused)
        out.runs = {leg: runs[leg] for leg in legs}
        return out

    def _rank_text(self, leg: str, text: str, depth: int, filters: Filters, stats: bool) -> LegRun:
        return self.store.rank_dense(leg, self.store.encode(leg, text), depth, filters, None, stats)

    # -- similar papers -----------------------------------------------------------------

    def similar(
        self, paper_id: str | None = None, text: str | None = None, k: int = 10, mode: str = SIMILAR_MODE,
        weights: Mapping[str, float] | None = None,
    ) -> SearchResponse:
        """Papers like a stored paper (its stored vectors; no re-encoding) or like a text
        (a pasted abstract: encoded once per dense leg, cut to each model's window)."""
        check_page(k, 0)
        if (paper_id is None) == (text is None):
            raise InvalidQuery("give either a paper id or a text", code="similar_needs_input")
        paper = self.paper(paper_id) if paper_id is not None else None
        if paper is not None:
            source, exclude, mlt_text, ready = paper.id, paper.id, f"{paper.title}\n{paper.summary}", list(self.dense_legs)
        else:  # a text needs the loaded encoders; a stored paper's vectors need none
            source = check_text(text or "", "text", MAX_TEXT_CHARS)
            exclude, mlt_text, ready = None, source[:MLT_CHARS], self.ready_legs
        plan = self._plan(mode, ready)
        depth = max(CANDIDATES, k) + 1  # one more: the paper itself is left out
        runs = LegRuns()
        stored = self.store.stored_vectors(paper.id, [leg for leg in plan.legs if leg != "bm25"]) if paper else {}
        for leg in plan.legs:
            if leg == "bm25":
                runs.terms = self.similar_terms(paper, mlt_text)
                run = self.store.rank_bm25(runs.terms, depth, Filters(), stats=True)
                run.hits = [h for h in run.hits if h.id != exclude]
            else:
                vector = stored[leg] if paper is not None else self.store.encode(leg, mlt_text)
                run = self.store.rank_dense(leg, vector, depth, Filters(), exclude, stats=True)
            runs.runs[leg] = run
        fill = runs.fill() if SIMILAR_FUSION == "zscore" else None
        fused = fuse(
            runs.rankings, SIMILAR_FUSION, weights=SIMILAR_WEIGHTS if weights is None else weights, stats=runs.stats, fill=fill,
        )
        return self._respond(source, mode, plan, runs, fused, k, 0, {}, None, runs.terms)

    def similar_terms(self, paper: Paper | None, text: str) -> dict[str, float]:
        """BM25's query for papers like ``paper`` (its title and every snippet field: the
        whole record, from the build's stored morphemes where the store keeps them) or
        like ``text``: the tf·idf-chosen terms of ``search.legs.more_like_this``."""
        tokenize = self.tokenizer.tokenize
        if paper is None:
            return mlt_terms(term_counts(tokenize(text)), self.store.document_frequency, self.store.paper_count, min_df=1)
        body = self.store.paper_terms(paper.id)
        if body is None:
            body = [t for _name, text_ in snippet_fields(paper) for t in tokenize(text_)]
        return mlt_terms(term_counts(tokenize(paper.title), body), self.store.document_frequency, self.store.paper_count)

    def similar_many(self, ids: Sequence[str], k: int = 10, mode: str = SIMILAR_MODE) -> SearchResponse:
        """Papers like all of ``ids`` (1 to MAX_IDS papers of the index): each one's own
        similar-papers list fused by reciprocal rank fusion, the chosen papers left out.
        RRF rather than a mean vector: it works alike on a BM25-only index, and favours a
        paper close to all of them over one very close to a single one."""
        chosen = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))  # unique, in order
        if not chosen:
            raise InvalidQuery("give at least one paper id", code="similar_needs_input")
        if len(chosen) > MAX_IDS:
            raise InvalidQuery(f"{len(chosen)} paper ids; the limit is {MAX_IDS}", code="too_many_ids", params={"count": len(chosen), "limit": MAX_IDS})
        check_page(k, 0)
        papers = [self.paper(i) for i in chosen]  # an unknown id fails here, named
        skip = {p.id for p in papers}
        scores: dict[str, float] = {}
        found: dict[str, Paper] = {}
        order: dict[str, int] = {}  # first seen: the tie-break, deterministic
        answered: set[str] = set()
        notice: str | None = None
        code: str | None = None
        for paper in papers:
            resp = self.similar(paper_id=paper.id, k=MAX_K, mode=mode)  # each list as deep as allowed
            answered.add(resp.mode)
            notice, code = notice or resp.notice, code or resp.notice_code
            for hit in resp.results:
                if hit.paper.id not in skip:
                    scores[hit.paper.id] = scores.get(hit.paper.id, 0.0) + 1.0 / (DEFAULT_RRF_K + hit.rank)
                    found.setdefault(hit.paper.id, hit.paper)
                    order.setdefault(hit.paper.id, len(order))
        # Ties (the same ranks in every list) go to the lower row where the store has rows
        # (rows are date-ordered), else to the first seen: deterministic either way.
        rows = {pid: self.store.row(pid) for pid in scores}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], rows[kv[0]] if rows[kv[0]] is not None else order[kv[0]]))
        # A hit's place comes from several papers' lists, so it carries no per-leg breakdown.
        hits = [SearchHit(n + 1, found[pid], score, {}) for n, (pid, score) in enumerate(ranked[:k])]
        effective = answered.pop() if len(answered) == 1 else mode
        return SearchResponse(
            ", ".join(p.id for p in papers), effective, mode, hits, len(ranked), 0, notice=notice, notice_code=code
        )

    # -- helpers --------------------------------------------------------------------

    def _plan(self, mode: str, ready: Sequence[str]) -> LegPlan:
        """The legs for ``mode`` among those that can answer (``ready`` dense legs)."""
        pending = not self.dense_legs and bool(self.manifest.pending_legs)
        return plan_legs(mode, self.dense_legs, ready, self.model_notice, pending=pending)

    def _respond(
        self, query: str, requested: str, plan: LegPlan, runs: LegRuns, fused: list[FusedHit], k: int, offset: int,
        terms: Mapping[str, float], total: int | None, match: Mapping[str, float], matched: bool = True,
    ) -> SearchResponse:
        """``total``: the leg's own match count when known, else the fused candidates;
        ``match``: the BM25 terms hits are matched against (highlighting, breakdown);
        ``matched``: False when no hit is a match (the hits are the nearest papers)."""
        page = fused[offset : offset + k]
        bm25_hits = runs.runs["bm25"].hits if "bm25" in runs.runs else []
        rows = self.store.page(page, bm25_hits, match)  # None: a record the store no longer has
        hits = [
            SearchHit(offset + i + 1, row[0], f.score, dict(f.legs), row[1], matched)
            for i, (f, row) in enumerate(zip(page, rows)) if row is not None
        ]
        expansions = {t: w for t, w in terms.items() if w < 1.0}
        return SearchResponse(
            query, plan.mode, requested, hits, len(fused) if total is None else total, offset,
            plan.notice, plan.code, expansions, plan.legs, dict(terms), no_match=not matched,
        )
