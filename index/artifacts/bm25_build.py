"""Write the BM25 index (bm25s) from per-paper token lists or token ids.

bm25s's own ``index`` walks the corpus document by document in Python (a Counter per
document): ~7 s at 100k papers, most of an incremental build. The token cache already
holds every document as int ids, so the score matrix is computed here in a few numpy
passes with bm25s's own idf and tf functions, then handed to bm25s to save: the same
scores (tests/test_bm25.py checks them against an oracle), the same files on disk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from search.core.manifest import BM25Spec


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    method: str = "lucene"
    # The title is repeated this many times in the document: a cheap field weight,
    # since bm25s has no fields (measured in the README's evaluation section).
    title_weight: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def document_tokens(title: list[str], body: list[str], params: BM25Params) -> list[str]:
    return title * params.title_weight + body


def gather_segments(flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([flat[s:s+n] for s, n in zip(starts, lengths)])`` without the loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return flat[:0].copy()
    ends = np.cumsum(lengths)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths)
    return flat[shift + np.arange(total, dtype=np.int64)]


class TokenDocs(Sequence[list[str]]):
    """Documents as token ids (one flat array with offsets) over a vocabulary.

    Indexing gives a document's tokens as strings, made on demand: a consumer that
    needs only some documents (or only the ids, like :func:`write_bm25`) never pays
    for 100k lists of strings."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, vocab: Sequence[str]):
        self.ids = ids
        self.offsets = offsets
        self.vocab = vocab
        self._terms: np.ndarray | None = None

    @classmethod
    def from_rows(
        cls, ids: np.ndarray, offsets: np.ndarray, vocab: Sequence[str],
        title_rows: np.ndarray, body_rows: np.ndarray, params: BM25Params,
    ) -> "TokenDocs":
        """Documents built from token-cache rows: the title row ``title_weight`` times, then
        the body row (as :func:`document_tokens`)."""
        rows = np.column_stack([title_rows] * params.title_weight + [body_rows]).ravel()
        lengths = offsets[rows + 1] - offsets[rows]
        flat = gather_segments(ids, offsets[rows], lengths)
        per_doc = lengths.reshape(len(body_rows), params.title_weight + 1).sum(axis=1)
        doc_offsets = np.zeros(len(body_rows) + 1, dtype=np.int64)
        np.cumsum(per_doc, out=doc_offsets[1:])
        return cls(flat, doc_offsets, vocab)

    @classmethod
    def from_titles_and_bodies(
        cls, ids: np.ndarray, offsets: np.ndarray, vocab: Sequence[str], title_rows: np.ndarray,
        body_terms: np.ndarray, body_offsets: np.ndarray, body_vocab: Sequence[str], params: BM25Params,
    ) -> "TokenDocs":
        """Documents from token-cache rows for the titles and, for each paper's body, its
        morphemes ``body_terms[body_offsets[r]:body_offsets[r + 1]]`` over ``body_vocab``
        (the build's snippet morphemes, ``index/artifacts/snippet_build.py``). The body ids are
        mapped onto the cache's vocabulary (extended by terms only bodies have) and
        appended to its rows, one row per paper."""
        term_id = {t: i for i, t in enumerate(vocab)}
        remap = np.fromiter(
            (term_id.setdefault(t, len(term_id)) for t in body_vocab), dtype=np.int32, count=len(body_vocab)
        )
        n_rows = len(offsets) - 1
        pool = np.concatenate([ids, remap[np.asarray(body_terms)]])
        pool_offsets = np.concatenate([offsets, int(offsets[-1]) + np.asarray(body_offsets[1:], dtype=np.int64)])
        body_rows = n_rows + np.arange(len(title_rows), dtype=np.int64)
        return cls.from_rows(pool, pool_offsets, list(term_id), title_rows, body_rows, params)

    @classmethod
    def from_tokens(cls, docs: Sequence[Sequence[str]]) -> "TokenDocs":
        term_id: dict[str, int] = {}
        flat = np.fromiter(
            (term_id.setdefault(t, len(term_id)) for d in docs for t in d), dtype=np.int32
        )
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in docs], out=offsets[1:])
        return cls(flat, offsets, list(term_id))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _doc(self, i: int) -> list[str]:
        if self._terms is None:
            self._terms = np.asarray(self.vocab, dtype=object)
        return self._terms[self.ids[self.offsets[i] : self.offsets[i + 1]]].tolist()

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...
    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self._doc(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._doc(i)

    def __iter__(self) -> Iterator[list[str]]:
        return (self._doc(i) for i in range(len(self)))


def write_bm25(docs: Sequence[Sequence[str]], out_dir: Path, params: BM25Params) -> BM25Spec:
    import bm25s

    model = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
    token_docs = docs if isinstance(docs, TokenDocs) else TokenDocs.from_tokens(docs)
    lengths = np.diff(token_docs.offsets)
    if len(token_docs) == 0 or params.method in model.methods_requiring_nonoccurrence:
        model.index([list(d) for d in docs], show_progress=False)  # the library's own path
        vocabulary = len(model.vocab_dict)
    else:
        vocabulary = _index_ids(model, token_docs, lengths)
    model.save(str(out_dir), show_progress=False)
    return BM25Spec(
        k1=params.k1, b=params.b, method=params.method, title_weight=params.title_weight, library="bm25s",
        library_version=bm25s.__version__, vocabulary=vocabulary,
        avg_doc_tokens=float(lengths.mean()) if len(lengths) else 0.0,
    )


def group_by_key(keys: np.ndarray, n_keys: int, starts: np.ndarray | None = None) -> Any:
    """A stable counting sort, in C: the positions of ``keys`` grouped by key value.

    Returned as a CSC matrix of shape (rows, n_keys): column ``k`` lists (in ``indices``,
    ascending) the rows holding key ``k``. Rows are single positions, or with ``starts``
    (offsets into ``keys``) documents; a key repeated within a row then appears that many
    times unless ``sum_duplicates`` is called (entries are ones, so sums are counts).
    ``np.argsort(kind="stable")`` does the same in O(n log n): 3-5x slower at 15M tokens."""
    import scipy.sparse as sp

    n = len(keys)
    indptr = np.arange(n + 1, dtype=np.int64) if starts is None else np.asarray(starts, dtype=np.int64)
    rows = len(indptr) - 1
    matrix = sp.csr_matrix((np.ones(n, dtype=np.int32), keys, indptr), shape=(rows, n_keys))
    return matrix.tocsc()


def _index_ids(model: Any, docs: TokenDocs, lengths: np.ndarray) -> int:
    """What ``bm25s.BM25.index`` computes, vectorized: per (document, term) the idf of the
    term times bm25s's tf component, in the same dtypes and operation order."""
    import scipy.sparse as sp
    from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer

    n_docs = len(docs)
    ids = docs.ids
    # Only terms that occur get a column (the cache's vocabulary outlives removed papers).
    present = np.zeros(len(docs.vocab), dtype=bool)
    present[ids] = True
    used = np.flatnonzero(present)
    n_vocab = len(used)
    column = np.full(len(docs.vocab), -1, dtype=np.int64)
    column[used] = np.arange(n_vocab)
    # Term frequencies as a (document × term) CSC matrix: grouped by term, then repeated
    # terms within a document summed.
    tf = group_by_key(column[ids], n_vocab, starts=docs.offsets)
    tf.sum_duplicates()
    doc_idx = tf.indices
    df = np.diff(tf.indptr)
    voc_idx = np.repeat(np.arange(n_vocab, dtype=np.int64), df)
    idf_fn = _select_idf_scorer(model.idf_method)
    idf = np.array([idf_fn(f, N=n_docs) for f in df.tolist()], dtype=model.dtype)
    avg_doc_len = lengths.mean()
    tfc = _select_tfc_scorer(model.method)(
        tf_array=tf.data.astype(model.dtype), l_d=lengths[doc_idx], l_avg=avg_doc_len, k1=model.k1, b=model.b, delta=model.delta
    )
    scores = (idf[voc_idx] * tfc).astype(model.dtype)
    matrix = sp.csc_matrix(
        (scores, doc_idx.astype(model.int_dtype), tf.indptr.astype(model.int_dtype)), shape=(n_docs, n_vocab), dtype=model.dtype
    )
    vocab_dict = {docs.vocab[t]: i for i, t in enumerate(used.tolist())}
    if "" not in vocab_dict:  # bm25s's create_empty_token
        vocab_dict[""] = n_vocab
    model.scores = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr, "num_docs": n_docs}
    model.vocab_dict = vocab_dict
    model.nonoccurrence_array = None
    model.unique_token_ids_set = set(vocab_dict.values())
    return len(vocab_dict)
