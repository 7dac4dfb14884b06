"""Store at build time what highlighting needs, so the server never runs Kiwi per request.

A snippet marks the surface spans of the kept morphemes whose term the query matched
(``search/serve/snippets.py``). Analysing a hit's fields at query time was ~0.6 ms per field,
~93% of an ``/api/search`` request at 100k papers. Like Lucene's indexed offsets, each
snippet field's morphemes (term id, start, length) are written here once, row-aligned
with papers.jsonl, in plain ``.npy`` arrays the server memory-maps.

Rows whose paper is unchanged (same content hash) are copied from the served build's
arrays; only new or changed papers go to Kiwi. The daily case (the served rows first, new
rows appended) copies the served arrays whole and appends.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from index.artifacts.bm25_build import gather_segments
from index.artifacts.incremental import KEY_BYTES, ServedBuild, key_index, text_key
from index.artifacts.progress import bar
from index.parse.corpus import Corpus
from index.storage import atomic_file, write_json
from search.core.errors import PaperSearchError
from search.core.fields import snippet_fields
from search.core.layout import BuildFiles
from search.core.records import Paper
from search.core.span_arrays import SpanArrays
from search.core.tokenizer import KiwiTokenizer

MAX_LENGTH = np.iinfo(np.uint16).max  # a morpheme's surface length is stored as uint16


def write_span_arrays(arrays: SpanArrays, files: BuildFiles) -> None:
    """The one writer of a build's snippet morphemes (``SpanArrays.read`` reads them)."""
    for path, arr in (
        (files.snippet_terms, arrays.terms), (files.snippet_starts, arrays.starts),
        (files.snippet_lengths, arrays.lengths), (files.snippet_field_offsets, arrays.field_offsets),
        (files.snippet_paper_fields, arrays.paper_fields),
    ):
        with atomic_file(path, binary=True) as f:
            np.save(f, np.ascontiguousarray(arr), allow_pickle=False)
    write_json(files.snippet_vocab, arrays.vocab, indent=None)


def write_snippet_spans(
    corpus: Corpus, tokenizer: KiwiTokenizer, files: BuildFiles, served: ServedBuild | None, full: bool = False,
    progress: bool = False,
) -> tuple[dict[str, int], SpanArrays]:
    """Write the build's snippet arrays; returns counts for the manifest and the arrays
    (the BM25 step reads the papers' bodies from them). Papers the ``served`` build
    holds unchanged keep its arrays' rows (unless ``full``)."""
    old = None if full or served is None else _served(served)
    old_row = {h: r for r, h in enumerate(served.hashes)} if old is not None and served is not None else {}
    src = np.fromiter((old_row.get(h, -1) for h in corpus.hashes), dtype=np.int64, count=len(corpus))
    old_keys = _served_keys(served) if old is not None and served is not None else None
    keys = np.zeros((len(corpus), KEY_BYTES), dtype=np.uint8)
    kept = np.flatnonzero(src >= 0)
    if old_keys is not None:
        keys[kept] = old_keys[src[kept]]
        # A changed record (another source listed, new upvotes) with the same texts keeps
        # its served row: only texts never analysed go to Kiwi.
        by_key = key_index(old_keys)
        for i in np.flatnonzero(src < 0).tolist():
            keys[i] = np.frombuffer(fields_key(snippet_fields(corpus[i])), dtype=np.uint8)
            src[i] = by_key.get(keys[i].tobytes(), -1)
    else:  # a served build from before keys were stored: its kept rows' keys, once
        for i in kept.tolist():
            keys[i] = np.frombuffer(fields_key(snippet_fields(corpus[i])), dtype=np.uint8)
    fresh = np.flatnonzero(src < 0)
    vocab = list(old.vocab) if old is not None else []
    new, fresh_keys = _analyse([corpus[i] for i in fresh.tolist()], tokenizer, vocab, progress)
    keys[fresh] = fresh_keys
    if old is None or not len(fresh) < len(corpus):
        arrays = new
    elif np.array_equal(src[: len(corpus) - len(fresh)], np.arange(len(corpus) - len(fresh))) and np.all(
        fresh == np.arange(len(corpus) - len(fresh), len(corpus))
    ):
        arrays = _append(old, new, len(corpus) - len(fresh))  # the daily case
    else:
        arrays = _merge(old, new, src)
    arrays.vocab = vocab
    write_span_arrays(arrays, files)
    with atomic_file(files.snippet_text_keys, binary=True) as f:
        np.save(f, keys, allow_pickle=False)
    meta = {"fields": len(arrays.field_offsets) - 1, "morphemes": len(arrays.terms), "analysed_papers": len(fresh)}
    return meta, arrays


def fields_key(fields: Sequence[tuple[str, str]]) -> bytes:
    """What a row's snippet morphemes depend on: its snippet fields, names and texts."""
    return text_key("\x1e".join(f"{name}\x1f{text}" for name, text in fields))


