"""Build an index: parse digests, tokenize, BM25, embed, write, swap in atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from index.bm25_build import BM25Params, document_tokens, write_bm25
from index.dense_build import choose_index, write_dense
from index.digest import parse_sources
from index.progress import bar, progress_enabled
from index.token_cache import TokenCache
from search.encoder import Encoder, default_model_name, passage_text
from search.errors import ModelUnavailable, PaperSearchError
from search.layout import FORMAT_VERSION, BuildLock, IndexLayout, StagedBuild, write_json, write_jsonl
from search.records import Paper, ParseIssue
from search.tokenizer import KiwiTokenizer

DenseMode = Literal["auto", "off", "required"]
# Called with the staged (not yet served) build folder; raising stops the swap.
Gate = Callable[[Path], None]


@dataclass
class BuildReport:
    papers: int
    files: int
    errors: list[ParseIssue]
    index: str
    build_id: str
    dense: bool
    model: str | None
    notice: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "papers": self.papers,
            "files": self.files,
            "errors": [e.to_dict() for e in self.errors],
            "index": self.index,
            "build_id": self.build_id,
            "dense": self.dense,
            "model": self.model,
            "notice": self.notice,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def build_index(
    sources: Sequence[Path],
    index_root: Path,
    *,
    model: str | None = None,
    dense: DenseMode = "auto",
    params: BM25Params = BM25Params(),
    progress: bool | None = None,
    gate: Gate | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> BuildReport:
    show = progress_enabled(progress)
    layout = IndexLayout(index_root)
    timings: dict[str, float] = {}
    with BuildLock(layout):
        t = time.perf_counter()
        parsed = parse_sources(list(sources))
        timings["parse"] = time.perf_counter() - t
        papers = parsed.papers
        if not papers:
            raise PaperSearchError(
                f"no papers found in {', '.join(map(str, sources))} "
                f"({len(parsed.issues)} problems); the served index was left as it was"
            )

        t = time.perf_counter()
        tokenizer = KiwiTokenizer()
        docs = _tokenize(papers, tokenizer, layout.cache_dir, params, show)
        timings["tokenize"] = time.perf_counter() - t

        encoder, notice = _load_encoder(model, dense)
        if notice:
            log(notice)

        with StagedBuild(layout) as stage:
            files = stage.files
            write_jsonl(files.papers, (p.to_dict() for p in papers))
            t = time.perf_counter()
            bm25_meta = write_bm25(docs, files.bm25, params)
            timings["bm25"] = time.perf_counter() - t
            dense_meta = None
            if encoder is not None:
                t = time.perf_counter()
                dense_meta = _write_dense(papers, encoder, files, show)
                timings["embed"] = time.perf_counter() - t
            write_json(
                files.manifest,
                {
                    "format_version": FORMAT_VERSION,
                    "build_id": stage.build_id,
                    "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "papers": len(papers),
                    "files": parsed.files,
                    "errors": len(parsed.issues),
                    "sources": [str(s) for s in sources],
                    "corpus_hash": corpus_hash(papers),
                    "tokenizer": tokenizer.settings.to_dict(),
                    "bm25": bm25_meta,
                    "dense": dense_meta,
                },
            )
            if gate is not None:
                gate(stage.path)
            stage.commit()
        return BuildReport(
            papers=len(papers),
            files=parsed.files,
            errors=parsed.issues,
            index=str(layout.root),
            build_id=stage.build_id,
            dense=dense_meta is not None,
            model=dense_meta["model"] if dense_meta else None,
            notice=notice,
            timings=timings,
        )


def _tokenize(
    papers: list[Paper], tokenizer: KiwiTokenizer, cache_dir: Path, params: BM25Params, show: bool
) -> list[list[str]]:
    cache = TokenCache(cache_dir, tokenizer)
    texts = [p.title for p in papers] + [p.search_text() for p in papers]
    with bar(len(texts), "tokenizing (Kiwi)", show) as pbar:
        tokens = cache.tokenize(texts, on_progress=pbar.update)
    cache.save()
    n = len(papers)
    return [document_tokens(tokens[i], tokens[n + i], params) for i in range(n)]


def _load_encoder(model: str | None, dense: DenseMode) -> tuple[Encoder | None, str | None]:
    if dense == "off":
        return None, None
    name = model or default_model_name()
    try:
        return Encoder(name), None
    except ModelUnavailable as e:
        if dense == "required":
            raise
        return None, f"no embedding model ({e}); building a BM25-only index"


def _write_dense(papers: list[Paper], encoder: Encoder, files: Any, show: bool) -> dict[str, Any]:
    vectors = encoder.encode_passages([passage_text(p.title, p.summary) for p in papers], progress=show)
    spec = choose_index(len(papers))
    write_dense(vectors, files.vectors, files.faiss_index, spec)
    return {**encoder.describe(), "text_fields": ["title", "summary"], "index": spec}


def paper_hash(paper: Paper) -> str:
    blob = json.dumps(paper.to_dict(), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def corpus_hash(papers: Sequence[Paper]) -> str:
    h = hashlib.sha256()
    for p in sorted(papers, key=lambda p: p.id):
        h.update(paper_hash(p).encode())
    return h.hexdigest()
