"""Kiwi output cached by text: Kiwi is the slow part of a build (tens of thousands of
characters a second), so a text is tokenized once, across builds.

One ``.npz`` file per tokenizer-settings hash under ``ROOT/cache/tokens/``, holding
plain arrays only (no pickle): 16-byte blake2b text keys, all token ids concatenated
with per-text offsets, and the vocabulary as one UTF-8 blob with offsets. At a million
papers this is a few hundred megabytes of int32 that loads in a second, where JSONL was
gigabytes of text to parse. It is rewritten (write-then-rename, so a killed build
leaves the old file) with only the texts the last build used, so it cannot grow
without bound.

A build sends it the papers' titles only: a paper's body tokens are its snippet fields'
morphemes, which ``index/artifacts/snippet_build.py`` analyses (with their offsets) and stores per
build, so Kiwi reads each body once, not once for BM25 and again for highlighting.

It also remembers, per paper content hash, the row of that paper's title: a paper whose
record is unchanged needs its title neither made nor hashed again (at 100k papers that
alone was seconds of a daily build). The record fixes the title (as long as
``PAPER_TEXTS_VERSION`` does, which the file records) and the file name fixes the
tokenizer settings, so a hash maps to the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.artifacts.bm25_build import gather_segments
from index.artifacts.incremental import KEY_BYTES, key_index, text_key
from index.storage import atomic_file
from search.core.layout import CacheFiles
from search.core.records import PAPER_TEXTS_VERSION
from search.core.tokenizer import KiwiTokenizer

PAPER_KEY_BYTES = 32  # a sha256 content hash (``index.artifacts.incremental.record_hash``), raw

# Titles of the papers at the given positions.
TitlesOf = Callable[[list[int]], list[str]]


def settings_key(tokenizer: KiwiTokenizer) -> str:
    blob = json.dumps(tokenizer.settings.to_dict(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _pack_strings(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = blob.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b].decode("utf-8") for a, b in zip(bounds, bounds[1:])]


class TokenCache:
    """Tokens per text; ``enabled=False`` (a ``--full`` build) tokenizes everything anew."""

    def __init__(self, cache_dir: Path | None, tokenizer: KiwiTokenizer, enabled: bool = True):
        self.tokenizer = tokenizer
        self.path = CacheFiles(cache_dir).tokens(settings_key(tokenizer)) if cache_dir else None
        self.hits = 0
        self.misses = 0
        self._clear()
        if enabled and self.path is not None and self.path.exists():
            try:
                self._load(self.path)
            except Exception:  # a damaged cache only costs time: start over
                self._clear()

    def _clear(self) -> None:
        self.vocab: list[str] = []
        self._term_id: dict[str, int] | None = None
        self._keys = np.zeros((0, KEY_BYTES), dtype=np.uint8)  # text key of each row
        self._row_of: dict[bytes, int] | None = None
        self.ids = np.zeros(0, dtype=np.int32)
        self.offsets = np.zeros(1, dtype=np.int64)
        self._paper_keys = np.zeros((0, PAPER_KEY_BYTES), dtype=np.uint8)
        self._paper_rows = np.zeros(0, dtype=np.int64)  # title row per paper key
        self._paper_of: dict[bytes, int] | None = None
        self._used: list[np.ndarray] = []  # rows this build used: what save keeps
        self._papers_used: tuple[list[bytes], np.ndarray] | None = None

    def _load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            keys = z["keys"]
            ids = z["ids"]
            offsets = z["offsets"]
            vocab = _unpack_strings(z["vocab"], z["vocab_offsets"])
            texts_version = int(z["paper_texts_version"][0]) if "paper_texts_version" in z else None
            if texts_version == PAPER_TEXTS_VERSION and "paper_keys" in z:
                paper_keys, paper_rows = z["paper_keys"], z["paper_rows"]
                if paper_rows.ndim == 2:  # a file from when bodies were here too: (title, body)
                    paper_rows = np.ascontiguousarray(paper_rows[:, 0])
            else:  # memos of texts made another way: keep the texts' tokens, drop the memos
                paper_keys, paper_rows = self._paper_keys, self._paper_rows
        n = keys.shape[0]
        if (
            keys.shape[1:] != (KEY_BYTES,)
            or offsets.shape[0] != n + 1
            or (ids.size and int(ids.max()) >= len(vocab))
            or paper_keys.shape[1:] != (PAPER_KEY_BYTES,)
            or paper_rows.shape != (paper_keys.shape[0],)
            or (paper_rows.size and int(paper_rows.max()) >= n)
        ):
            raise ValueError("inconsistent token cache")
        self._keys, self.ids, self.offsets, self.vocab = keys, ids, offsets, vocab
        self._paper_keys, self._paper_rows = paper_keys, paper_rows

    @property
    def row_of(self) -> dict[bytes, int]:
        """Text key → row. Built on first use: a daily build looks up only new texts."""
        if self._row_of is None:
            self._row_of = key_index(self._keys)
        return self._row_of

    @property
    def term_id(self) -> dict[str, int]:
        if self._term_id is None:
            self._term_id = {t: i for i, t in enumerate(self.vocab)}
        return self._term_id

    def tokenize(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> list[list[str]]:
        """Tokens for each text as strings (unseen texts go to Kiwi)."""
        rows = self.rows(texts, on_progress)
        terms = np.asarray(self.vocab, dtype=object)
        return [terms[self.ids[self.offsets[r] : self.offsets[r + 1]]].tolist() for r in rows.tolist()]

    def rows(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        """The row of each text in :attr:`ids` / :attr:`offsets` (unseen texts go to Kiwi
        and are appended): documents as ids, without making 100k lists of strings."""
        keys = [text_key(t) for t in texts]
        row_of = self.row_of
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in row_of and k not in todo:
                todo[k] = t
        self.misses = len(todo)
        self.hits = len(set(keys)) - self.misses
        if on_progress is not None and len(texts) > len(todo):
            on_progress(len(texts) - len(todo))
        if todo:
            tokens = self.tokenizer.tokenize_many(list(todo.values()), on_progress=on_progress)
            self._append(dict(zip(todo.keys(), tokens)))
        rows = np.fromiter((row_of[k] for k in keys), dtype=np.int64, count=len(keys))
        self._used.append(rows)
        return rows

    def title_rows(
        self, hashes: Sequence[str], titles_of: TitlesOf, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """The title row of each paper given by content hash. ``titles_of`` is asked only
        for papers this cache has not seen; their titles go through :meth:`rows`."""
        if self._paper_of is None:
            self._paper_of = key_index(self._paper_keys)
        keys = [bytes.fromhex(h) for h in hashes]
        known = np.fromiter((self._paper_of.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        missing = np.flatnonzero(known < 0)
        out = np.empty(len(keys), dtype=np.int64)
        out[known >= 0] = self._paper_rows[known[known >= 0]]
        n_known = len(keys) - len(missing)
        if on_progress is not None:
            on_progress(n_known)
        self.hits, self.misses = 0, 0
        if len(missing):
            out[missing] = self.rows(titles_of(missing.tolist()), on_progress)  # sets hits and misses
        self.hits += n_known
        self._used.append(out)
        self._papers_used = (keys, out)
        return out.copy()

    def _append(self, fresh: dict[bytes, list[str]]) -> None:
        """Make freshly tokenized texts cache rows (new terms join the vocabulary)."""
        term_id, row_of = self.term_id, self.row_of
        pieces = [self.ids]
        lengths = []
        for k, toks in fresh.items():
            for t in toks:
                if t not in term_id:
                    term_id[t] = len(self.vocab)
                    self.vocab.append(t)
            pieces.append(np.fromiter((term_id[t] for t in toks), dtype=np.int32, count=len(toks)))
            lengths.append(len(toks))
            row_of[k] = len(self.offsets) - 2 + len(lengths)
        self.ids = np.concatenate(pieces).astype(np.int32, copy=False)
        self.offsets = np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(lengths, dtype=np.int64)])
        new_keys = np.frombuffer(b"".join(fresh), dtype=np.uint8).reshape(len(fresh), KEY_BYTES)
        self._keys = np.concatenate([self._keys, new_keys])

    def save(self) -> None:
        """Keep exactly the texts (and papers) this build used since the cache was loaded."""
        if self.path is None:
            return
        n_rows = len(self.offsets) - 1
        used = np.unique(np.concatenate(self._used)) if self._used else np.zeros(0, dtype=np.int64)
        if len(used) == n_rows:  # the daily case: nothing dropped, rows stay where they are
            ids, offsets, keys = self.ids, self.offsets, self._keys
            remap = None
        else:
            lengths = self.offsets[used + 1] - self.offsets[used]
            ids = gather_segments(self.ids, self.offsets[used], lengths).astype(np.int32, copy=False)
            offsets = np.zeros(len(used) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            keys = self._keys[used]
            remap = np.full(n_rows, -1, dtype=np.int64)
            remap[used] = np.arange(len(used))
        paper_keys, paper_rows = self._paper_keys[:0], self._paper_rows[:0]
        if self._papers_used is not None:
            pkeys, prows = self._papers_used
            unique = dict(zip(pkeys, range(len(pkeys))))  # a hash twice has the same rows
            pick = np.fromiter(unique.values(), dtype=np.int64, count=len(unique))
            paper_keys = np.frombuffer(b"".join(unique), dtype=np.uint8).reshape(len(unique), PAPER_KEY_BYTES)
            paper_rows = prows[pick] if remap is None else remap[prows[pick]]
        vocab_blob, vocab_offsets = _pack_strings(self.vocab)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(self.path, binary=True) as f:
            np.savez(
                f, keys=keys, ids=ids, offsets=offsets, vocab=vocab_blob, vocab_offsets=vocab_offsets,
                paper_keys=paper_keys, paper_rows=paper_rows,
                paper_texts_version=np.array([PAPER_TEXTS_VERSION], dtype=np.int64),
            )