def _served_keys(served: ServedBuild) -> np.ndarray | None:
    """The served build's row keys, or None (a build made before they were stored)."""
    try:
        keys = np.load(served.files.snippet_text_keys, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return keys if keys.shape == (len(served.hashes), KEY_BYTES) and keys.dtype == np.uint8 else None


def _served(served: ServedBuild) -> SpanArrays | None:
    """The served build's arrays when present and consistent with its rows; else None
    (everything is analysed again: an older build without them, or damaged files)."""
    try:
        arrays = SpanArrays.read(served.files)
    except (OSError, ValueError, PaperSearchError):
        return None
    if len(arrays.paper_fields) != len(served.hashes) + 1 or not isinstance(arrays.vocab, list):
        return None
    return arrays


def _analyse(
    papers: Sequence[Paper], tokenizer: KiwiTokenizer, vocab: list[str], progress: bool
) -> tuple[SpanArrays, np.ndarray]:
    """Kiwi over every snippet field of ``papers`` (one batch, on Kiwi's workers), and
    each paper's :func:`fields_key`; new terms are appended to ``vocab``."""
    per_paper = [0] * len(papers)
    keys = np.zeros((len(papers), KEY_BYTES), dtype=np.uint8)

    def texts(pbar: Any) -> Iterator[str]:
        # Made as Kiwi pulls them: 100k papers' texts are never all held at once.
        for i, p in enumerate(papers):
            fields = snippet_fields(p)
            per_paper[i] = len(fields)
            keys[i] = np.frombuffer(fields_key(fields), dtype=np.uint8)
            yield from (t for _n, t in fields)
            pbar.update(1)

    term_id = {t: i for i, t in enumerate(vocab)}
    # array.array: 4 bytes a morpheme, where lists of ints cost ~36 (tens of millions here).
    terms, starts, lengths, counts = array("i"), array("i"), array("H"), array("q")
    with bar(len(papers), "snippet morphemes (Kiwi)", progress) as pbar:
        for toks in tokenizer.analyze_many(texts(pbar)):
            for tok in toks:
                tid = term_id.get(tok.term)
                if tid is None:
                    tid = term_id[tok.term] = len(vocab)
                    vocab.append(tok.term)
                terms.append(tid)
                starts.append(tok.start)
                lengths.append(min(tok.end - tok.start, MAX_LENGTH))
            counts.append(len(toks))
    arrays = SpanArrays(
        np.frombuffer(terms, dtype=np.int32).copy(), np.frombuffer(starts, dtype=np.int32).copy(),
        np.frombuffer(lengths, dtype=np.uint16).copy(), _offsets(np.frombuffer(counts, dtype=np.int64)),
        _offsets(per_paper), vocab,
    )
    return arrays, keys


def _offsets(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _append(old: SpanArrays, new: SpanArrays, keep: int) -> SpanArrays:
    """The first ``keep`` served rows unchanged, then the new rows."""
    n_fields = int(old.paper_fields[keep])
    n_tokens = int(old.field_offsets[n_fields])
    return SpanArrays(
        np.concatenate([old.terms[:n_tokens], new.terms]),
        np.concatenate([old.starts[:n_tokens], new.starts]),
        np.concatenate([old.lengths[:n_tokens], new.lengths]),
        np.concatenate([old.field_offsets[: n_fields + 1], new.field_offsets[1:] + n_tokens]),
        np.concatenate([old.paper_fields[: keep + 1], new.paper_fields[1:] + n_fields]),
        old.vocab,
    )


def _merge(old: SpanArrays, new: SpanArrays, src: np.ndarray) -> SpanArrays:
    """Any mix: row ``r`` takes served row ``src[r]``, or the next new row when -1. Both
    sources are pooled (new fields after the served ones), then fields and morphemes are
    gathered in row order."""
    n_old_fields, n_old_tokens = len(old.field_offsets) - 1, len(old.terms)
    pool_paper_start = np.concatenate([old.paper_fields[:-1], new.paper_fields[:-1] + n_old_fields])
    pool_paper_count = np.concatenate([np.diff(old.paper_fields), np.diff(new.paper_fields)])
    pool_field_start = np.concatenate([old.field_offsets[:-1], new.field_offsets[:-1] + n_old_tokens])
    pool_field_count = np.concatenate([np.diff(old.field_offsets), np.diff(new.field_offsets)])
    n_old_rows = len(old.paper_fields) - 1
    pick = src.copy()
    fresh = pick < 0
    pick[fresh] = n_old_rows + np.arange(int(fresh.sum()))
    field_count = pool_paper_count[pick]
    fields = gather_segments(np.arange(len(pool_field_start), dtype=np.int64), pool_paper_start[pick], field_count)
    token_count = pool_field_count[fields]
    starts_at = pool_field_start[fields]

    def take(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return gather_segments(np.concatenate([np.asarray(a), b]), starts_at, token_count)

    return SpanArrays(
        take(old.terms, new.terms), take(old.starts, new.starts), take(old.lengths, new.lengths),
        _offsets(token_count), _offsets(field_count), old.vocab,
    )
