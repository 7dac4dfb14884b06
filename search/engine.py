"""The query-side facade: one loaded index answering search and similar-paper requests.

Retrieval legs: ``bm25`` plus one dense leg per encoder the index was built with (``e5``,
``use``, ...). A mode picks the legs (``search/legs.py``); their rankings are fused (RRF
by default).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from search.bm25 import BM25Retriever
from search.dense import DenseRetriever
from search.encoders import Encoder
from search.errors import InvalidQuery, PaperNotFound
from search.expansion import Expander
from search.filters import Filters
from search.fusion import LegStats, fuse
from search.fusion_settings import check_weight_legs
from search.manifest import DenseLegSpec
from search.layout import BuildFiles, IndexLayout, read_json
from search.more_like_this import mlt_terms, term_counts
from search.snippet_spans import StoredSpans
from search.snippets import snippet_fields
from search.legs import LEG_POOL, LegPlan, answered_modes, attach_encoders, plan_legs
from search.query_limits import (
    CANDIDATES,
    MAX_QUERY_CHARS,
    MAX_TEXT_CHARS,
    MLT_CHARS,
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


@dataclass
class LegRuns:
    """What the legs of one request found: each leg's ranked hits, its corpus-wide score
    distribution, and a scorer giving any papers' exact scores by row (local files can:
    the BM25 score array is filled anyway, a dense leg's vectors are mapped)."""

    rankings: dict[str, list[ScoredId]] = field(default_factory=dict)
    stats: dict[str, LegStats] = field(default_factory=dict)
    scorers: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)
    total: int | None = None
    terms: dict[str, float] = field(default_factory=dict)

    def fill(self, row_of: Mapping[str, int]) -> dict[str, dict[str, float]]:
        """For each leg, the exact scores of the papers another leg found and it did not
        list: z-score fusion then scores every candidate exactly, so a paper's fused score
        does not depend on how deep the legs were read (nor do pages of one query)."""
        union = list(dict.fromkeys(h.id for hits in self.rankings.values() for h in hits))
        out: dict[str, dict[str, float]] = {}
        for leg, hits in self.rankings.items():
            scorer = self.scorers.get(leg)
            listed = {h.id for h in hits}
            missing = [pid for pid in union if pid not in listed]
            if scorer is not None and missing:
                scores = scorer(np.fromiter((row_of[pid] for pid in missing), dtype=np.int64, count=len(missing)))
                out[leg] = dict(zip(missing, np.asarray(scores, dtype=np.float64).tolist()))
        return out


