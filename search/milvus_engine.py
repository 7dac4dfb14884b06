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

from collections.abc import Mapping
from typing import Any

from search.dense_legs import dense_legs
from search.encoder import Encoder, Prompts, canonical_model_name
from search.milvus_parts import MilvusLeg, PaperIds
from search.engine import CANDIDATES, FUSIONS, Filters, _check_page, _check_text, MAX_TEXT_CHARS, MAX_QUERY_CHARS
from search.errors import InvalidQuery, ModelMismatch, ModelUnavailable, PaperNotFound
from search.expansion import Expander
from search.fusion import DEFAULT_RRF_K, fuse
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
from search.records import FusedHit, Paper, ScoredId
from search.results import MODES, SearchHit, SearchResponse
from search.tokenizer import KiwiTokenizer, TokenizerSettings

# Exact sparse search: no small weights dropped from the query (the build drops none either).
SPARSE_PARAMS = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}


class MilvusEngine:
    """The served collection of one alias, resolved once: a later build's swap does not
    change what this object answers from (reload to follow it, as with the local engine)."""

    engine = "milvus"

    def __init__(
        self, uri: str, alias: str = DEFAULT_ALIAS, model: str | None = None,
        load_model: bool = True, encoder: Encoder | None = None,
    ) -> None:
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
        self.manifest: dict[str, Any] = lexicon["manifest"]
        self.tokenizer = KiwiTokenizer(TokenizerSettings.default())
        self.tokenizer.check_compatible(self.manifest["tokenizer"])
        self.column = {t: i for i, t in enumerate(lexicon["vocab"]) if t}
        self._df: list[int] = lexicon["df"]
        self.paper_count = int(self.manifest["papers"])
        self.expander = Expander(lexicon.get("glossary"), self.document_frequency, self.paper_count)
        self.dense_legs = {leg.name: MilvusLeg(leg) for leg in dense_legs(self.manifest)}
        self.model_notice: str | None = None
        self._ids: list[str] | None = None
        if not self.dense_legs:
            self.model_notice = "index has no dense vectors (built without an embedding model)"
        for leg in self.dense_legs.values():
            if model and len(self.dense_legs) == 1 and canonical_model_name(model) != leg.meta["model"]:
                raise ModelMismatch(
                    f"index was built with model {leg.meta['model']!r}, not {model!r}: "
                    "query with the same model or rebuild with --model"
                )
            if load_model:
                self._load_model(leg, encoder)
            else:
                self.model_notice = "embedding model not loaded"

    def _load_model(self, leg: MilvusLeg, reuse: Encoder | None) -> None:
        meta = leg.meta
        if reuse is not None and reuse.name == meta["model"]:
            encoder = reuse
        else:
            try:
                encoder = Encoder(meta["model"])
            except ModelUnavailable as e:
                self.model_notice = str(e)
                return
        if encoder.dim != meta["dim"]:
            raise ModelMismatch(f"model {meta['model']!r} gives {encoder.dim}-d vectors, index has {meta['dim']}-d")
        encoder.prompts = Prompts(**meta["prompts"])
        leg.encoder = encoder

    # -- what the API and the CLI read --------------------------------------------------

    @property
    def dense(self) -> MilvusLeg | None:
        """The first dense leg (today's single one), for callers that know only one."""
        return next(iter(self.dense_legs.values()), None)

    @property
    def dense_ready(self) -> bool:
        return any(leg.encoder is not None for leg in self.dense_legs.values())

    @property
    def build_id(self) -> str:
        return str(self.manifest.get("build_id", self.collection))

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
        return {"engine": self.engine, "milvus_uri": self.uri, "alias": self.alias, "collection": self.collection, **self.manifest}

    def document_frequency(self, term: str) -> int:
        col = self.column.get(term)
        return 0 if col is None else int(self._df[col])

    def query_terms(self, query: str) -> dict[str, float]:
        """The same weighted terms as the local engine: own terms 1, expansions less."""
        return self.expander.expand(query, {t: 1.0 for t in self.tokenizer.tokenize(query)})

    def paper(self, paper_id: str) -> Paper:
        rows = self._get([paper_id.strip()], ["record"])
        if not rows:
            raise PaperNotFound(f"no paper with id {paper_id!r} in the index")
        return Paper.from_dict(rows[0]["record"])

    # -- search ---------------------------------------------------------------------

    def search(
        self, query: str, k: int = 10, mode: str = "hybrid", offset: int = 0, fusion: str = "rrf",
        rrf_k: int = DEFAULT_RRF_K, weights: Mapping[str, float] | None = None, filters: Filters = Filters(),
    ) -> SearchResponse:
        query = _check_text(query, "query", MAX_QUERY_CHARS)
        _check_page(k, offset)
        effective, notice, legs = self._plan(mode, [n for n, leg in self.dense_legs.items() if leg.encoder])
        terms = self.query_terms(query)
        # Every leg ranks the candidate depth, not only the page: paging deeper and the
        # total (capped at this depth: Milvus does not count a search's matches) need it.
        depth = max(CANDIDATES, k + offset)
        expr = filter_expression(filters.date_from, filters.date_to, filters.min_upvotes)
        rankings: dict[str, list[ScoredId]] = {}
        if "bm25" in legs:
            rankings["bm25"] = self._bm25(terms, depth, expr)
        for name in legs:
            if name != "bm25":
                leg = self.dense_legs[name]
                assert leg.encoder is not None
                rankings[name] = self._ann(leg, leg.encoder.encode_queries([query])[0].tolist(), depth, expr)
        # Dense legs give every paper a similarity; a fused or BM25 pool is counted as found.
        total = self.paper_count if "bm25" not in legs and len(legs) == 1 and not filters else None
        return self._respond(query, mode, effective, notice, rankings, k, offset, fusion, rrf_k, weights, terms, total)

    def similar(self, paper_id: str | None = None, text: str | None = None, k: int = 10, mode: str = "dense") -> SearchResponse:
        """Papers like a stored paper (its stored vectors; no re-encoding) or like a text."""
        _check_page(k, 0)
        if (paper_id is None) == (text is None):
            raise InvalidQuery("give either a paper id or a text")
        stored: dict[str, Any] = {}
        exclude = None
        if paper_id is not None:
            fields = ["record"] + [leg.field for leg in self.dense_legs.values()]
            rows = self._get([paper_id.strip()], fields)
            if not rows:
                raise PaperNotFound(f"no paper with id {paper_id!r} in the index")
            stored = rows[0]
            paper = Paper.from_dict(stored["record"])
            source, exclude, mlt_text = paper.id, paper.id, f"{paper.title}\n{paper.summary}"
            usable = list(self.dense_legs)
        else:
            source = mlt_text = _check_text(text or "", "text", MAX_TEXT_CHARS)
            usable = [n for n, leg in self.dense_legs.items() if leg.encoder]
        effective, notice, legs = self._plan(mode, usable)
        depth = max(CANDIDATES, k) + 1  # one more: the paper itself is left out
        rankings: dict[str, list[ScoredId]] = {}
        if "bm25" in legs:
            own = {t: 1.0 for t in self.tokenizer.tokenize(mlt_text)}
            rankings["bm25"] = [h for h in self._bm25(own, depth, "") if h.id != exclude]
        for name in legs:
            if name != "bm25":
                leg = self.dense_legs[name]
                if paper_id is not None:
                    vector = [float(x) for x in stored[leg.field]]
                else:
                    assert leg.encoder is not None
                    vector = leg.encoder.encode_queries([mlt_text])[0].tolist()
                rankings[name] = [h for h in self._ann(leg, vector, depth, "") if h.id != exclude][: depth - 1]
        return self._respond(source, mode, effective, notice, rankings, k, 0, "rrf", DEFAULT_RRF_K, None, {}, None)

    # -- helpers --------------------------------------------------------------------

    def _plan(self, mode: str, ready: list[str]) -> tuple[str, str | None, list[str]]:
        """The answering mode, why it differs from ``mode`` (or None), and its legs."""
        if mode not in MODES and mode not in self.dense_legs:
            raise InvalidQuery(f"unknown mode {mode!r}: use one of {', '.join([*MODES, *self.dense_legs])}")
        if mode == "bm25":
            return mode, None, ["bm25"]
        wanted = ready if mode in ("dense", "hybrid") else [mode] if mode in ready else []
        if wanted:
            return mode, None, (["bm25"] if mode == "hybrid" else []) + wanted
        return "bm25", f"BM25 only: {self.model_notice or 'no embedding model'}", ["bm25"]

    def _bm25(self, terms: Mapping[str, float], depth: int, expr: str) -> list[ScoredId]:
        # A query term's weight times each paper's stored BM25 weight, summed: the same
        # arithmetic as search/bm25.py over the same matrix, so the same scores.
        sparse = {self.column[t]: float(w) for t, w in terms.items() if w > 0 and t in self.column}
        if not sparse:
            return []
        with milvus_errors("BM25 search"):
            res = self.client.search(
                self.collection, data=[sparse], anns_field="bm25", limit=min(depth, MAX_QUERY_ROWS),
                filter=expr, output_fields=[], search_params=SPARSE_PARAMS,
            )
        return [ScoredId(str(h["id"]), float(h["distance"])) for h in res[0] if float(h["distance"]) > 0]

    def _ann(self, leg: MilvusLeg, vector: list[float], depth: int, expr: str) -> list[ScoredId]:
        with milvus_errors(f"{leg.name} search"):
            res = self.client.search(
                self.collection, data=[vector], anns_field=leg.field, limit=min(depth, MAX_QUERY_ROWS),
                filter=expr, output_fields=[], search_params=leg.params,
            )
        return [ScoredId(str(h["id"]), float(h["distance"])) for h in res[0]]

    def _get(self, ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        with milvus_errors("reading papers"):
            return list(self.client.get(self.collection, ids=ids, output_fields=fields))

    def _respond(
        self, query: str, requested: str, effective: str, notice: str | None,
        rankings: dict[str, list[ScoredId]], k: int, offset: int, fusion: str, rrf_k: int,
        weights: Mapping[str, float] | None, terms: Mapping[str, float], total: int | None,
    ) -> SearchResponse:
        if fusion not in FUSIONS:
            raise InvalidQuery(f"unknown fusion {fusion!r}: use one of {', '.join(FUSIONS)}")
        fused = fuse(rankings, fusion, rrf_k=rrf_k, weights=weights)
        page = fused[offset : offset + k]
        with_bm25 = "bm25" in rankings and bool(terms)
        rows = {r["id"]: r for r in self._get([f.id for f in page], ["record", "bm25"] if with_bm25 else ["record"])}
        hits = [self._hit(offset + i + 1, f, rows[f.id], terms if with_bm25 else {}) for i, f in enumerate(page) if f.id in rows]
        expansions = {t: w for t, w in terms.items() if w < 1.0}
        return SearchResponse(query, effective, requested, hits, len(fused) if total is None else total, offset, notice, expansions)

    def _hit(self, rank: int, f: FusedHit, row: dict[str, Any], terms: Mapping[str, float]) -> SearchHit:
        # Which query terms this paper contains: its stored sparse row has their columns.
        bm25_hit = f.legs.get("bm25")
        present = set(row.get("bm25") or {}) if bm25_hit is not None else set()
        matched = tuple(t for t, w in terms.items() if w > 0 and self.column.get(t) in present)
        dense = next((f.legs[n] for n in self.dense_legs if f.legs.get(n) is not None), None)
        return SearchHit(rank, Paper.from_dict(row["record"]), f.score, bm25_hit, dense, matched)

