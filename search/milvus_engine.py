"""The query side on Milvus: :class:`MilvusEngine` answers like ``search.engine.SearchEngine``.

Each leg is one Milvus search on the served collection (BM25 as a sparse inner product over
the build's own term weights, each dense leg an ANN search), with the date/upvote filters
as a Milvus expression so the engine ranks only papers that pass them. The legs' rankings
are fused here with ``search.fusion``, not by Milvus's ``hybrid_search``: that keeps RRF,
the weighted fusion and every hit's per-leg rank and score identical to the local engine's.

Full records come from the collection's ``record`` field, fetched for the page's hits only:
a query server then needs nothing but the Milvus URI (and the models), so any number of
them can serve one cluster, and none holds every paper in memory as the local engine does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from search.encoders import Encoder
from search.engine import SearchEngine, similar_source, similar_terms
from search.errors import InvalidQuery, PaperNotFound
from search.expansion import Expander
from search.filters import Filters
from search.dense import similarity_stats
from search.fusion import LegStats, fuse
from search.fusion_settings import check_weight_legs
from search.manifest import DenseLegSpec, Manifest
from search.legs import LEG_POOL, LegPlan, attach_encoders, plan_legs
from search.milvus_parts import CollectionReads, MilvusLeg, PaperIds
from search.milvus_store import (
    DEFAULT_ALIAS,
    MAX_QUERY_ROWS,
    MilvusUnavailable,
    connect,
    filter_expression,
    milvus_errors,
    read_lexicon,
    served_collection,
)
from search.query_limits import (
    CANDIDATES,
    MAX_QUERY_CHARS,
    SIMILAR_FUSION,
    SIMILAR_MODE,
    SIMILAR_WEIGHTS,
    check_page,
    check_text,
)
from search.records import FusedHit, Paper, ScoredId
from search.results import SearchHit, SearchResponse
from search.sorting import check_sort, sort_hits
from search.tokenizer import KiwiTokenizer, TokenizerSettings

class MilvusEngine:
    """The served collection of one alias, resolved once: a later build's swap does not
    change what this object answers from (reload to follow it, as with the local engine)."""

    engine = "milvus"
    # What the index can do, read from ``dense_legs`` alone: the local engine's own code.
    ready_legs = SearchEngine.ready_legs
    dense_ready = SearchEngine.dense_ready
    encoders = SearchEngine.encoders
    modes = SearchEngine.modes
    model_notice = SearchEngine.model_notice
    # No papers.jsonl rows here: snippets analyse the hit's text (search/snippets.py).
    row_of: Mapping[str, int] = {}

    def __init__(
        self, uri: str, alias: str = DEFAULT_ALIAS, model: str | Sequence[str] | None = None,
        load_model: bool = True, encoders: Sequence[Encoder] = (),
    ) -> None:
        """``model``, ``load_model``, ``encoders``: as ``SearchEngine``'s."""
        self.uri, self.alias = uri, alias
        self.client = connect(uri)
        with milvus_errors(f"opening {uri}"):
            collection = served_collection(self.client, alias)
            if collection is None:
                raise MilvusUnavailable(
                    f"no index in Milvus at {uri} (alias {alias!r}): run "
                    f"`papersearch index build --engine milvus --milvus-uri {uri}`"
                )
            self.collection = collection
            lexicon = read_lexicon(self.client, collection)
            self.client.load_collection(collection)
        self.manifest = Manifest.from_dict(lexicon["manifest"], where=f"Milvus collection {collection}")
        self.tokenizer = KiwiTokenizer(TokenizerSettings.default())
        self.tokenizer.check_compatible(self.manifest.tokenizer)
        self.column = {t: i for i, t in enumerate(lexicon["vocab"]) if t}
        self.reads = CollectionReads(self.client, collection, self.column)
        self._df: list[int] = lexicon["df"]
        self.paper_count = self.manifest.papers
        self.expander = Expander(lexicon.get("glossary"), self.document_frequency, self.paper_count)
        self.leg_specs: dict[str, DenseLegSpec] = {spec.name: spec for spec in self.manifest.dense_legs}
        moments = lexicon.get("moments") or {}
        self.dense_legs: dict[str, MilvusLeg] = {name: MilvusLeg(spec, moments.get(name)) for name, spec in self.leg_specs.items()}
        self.fusion = self.manifest.fusion_settings
        self._ids: list[str] | None = None
        attach_encoders(self.dense_legs, self.leg_specs, model, load_model, encoders)

    # -- what the API and the CLI read --------------------------------------------------

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    @property
    def ids(self) -> PaperIds:
        """Every paper id, like ``SearchEngine.ids``; its length needs no read (health
        checks ask it), the ids themselves are read from Milvus on first use."""
        return PaperIds(self)

    def _all_ids(self) -> list[str]:
        if self._ids is None:
            with milvus_errors("listing papers"):
                it = self.client.query_iterator(self.collection, batch_size=MAX_QUERY_ROWS // 2, filter='id != ""', output_fields=["id"])
                ids: list[str] = []
                while batch := it.next():
                    ids += [row["id"] for row in batch]
                it.close()
            self._ids = ids
        return self._ids

    def info(self) -> dict[str, Any]:
        return {"engine": self.engine, "milvus_uri": self.uri, "alias": self.alias, "collection": self.collection, **self.manifest.to_dict()}

    def document_frequency(self, term: str) -> int:
        col = self.column.get(term)
        return 0 if col is None else int(self._df[col])

    def encodes_query(self, mode: str) -> bool:
        """Always: every leg is a call to the Milvus server, waited for off the event loop."""
        return True

    def query_terms(self, query: str) -> dict[str, float]:
        """The same weighted terms as the local engine: own terms 1, expansions less."""
        return self.expander.expand(query, self._own_terms(query))

    def _own_terms(self, text: str) -> dict[str, float]:
        return {t: 1.0 for t in self.tokenizer.tokenize(text)}  # as BM25Retriever.query_terms

    def paper(self, paper_id: str) -> Paper:
        rows = self.reads.get([paper_id.strip()], ["record"])
        if not rows:
            raise PaperNotFound(f"no paper with id {paper_id!r} in the index")
        return Paper.from_dict(rows[0]["record"])

    # -- search ---------------------------------------------------------------------

    def search(
        self, query: str, k: int = 10, mode: str = "hybrid", offset: int = 0, fusion: str | None = None,
        rrf_k: int | None = None, weights: Mapping[str, float] | None = None, filters: Filters = Filters(),
        sort: str = "relevance",
    ) -> SearchResponse:
        """As ``SearchEngine.search``; ``sort`` reorders the candidate pool (every leg's top
        ``CANDIDATES``), also in BM25 mode, where the local engine sorts every match."""
        query = check_text(query, "query", MAX_QUERY_CHARS)
        check_page(k, offset)
        settings = self.fusion.asked(fusion, rrf_k, weights)
        if weights is not None:
            check_weight_legs(weights, ["bm25", *self.dense_legs])
        check_sort(sort)
        plan = self._plan(mode, self.ready_legs)
        terms = self.query_terms(query)
        # Every leg ranks the candidate depth, not only the page: paging deeper and the
        # total (capped at this depth: Milvus does not count a search's matches) need it.
        depth = max(CANDIDATES, k + offset)
        expr = filter_expression(filters.date_from, filters.date_to, filters.min_upvotes)
        dense = [leg for leg in plan.legs if leg != "bm25"]
        # Encode and search the dense legs side by side, as the local engine does.
        pending = {name: LEG_POOL.submit(self._rank, self.dense_legs[name], query, depth, expr) for name in dense}
        rankings: dict[str, list[ScoredId]] = {}
        stats: dict[str, LegStats] = {}
        if "bm25" in plan.legs:
            rankings["bm25"] = self.reads.bm25(terms, depth, expr)
            stats["bm25"] = self._bm25_stats(rankings["bm25"], depth)
        for name in dense:
            rankings[name], leg_stats = pending[name].result()
            if leg_stats is not None:
                stats[name] = leg_stats
        rankings = {leg: rankings[leg] for leg in plan.legs}  # fused in the plan's order
        # A single dense leg gives every paper a similarity; otherwise the pool is counted.
        total = self.paper_count if plan.legs == tuple(dense) and len(dense) == 1 and not filters else None
        fused = fuse(rankings, settings.method, rrf_k=settings.rrf_k, weights=settings.weights, stats=stats)
        if sort != "relevance":
            fields = {r["id"]: r for r in self.reads.get([f.id for f in fused], ["date", "upvotes"])}

            def paper_of(f: FusedHit) -> SimpleNamespace:
                row = fields.get(f.id, {})
                return SimpleNamespace(date=row.get("date") or None, upvotes=row.get("upvotes"))

            fused = sort_hits(fused, sort, paper_of)
            total = None
        return self._respond(query, mode, plan, rankings, fused, k, offset, terms, total)

    def similar(
        self, paper_id: str | None = None, text: str | None = None, k: int = 10, mode: str = SIMILAR_MODE,
        weights: Mapping[str, float] | None = None,
    ) -> SearchResponse:
        """Papers like a stored paper (its stored vectors; no re-encoding) or like a text."""
        check_page(k, 0)
        if (paper_id is None) == (text is None):
            raise InvalidQuery("give either a paper id or a text")
        stored: dict[str, Any] = {}
        paper = None
        if paper_id is not None:
            fields = ["record"] + [leg.field for leg in self.dense_legs.values()]
            rows = self.reads.get([paper_id.strip()], fields)
            if not rows:
                raise PaperNotFound(f"no paper with id {paper_id!r} in the index")
            stored = rows[0]
            paper = Paper.from_dict(stored["record"])
        source, exclude, mlt_text, ready = similar_source(paper, text, list(self.dense_legs), self.ready_legs)
        plan = self._plan(mode, ready)
        depth = max(CANDIDATES, k) + 1  # one more: the paper itself is left out
        rankings: dict[str, list[ScoredId]] = {}
        stats: dict[str, LegStats] = {}
        # The record's own terms, as the local engine chooses them (Kiwi here: the
        # collection keeps no morphemes, only BM25 weights).
        own = (
            similar_terms(paper, mlt_text, self.tokenizer, self.document_frequency, self.paper_count)
            if "bm25" in plan.legs else {}
        )
        for name in plan.legs:
            if name == "bm25":
                hits = self.reads.bm25(own, depth, "")
                stats["bm25"] = self._bm25_stats(hits, depth)
                rankings["bm25"] = [h for h in hits if h.id != exclude]
                continue
            leg = self.dense_legs[name]
            vector = [float(x) for x in stored[leg.field]] if paper_id is not None else self._encode(leg, mlt_text)
            hits = [h for h in self.reads.ann(leg, vector, depth, "") if h.id != exclude][: depth - 1]
            rankings[name] = hits
            if leg.moments is not None:
                stats[name] = similarity_stats(leg.moments, vector, hits)
        fused = fuse(rankings, SIMILAR_FUSION, weights=SIMILAR_WEIGHTS if weights is None else weights, stats=stats)
        return self._respond(source, mode, plan, rankings, fused, k, 0, {}, None, match=own)

    # -- helpers --------------------------------------------------------------------

    def _plan(self, mode: str, ready: Sequence[str]) -> LegPlan:
        return plan_legs(mode, self.dense_legs, ready, self.model_notice)

    def _rank(self, leg: MilvusLeg, query: str, depth: int, expr: str) -> tuple[list[ScoredId], LegStats | None]:
        vector = self._encode(leg, query)
        hits = self.reads.ann(leg, vector, depth, expr)
        return hits, None if leg.moments is None else similarity_stats(leg.moments, vector, hits)

    def _bm25_stats(self, hits: list[ScoredId], depth: int) -> LegStats:
        """BM25's distribution over the corpus as the local engine has it, from the listed
        hits and zeros for the rest: exact while the list holds every match (fewer than
        ``depth``), else matches past it count as 0 (Milvus neither counts nor sums them)."""
        values = [h.score for h in hits]
        floor = values[-1] if len(values) >= depth else 0.0
        return LegStats.of(sum(values), sum(v * v for v in values), self.paper_count, floor)

    def _encode(self, leg: MilvusLeg, text: str) -> list[float]:
        assert leg.encoder is not None  # the plan holds ready legs only
        return [float(x) for x in leg.encoder.encode_query(text)]

    def _respond(
        self, query: str, requested: str, plan: LegPlan, rankings: dict[str, list[ScoredId]], fused: list[FusedHit],
        k: int, offset: int, terms: Mapping[str, float], total: int | None, match: Mapping[str, float] | None = None,
    ) -> SearchResponse:
        """``match``: the BM25 terms hits are matched against (default ``terms``)."""
        match = terms if match is None else match
        page = fused[offset : offset + k]
        with_bm25 = "bm25" in rankings and bool(match)
        rows = {r["id"]: r for r in self.reads.get([f.id for f in page], ["record", "bm25"] if with_bm25 else ["record"])}
        hits = [self._hit(offset + i + 1, f, rows[f.id], match if with_bm25 else {}) for i, f in enumerate(page) if f.id in rows]
        expansions = {t: w for t, w in terms.items() if w < 1.0}
        return SearchResponse(
            query, plan.mode, requested, hits, len(fused) if total is None else total, offset,
            plan.notice, plan.code, expansions, plan.legs, dict(terms),
        )

    def _hit(self, rank: int, f: FusedHit, row: dict[str, Any], terms: Mapping[str, float]) -> SearchHit:
        # Which query terms this paper contains (as BM25Hit.terms): its stored sparse row
        # has their columns. Only for papers BM25 found, as locally.
        present = set(row.get("bm25") or {}) if f.legs.get("bm25") is not None else set()
        matched = tuple(t for t, w in terms.items() if w > 0 and self.column.get(t) in present)
        return SearchHit(rank, Paper.from_dict(row["record"]), f.score, dict(f.legs), matched)
