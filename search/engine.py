"""The query-side facade: one loaded index answering search and similar-paper requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.bm25 import BM25Retriever
from search.dense import DenseRetriever
from search.encoder import Encoder, Prompts, canonical_model_name
from search.errors import InvalidQuery, ModelMismatch, ModelUnavailable, PaperNotFound
from search.fusion import DEFAULT_RRF_K, fuse
from search.expansion import Expander
from search.layout import BuildFiles, IndexLayout, read_json
from search.records import FusedHit, Paper, ScoredId
from search.results import MODES, SearchHit, SearchResponse
from search.sorting import check_sort, sort_hits
from search.tokenizer import KiwiTokenizer, TokenizerSettings

MAX_QUERY_CHARS = 500
MAX_TEXT_CHARS = 20_000
MAX_K = 100
MAX_OFFSET = 1000
CANDIDATES = 100  # each leg's depth before fusion
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class Filters:
    date_from: str | None = None  # inclusive, YYYY-MM-DD
    date_to: str | None = None
    min_upvotes: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.min_upvotes))

    def accept(self, p: Paper) -> bool:
        if self.date_from and (p.date is None or p.date < self.date_from):
            return False
        if self.date_to and (p.date is None or p.date > self.date_to):
            return False
        if self.min_upvotes is not None and (p.upvotes or 0) < self.min_upvotes:
            return False
        return True


class SearchEngine:
    """Loads a build once (papers, BM25, FAISS, model) and answers queries from memory."""

    def __init__(
        self, build_dir: Path, model: str | None = None, load_model: bool = True, encoder: Encoder | None = None
    ):
        """``encoder``: an already loaded model to reuse when it is the one this build
        needs (a server reloading a new build of the same index loads it only once)."""
        self.files = BuildFiles(build_dir)
        self.manifest = self.files.read_manifest()
        self.tokenizer = KiwiTokenizer(TokenizerSettings.default())
        self.tokenizer.check_compatible(self.manifest["tokenizer"])
        self.papers = [Paper.from_dict(d) for d in self.files.iter_papers()]
        self.ids = [p.id for p in self.papers]
        self.row_of = {pid: i for i, pid in enumerate(self.ids)}
        self.bm25 = BM25Retriever(self.files.bm25, self.ids, self.tokenizer)
        # The mined Korean↔English term bridge; builds made without one expand nothing.
        glossary = read_json(self.files.glossary) if self.files.glossary.exists() else None
        self.expander = Expander(glossary, self.bm25.document_frequency, len(self.ids))
        self.dense: DenseRetriever | None = None
        self.model_notice: str | None = None
        dense_meta = self.manifest.get("dense")
        if dense_meta:
            if model and canonical_model_name(model) != dense_meta["model"]:
                raise ModelMismatch(
                    f"index was built with model {dense_meta['model']!r}, not {model!r}: "
                    "query with the same model or rebuild with --model"
                )
            self.dense = DenseRetriever(self.files.vectors, self.files.faiss_index, self.ids, dense_meta["index"])
            if load_model:
                self._load_model(dense_meta, encoder)
            else:
                self.model_notice = "embedding model not loaded"
        else:
            self.model_notice = "index has no dense vectors (built without an embedding model)"

    @classmethod
    def open(cls, index_root: Path | str, model: str | None = None, load_model: bool = True) -> "SearchEngine":
        return cls(IndexLayout(index_root).current_build(), model=model, load_model=load_model)

    def _load_model(self, meta: Mapping[str, Any], reuse: Encoder | None = None) -> None:
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
        # Prompts follow the build, so a query is encoded exactly as the passages expect.
        encoder.prompts = Prompts(**meta["prompts"])
        assert self.dense is not None
        self.dense.encoder = encoder

    @property
    def dense_ready(self) -> bool:
        return self.dense is not None and self.dense.encoder is not None

    @property
    def build_id(self) -> str:
        return str(self.manifest.get("build_id", self.files.path.name))

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
        fusion: str = "rrf",
        rrf_k: int = DEFAULT_RRF_K,
        weights: Mapping[str, float] | None = None,
        filters: Filters = Filters(),
        sort: str = "relevance",
    ) -> SearchResponse:
        """``sort``: relevance, newest or upvotes (see ``search/sorting.py``)."""
        query = _check_text(query, "query", MAX_QUERY_CHARS)
        _check_page(k, offset)
        check_sort(sort)
        effective, notice = self._effective_mode(mode, dense_possible=self.dense_ready)
        terms = self.query_terms(query)
        if filters or (sort != "relevance" and effective == "bm25"):
            depth = len(self.ids)  # filtering or sorting after ranking: every match may be needed
        elif effective == "hybrid" or sort != "relevance":
            depth = max(CANDIDATES, k + offset)  # fusion needs each leg's deeper ranks
        else:
            depth = k + offset  # one leg's own order is the answer: rank only the page
        rankings: dict[str, list[ScoredId]] = {}
        total: int | None = None
        if effective in ("hybrid", "bm25"):
            rankings["bm25"], matches = self.bm25.search_terms(terms, depth)
            if effective == "bm25":
                total = matches
        if effective in ("hybrid", "dense"):
            assert self.dense is not None
            rankings["dense"] = self.dense.retrieve(query, depth)
            if effective == "dense":
                total = len(self.ids)  # every paper has a similarity
        if filters or (sort != "relevance" and effective == "dense"):
            total = None  # counted after filtering; a sorted dense answer is its candidate pool
        return self._respond(
            query, mode, effective, notice, rankings, k, offset, fusion, rrf_k, weights, filters, terms, total, sort
        )

    def query_terms(self, query: str) -> dict[str, float]:
        """BM25 terms and their weights for a query: its own terms weigh 1, expansions
        (spacing variants, transliterations, glossary translations) less."""
        return self.expander.expand(query, self.bm25.query_terms(query))

    def similar(self, paper_id: str | None = None, text: str | None = None, k: int = 10, mode: str = "dense") -> SearchResponse:
        """Papers like a stored paper (its stored vector; no re-encoding) or like a text."""
        _check_page(k, 0)
        if (paper_id is None) == (text is None):
            raise InvalidQuery("give either a paper id or a text")
        exclude = None
        if paper_id is not None:
            paper = self.paper(paper_id)
            exclude = paper.id
            source = paper.id
            vector_ok = self.dense is not None
            mlt_text = f"{paper.title}\n{paper.summary}"
        else:
            source = text = _check_text(text or "", "text", MAX_TEXT_CHARS)
            vector_ok = self.dense_ready
            mlt_text = text
        effective, notice = self._effective_mode(mode, dense_possible=vector_ok)
        depth = max(CANDIDATES, k) + 1
        rankings: dict[str, list[ScoredId]] = {}
        if effective in ("hybrid", "bm25"):
            rankings["bm25"] = [h for h in self.bm25.retrieve(mlt_text, depth) if h.id != exclude]
        if effective in ("hybrid", "dense"):
            assert self.dense is not None
            if exclude is not None:
                row = self.row_of[exclude]
                rankings["dense"] = self.dense.search_vector(self.dense.vector(row), depth, exclude_row=row)
            else:
                rankings["dense"] = self.dense.retrieve(mlt_text, depth)
        return self._respond(source, mode, effective, notice, rankings, k, 0, "rrf", DEFAULT_RRF_K, None, Filters(), {})

    # -- helpers --------------------------------------------------------------------

    def _effective_mode(self, mode: str, dense_possible: bool) -> tuple[str, str | None]:
        if mode not in MODES:
            raise InvalidQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if mode == "bm25" or dense_possible:
            return mode, None
        return "bm25", f"BM25 only: {self.model_notice or 'no embedding model'}"

    def _respond(
        self,
        query: str,
        requested: str,
        effective: str,
        notice: str | None,
        rankings: dict[str, list[ScoredId]],
        k: int,
        offset: int,
        fusion: str,
        rrf_k: int,
        weights: Mapping[str, float] | None,
        filters: Filters,
        terms: Mapping[str, float],
        total: int | None = None,
        sort: str = "relevance",
    ) -> SearchResponse:
        """``total``: the leg's own match count when known; else the fused candidates."""
        if fusion not in FUSIONS:
            raise InvalidQuery(f"unknown fusion {fusion!r}: use one of {', '.join(FUSIONS)}")
        fused = fuse(rankings, fusion, rrf_k=rrf_k, weights=weights)
        if filters:
            fused = [f for f in fused if filters.accept(self.papers[self.row_of[f.id]])]
        fused = sort_hits(fused, sort, lambda f: self.papers[self.row_of[f.id]])
        matched = {h.id: getattr(h, "terms", ()) for h in rankings.get("bm25", [])}
        page = fused[offset : offset + k]
        hits = [self._hit(offset + i + 1, f, matched.get(f.id, ())) for i, f in enumerate(page)]
        expansions = {t: w for t, w in terms.items() if w < 1.0}
        return SearchResponse(query, effective, requested, hits, len(fused) if total is None else total, offset, notice, expansions)

    def _hit(self, rank: int, f: FusedHit, matched: tuple[str, ...]) -> SearchHit:
        paper = self.papers[self.row_of[f.id]]
        return SearchHit(rank, paper, f.score, f.legs.get("bm25"), f.legs.get("dense"), matched)


def _check_text(text: str, what: str, limit: int) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidQuery(f"{what} is empty")
    text = text.strip()
    if len(text) > limit:
        raise InvalidQuery(f"{what} is {len(text)} characters; the limit is {limit}")
    return text


def _check_page(k: int, offset: int) -> None:
    if not 1 <= k <= MAX_K:
        raise InvalidQuery(f"k must be between 1 and {MAX_K}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidQuery(f"offset must be between 0 and {MAX_OFFSET}")
