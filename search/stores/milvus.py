"""The served Milvus collection as a :class:`search.pipeline.store.Store`.

Each leg is one Milvus search on the served collection (BM25 as a sparse inner product over
the build's own term weights, each dense leg an ANN search), with the date/upvote filters
as a Milvus expression so each leg ranks only papers that pass them. The legs' rankings
are fused by the pipeline, not by Milvus's ``hybrid_search``: that keeps every fusion and
every hit's per-leg rank and score identical to the local engine's.

Full records come from the collection's ``record`` field, fetched for the page's hits only:
a query server then needs nothing but the Milvus URI (and the models), so any number of
them can serve one cluster, and none holds every paper in memory as the local store does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from search.core.encoders import Encoder
from search.core.errors import ModelUnavailable, PaperNotFound, shown
from search.core.filters import Filters
from search.core.manifest import Manifest
from search.core.query_limits import CANDIDATES
from search.core.records import FusedHit, LegStats, Paper, ScoredId
from search.core.tokenizer import KiwiTokenizer, TokenizerSettings
from search.legs.dense import similarity_stats
from search.legs.expansion import Expander
from search.legs.plan import attach_encoders
from search.pipeline.runs import LegRun
from search.stores.milvus_client import (
    DEFAULT_ALIAS,
    MAX_QUERY_ROWS,
    MilvusUnavailable,
    connect,
    filter_expression,
    milvus_errors,
    read_lexicon,
    served_collection,
)
from search.stores.milvus_parts import CollectionReads, MilvusLeg, PaperIds


class MilvusStore:
    """The served collection of one alias, resolved once: a later build's swap does not
    change what this object answers from (reload to follow it, as with the local store)."""

    filters_in_legs = True  # each leg searches only the papers that pass the filters
    min_depth = CANDIDATES  # a leg is read to the candidate depth: Milvus counts no matches

    def __init__(
        self, uri: str, alias: str = DEFAULT_ALIAS, model: str | Sequence[str] | None = None,
        load_model: bool = True, encoders: Sequence[Encoder] = (),
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
        self.manifest = Manifest.from_dict(lexicon["manifest"], where=f"Milvus collection {collection}")
        self.tokenizer = KiwiTokenizer(TokenizerSettings.default())
        self.tokenizer.check_compatible(self.manifest.tokenizer)
        self.column = {t: i for i, t in enumerate(lexicon["vocab"]) if t}
        self.reads = CollectionReads(self.client, collection, self.column)
        self._df: list[int] = lexicon["df"]
        self.paper_count = self.manifest.papers
        self.expander = Expander(lexicon.get("glossary"), self.document_frequency, self.paper_count)
        specs = {spec.name: spec for spec in self.manifest.dense_legs}
        moments = lexicon.get("moments") or {}
        self.dense_legs: dict[str, MilvusLeg] = {name: MilvusLeg(spec, moments.get(name), self.reads) for name, spec in specs.items()}
        self._ids: list[str] | None = None
        attach_encoders(self.dense_legs, specs, model, load_model, encoders, self.manifest.pending_legs)

    def document_frequency(self, term: str) -> int:
        col = self.column.get(term)
        return 0 if col is None else int(self._df[col])

    def own_terms(self, text: str) -> dict[str, float]:
        return {t: 1.0 for t in self.tokenizer.tokenize(text)}  # as BM25Retriever.query_terms

    def rank_bm25(self, terms: Mapping[str, float], depth: int, filters: Filters, stats: bool) -> LegRun:
        hits = self.reads.bm25(terms, depth, filter_expression(filters.date_from, filters.date_to, filters.min_upvotes))
        return LegRun(hits, self._bm25_stats(hits, depth) if stats else None, None)

    def _bm25_stats(self, hits: list[ScoredId], depth: int) -> LegStats:
        """BM25's distribution over the corpus as the local engine has it, from the listed
        hits and zeros for the rest: exact while the list holds every match (fewer than
        ``depth``), else matches past it count as 0 (Milvus neither counts nor sums them)."""
        values = [h.score for h in hits]
        floor = values[-1] if len(values) >= depth else 0.0
        return LegStats.of(sum(values), sum(v * v for v in values), self.paper_count, floor)

    def bm25_match_count(self, weights: Mapping[str, float], threshold: float) -> int | None:
        return None  # Milvus neither counts nor sums past a search's limit

    def hit_terms(self, bm25_hits: Sequence[ScoredId], terms: Mapping[str, float]) -> dict[str, tuple[str, ...]]:
        # Which query terms each BM25 hit holds (as BM25Hit.terms locally): its stored
        # sparse row has their columns; one read for the whole list.
        if not bm25_hits or not terms:
            return {}
        rows = self.reads.get([h.id for h in bm25_hits], ["bm25"])
        out = {}
        for row in rows:
            present = set(row.get("bm25") or {})
            out[row["id"]] = tuple(t for t, w in terms.items() if w > 0 and self.column.get(t) in present)
        return out

    def rank_dense(
        self, leg: str, vector: np.ndarray, depth: int, filters: Filters, exclude: str | None, stats: bool
    ) -> LegRun:
        dense = self.dense_legs[leg]
        query = [float(x) for x in np.asarray(vector).reshape(-1)]
        hits = self.reads.ann(dense, query, depth, filter_expression(filters.date_from, filters.date_to, filters.min_upvotes))
        if exclude is not None:
            hits = [h for h in hits if h.id != exclude][: depth - 1]
        dist = similarity_stats(dense.moments, query, hits) if stats and dense.moments is not None else None
        return LegRun(hits, dist, self.paper_count)

    def encode(self, leg: str, text: str) -> np.ndarray:
        dense = self.dense_legs[leg]
        if dense.encoder is None:
            raise ModelUnavailable(f"dense leg {leg!r}: {dense.notice}")
        return dense.encoder.encode_query(text)

    def stored_vectors(self, paper_id: str, legs: Sequence[str]) -> dict[str, np.ndarray]:
        fields = [self.dense_legs[leg].field for leg in legs]
        rows = self.reads.get([paper_id], fields) if fields else [{}]
        if not rows:
            raise PaperNotFound(f"no paper with id {paper_id!r} in the index", params={"id": shown(paper_id)})
        return {leg: np.asarray(rows[0][self.dense_legs[leg].field], dtype=np.float32) for leg in legs}

    def paper(self, paper_id: str) -> Paper:
        rows = self.reads.get([paper_id.strip()], ["record"])
        if not rows:
            raise PaperNotFound(f"no paper with id {paper_id!r} in the index", params={"id": shown(paper_id)})
        return Paper.from_dict(rows[0]["record"])

    def paper_terms(self, paper_id: str) -> list[str] | None:
        return None  # the collection keeps BM25 weights, not morphemes: the pipeline runs Kiwi

    def keep(self, fused: list[FusedHit], filters: Filters) -> list[FusedHit]:
        return fused  # the legs searched only papers that pass

    def sort_key_papers(self, fused: list[FusedHit]) -> Callable[[FusedHit], Any]:
        fields = {r["id"]: r for r in self.reads.get([f.id for f in fused], ["date", "upvotes"])}

        def paper_of(f: FusedHit) -> SimpleNamespace:
            row = fields.get(f.id, {})
            return SimpleNamespace(date=row.get("date") or None, upvotes=row.get("upvotes"))

        return paper_of

    def page(
        self, page: list[FusedHit], bm25_hits: list[ScoredId], terms: Mapping[str, float]
    ) -> list[tuple[Paper, tuple[str, ...]] | None]:
        # Which query terms a paper contains (as BM25Hit.terms locally): its stored sparse
        # row has their columns. Only for papers BM25 found, as locally.
        with_bm25 = bool(terms) and any(f.legs.get("bm25") is not None for f in page)
        rows = {r["id"]: r for r in self.reads.get([f.id for f in page], ["record", "bm25"] if with_bm25 else ["record"])}
        out: list[tuple[Paper, tuple[str, ...]] | None] = []
        for f in page:
            row = rows.get(f.id)
            if row is None:
                out.append(None)
                continue
            present = set(row.get("bm25") or {}) if with_bm25 and f.legs.get("bm25") is not None else set()
            matched = tuple(t for t, w in terms.items() if w > 0 and self.column.get(t) in present)
            out.append((Paper.from_dict(row["record"]), matched))
        return out

    def row(self, paper_id: str) -> int | None:
        return None  # no row-aligned files: snippets analyse the hit's text (search/serve/snippets.py)

    def all_ids(self) -> Sequence[str]:
        """Every paper id; its length needs no read (health checks ask it), the ids
        themselves are read from Milvus on first use."""
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
