"""The BM25 documents of a build: each paper's title ``title_weight`` times, then its body.

A title's tokens come from the token cache (Kiwi for titles it has not seen). A body is
the paper's snippet fields' morphemes (``index/artifacts/snippet_build.py``), analysed once with
their offsets for highlighting: Kiwi, the slow part of a build, reads each body once.
"""

from __future__ import annotations

from pathlib import Path

from index.artifacts.bm25_build import BM25Params, TokenDocs
from index.artifacts.progress import bar
from index.artifacts.token_cache import TokenCache
from index.parse.corpus import Corpus
from search.core.layout import BuildFiles
from search.core.span_arrays import SpanArrays
from search.core.tokenizer import KiwiTokenizer


def bm25_documents(
    corpus: Corpus,
    spans: SpanArrays,
    tokenizer: KiwiTokenizer,
    cache_dir: Path,
    params: BM25Params,
    show: bool,
    use_cache: bool = True,
) -> TokenDocs:
    """BM25 documents: each title's tokens (from the token cache; Kiwi for titles it has
    not seen), then the paper's body, its snippet fields' morphemes from ``spans``."""
    cache = TokenCache(cache_dir, tokenizer, enabled=use_cache)

    def titles_of(rows: list[int]) -> list[str]:
        return [corpus[i].title for i in rows]  # only papers the cache has not seen are decoded

    with bar(len(corpus), "tokenizing titles (Kiwi)", show) as pbar:
        title_rows = cache.title_rows(corpus.hashes, titles_of, on_progress=pbar.update)
    cache.save()
    # Documents stay token ids; BM25 reads the ids, token strings are made on demand.
    return TokenDocs.from_titles_and_bodies(
        cache.ids, cache.offsets, cache.vocab, title_rows, spans.terms, spans.paper_offsets(), spans.vocab, params
    )


def served_documents(files: BuildFiles, cache_dir: Path, tokenizer: KiwiTokenizer, params: BM25Params) -> TokenDocs:
    """A built index's documents, token for token as its build made them (benchmarks
    give these to the peers they compare against)."""
    titles = [d["title"] for d in files.iter_papers()]
    cache = TokenCache(cache_dir, tokenizer)
    title_rows = cache.rows(titles)
    spans = SpanArrays.read(files)
    return TokenDocs.from_titles_and_bodies(
        cache.ids, cache.offsets, cache.vocab, title_rows, spans.terms, spans.paper_offsets(), spans.vocab, params
    )