class SearchEngine:
    """Loads a build once (papers, BM25, FAISS indexes, encoders) and answers from memory."""

    def __init__(
        self,
        build_dir: Path,
        model: str | Sequence[str] | None = None,
        load_model: bool = True,
        encoders: Sequence[Encoder] = (),
    ):
        """``model``: encoder names the caller expects (each must be one of the index's
        dense legs; a moved local model folder can be given here). ``encoders``: models
        already loaded, reused when they are what a leg needs (a server reloading a new
        build of the same index loads them only once)."""
        self.files = BuildFiles(build_dir)
        self.manifest = self.files.read_manifest()
        self.tokenizer = KiwiTokenizer(TokenizerSettings.default())
        self.tokenizer.check_compatible(self.manifest.tokenizer)
        self.papers = [Paper.from_dict(d) for d in self.files.iter_papers()]
        self.ids = [p.id for p in self.papers]
        self.row_of = {pid: i for i, pid in enumerate(self.ids)}
        self.bm25 = BM25Retriever(self.files.bm25, self.ids, self.tokenizer)
        # Each paper's body morphemes, memory-mapped: "more like this" reads them, not Kiwi.
        self.spans = StoredSpans.open(self.files)
        # The mined Korean↔English term bridge; builds made without one expand nothing.
        glossary = read_json(self.files.glossary) if self.files.glossary.exists() else None
        self.expander = Expander(glossary, self.bm25.document_frequency, len(self.ids))
        self.leg_specs: dict[str, DenseLegSpec] = {spec.name: spec for spec in self.manifest.dense_legs}
        self.dense_legs: dict[str, DenseRetriever] = {
            name: DenseRetriever(name, self.files, self.ids, spec) for name, spec in self.leg_specs.items()
        }
        # How this index fuses by default: tuned and recorded, or the shipped default.
        self.fusion = self.manifest.fusion_settings
        attach_encoders(self.dense_legs, self.leg_specs, model, load_model, encoders)

    @classmethod
    def open(cls, index_root: Path | str, model: str | Sequence[str] | None = None, load_model: bool = True) -> "SearchEngine":
        return cls(IndexLayout(index_root).current_build(), model=model, load_model=load_model)

    # -- what this index can do -----------------------------------------------------

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
        if not self.dense_legs:
            return "index has no dense vectors (built without an embedding model)"
        missing = [f"{n}: {leg.notice}" for n, leg in self.dense_legs.items() if not leg.ready]
        return "; ".join(missing) or None

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    def paper(self, paper_id: str) -> Paper:
        row = self.row_of.get(paper_id.strip())
        if row is None:
            raise PaperNotFound(f"no paper with id {paper_id!r} in the index")
        return self.papers[row]

    # -- search ---------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        offset: int = 0,
        fusion: str | None = None,
        rrf_k: int | None = None,
        weights: Mapping[str, float] | None = None,
        filters: Filters = Filters(),
        sort: str = "relevance",
    ) -> SearchResponse:
        """``sort``: relevance, newest or upvotes (see ``search/sorting.py``). ``fusion``,
        ``rrf_k``, ``weights``: None takes the index's (``self.fusion``)."""
        query = check_text(query, "query", MAX_QUERY_CHARS)
        check_page(k, offset)
        settings = self.fusion.asked(fusion, rrf_k, weights)
        if weights is not None:
            check_weight_legs(weights, ["bm25", *self.dense_legs])
        check_sort(sort)
        plan = self._plan(mode, ready=self.ready_legs)
        if filters or (sort != "relevance" and plan.legs == ("bm25",)):
            depth = len(self.ids)  # filtering or sorting after ranking: every match may be needed
        elif len(plan.legs) > 1 or sort != "relevance":
            depth = max(CANDIDATES, k + offset)  # fusion needs each leg's deeper ranks
        else:
            depth = k + offset  # one leg's own order is the answer: rank only the page
        runs = self.run_legs(query, plan.legs, depth)
        total = runs.total
        if len(plan.legs) > 1 or filters or (sort != "relevance" and "bm25" not in plan.legs):
            total = None  # the fused pool, counted after filtering; a sorted dense answer is its pool
        fill = runs.fill(self.row_of) if settings.method == "zscore" and len(plan.legs) > 1 else None
        fused = fuse(runs.rankings, settings.method, rrf_k=settings.rrf_k, weights=settings.weights, stats=runs.stats, fill=fill)
        return self._respond(query, mode, plan, runs.rankings, fused, k, offset, filters, runs.terms, total, sort)

    def run_legs(self, query: str, legs: Sequence[str], depth: int) -> LegRuns:
        """Each leg's best ``depth`` hits (in ``legs``' order, the order they are fused in),
        and, when several legs are fused, their corpus-wide score distributions and how to
        score any paper exactly; the number of papers matched (BM25's count; every paper
        for a dense leg); the query's BM25 terms (analysed while the dense legs encode)."""
        runs = LegRuns()
        dense_names = [leg for leg in legs if leg != "bm25"]
        fused = len(legs) > 1
        # The encoders' forward passes and FAISS release the GIL: the dense legs run side by
        # side with each other and with BM25 (see LEG_POOL), so a hybrid query waits for
        # the slowest leg, not for their sum. A lone leg runs here.
        pending = {leg: LEG_POOL.submit(self.dense_legs[leg].rank, query, depth) for leg in dense_names if fused}
        runs.terms = self.query_terms(query)
        if "bm25" in legs:
            runs.rankings["bm25"], runs.total, bm25_stats, scores = self.bm25.rank_terms(runs.terms, depth, stats=fused)
            if bm25_stats is not None and scores is not None:
                runs.stats["bm25"] = bm25_stats
                runs.scorers["bm25"] = scores.__getitem__
        for leg in dense_names:
            hits, runs.stats[leg], vector = pending[leg].result() if leg in pending else self.dense_legs[leg].rank(query, depth)
            runs.rankings[leg] = hits
            runs.scorers[leg] = functools.partial(self.dense_legs[leg].scores_of, vector)
            runs.total = len(self.ids)  # every paper has a similarity
        runs.rankings = {leg: runs.rankings[leg] for leg in legs}
        return runs

    def encodes_query(self, mode: str) -> bool:
        """Whether a search in ``mode`` runs a dense leg (an encoder's forward pass and an
        ANN search, which release the GIL) rather than BM25 alone."""
        if mode == "bm25":  # asked on every request: spare it the planning
            return False
        return any(leg != "bm25" for leg in self._plan(mode, ready=self.ready_legs).legs)

    def query_terms(self, query: str) -> dict[str, float]:
        """BM25 terms and their weights for a query: its own terms weigh 1, expansions
        (spacing variants, transliterations, glossary translations) less."""
        return self.expander.expand(query, self.bm25.query_terms(query))

    def similar(
        self,
        paper_id: str | None = None,
        text: str | None = None,
        k: int = 10,
        mode: str = SIMILAR_MODE,
        weights: Mapping[str, float] | None = None,
    ) -> SearchResponse:
        """Papers like a stored paper (its stored vectors; no re-encoding) or like a text
        (a pasted abstract: encoded once per dense leg, cut to each model's window)."""
        check_page(k, 0)
        if (paper_id is None) == (text is None):
            raise InvalidQuery("give either a paper id or a text")
        paper = self.paper(paper_id) if paper_id is not None else None
        source, exclude, mlt_text, ready = similar_source(paper, text, list(self.dense_legs), self.ready_legs)
        plan = self._plan(mode, ready=ready)
        depth = max(CANDIDATES, k) + 1
        runs = LegRuns()
        row = self.row_of[exclude] if exclude is not None else None
        for leg in plan.legs:
            if leg == "bm25":
                stored = self.spans.paper_terms(row) if row is not None and self.spans is not None else None
                terms = similar_terms(paper, mlt_text, self.tokenizer, self.bm25.document_frequency, len(self.ids), stored)
                hits, _total, runs.stats["bm25"], scores = self.bm25.rank_terms(terms, depth)
                runs.rankings["bm25"] = [h for h in hits if h.id != exclude]
                runs.scorers["bm25"] = scores.__getitem__
                continue
            retriever = self.dense_legs[leg]
            if row is not None:
                vector = retriever.vector(row)
                runs.rankings[leg], runs.stats[leg] = retriever.rank_vector(vector, depth, exclude_row=row)
            else:
                runs.rankings[leg], runs.stats[leg], vector = retriever.rank(mlt_text, depth)
            runs.scorers[leg] = functools.partial(retriever.scores_of, vector)
        fill = runs.fill(self.row_of) if SIMILAR_FUSION == "zscore" else None
        fused = fuse(runs.rankings, SIMILAR_FUSION, weights=SIMILAR_WEIGHTS if weights is None else weights, stats=runs.stats, fill=fill)
        return self._respond(source, mode, plan, runs.rankings, fused, k, 0, Filters(), {}, None)

    # -- helpers --------------------------------------------------------------------

    def _plan(self, mode: str, ready: Sequence[str]) -> LegPlan:
        """The legs for ``mode`` among those that can answer (``ready`` dense legs)."""
        return plan_legs(mode, self.dense_legs, ready, self.model_notice)

    def _respond(
        self,
        query: str,
        requested: str,
        plan: LegPlan,
        rankings: dict[str, list[ScoredId]],
        fused: list[FusedHit],
        k: int,
        offset: int,
        filters: Filters,
        terms: Mapping[str, float],
        total: int | None,
        sort: str = "relevance",
    ) -> SearchResponse:
        """``total``: the leg's own match count when known; else the fused candidates."""
        if filters:
            fused = [f for f in fused if filters.accept(self.papers[self.row_of[f.id]])]
        fused = sort_hits(fused, sort, lambda f: self.papers[self.row_of[f.id]])
        matched = {h.id: getattr(h, "terms", ()) for h in rankings.get("bm25", [])}
        page = fused[offset : offset + k]
        hits = [
            SearchHit(offset + i + 1, self.papers[self.row_of[f.id]], f.score, dict(f.legs), matched.get(f.id, ()))
            for i, f in enumerate(page)
        ]
        expansions = {t: w for t, w in terms.items() if w < 1.0}
        return SearchResponse(
            query, plan.mode, requested, hits, len(fused) if total is None else total, offset,
            plan.notice, plan.code, expansions, plan.legs, dict(terms),
        )


def similar_source(
    paper: Paper | None, text: str | None, dense_legs: list[str], ready_legs: list[str]
) -> tuple[str, str | None, str, list[str]]:
    """What a similar-papers query starts from: (source shown as the query, paper id left
    out of the answer, text BM25 reads, dense legs that can answer). A stored paper's
    stored vectors need no model, so every dense leg can; a text needs the loaded ones.
    Shared by the local and the Milvus engines."""
    if paper is not None:
        return paper.id, paper.id, more_like_this_text(paper), dense_legs
    source = check_text(text or "", "text", MAX_TEXT_CHARS)
    return source, None, source[:MLT_CHARS], list(ready_legs)


def more_like_this_text(paper: Paper) -> str:
    """A stored paper's text as a similar-papers source: what its dense legs embed."""
    return f"{paper.title}\n{paper.summary}"


def similar_terms(
    paper: Paper | None, text: str, tokenizer: KiwiTokenizer, document_frequency: Callable[[str], int], papers: int,
    stored: list[str] | None = None,
) -> dict[str, float]:
    """BM25's query for papers like ``paper`` (its title and every snippet field: the
    whole record, ``stored`` its body's morphemes when the build kept them) or like
    ``text``: the tf·idf-chosen terms of ``search.more_like_this``. Shared by the local and
    the Milvus engines."""
    if paper is None:
        return mlt_terms(term_counts(tokenizer.tokenize(text)), document_frequency, papers, min_df=1)
    body = stored if stored is not None else [t for _name, field in snippet_fields(paper) for t in tokenizer.tokenize(field)]
    return mlt_terms(term_counts(tokenizer.tokenize(paper.title), body), document_frequency, papers)
