"""Kiwi output cached by text: Kiwi is the slow part of a build (tens of thousands of
characters a second), so a text is tokenized once, across builds.

One ``.npz`` file per tokenizer-settings hash under ``ROOT/cache/tokens/``, holding
plain arrays only (no pickle): 16-byte blake2b text keys, all token ids concatenated
with per-text offsets, and the vocabulary as one UTF-8 blob with offsets. At a million
papers this is a few hundred megabytes of int32 that loads in a second, where JSONL was
gigabytes of text to parse. It is rewritten (write-then-rename, so a killed build
leaves the old file) with only the texts the last build used, so it cannot grow
without bound.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.bm25_build import gather_segments
from search.layout import atomic_file
from search.tokenizer import KiwiTokenizer

KEY_BYTES = 16


def settings_key(tokenizer: KiwiTokenizer) -> str:
    blob = json.dumps(tokenizer.settings.to_dict(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


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
        self.path = cache_dir / "tokens" / f"{settings_key(tokenizer)}.npz" if cache_dir else None
        self.fresh: dict[bytes, list[str]] = {}  # tokenized in this build
        self.hits = 0
        self.misses = 0
        self._used: list[bytes] = []
        self._clear()
        if enabled and self.path is not None and self.path.exists():
            try:
                self._load(self.path)
            except Exception:  # a damaged cache only costs time: start over
                self._clear()

    def _clear(self) -> None:
        self.vocab: list[str] = []
        self.term_id: dict[str, int] = {}
        self.row_of: dict[bytes, int] = {}  # cached text key → row in ids/offsets
        self.ids = np.zeros(0, dtype=np.int32)
        self.offsets = np.zeros(1, dtype=np.int64)

    def _load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            keys = z["keys"]
            self.ids = z["ids"]
            self.offsets = z["offsets"]
            self.vocab = _unpack_strings(z["vocab"], z["vocab_offsets"])
        raw = keys.tobytes()
        n = keys.shape[0]
        if self.offsets.shape[0] != n + 1 or (self.ids.size and int(self.ids.max()) >= len(self.vocab)):
            raise ValueError("inconsistent token cache")
        self.row_of = {raw[i * KEY_BYTES : (i + 1) * KEY_BYTES]: i for i in range(n)}
        self.term_id = {t: i for i, t in enumerate(self.vocab)}

    def tokenize(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> list[list[str]]:
        """Tokens for each text; unseen distinct texts go to Kiwi in one batch."""
        keys = [text_key(t) for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.row_of and k not in self.fresh and k not in todo:
                todo[k] = t
        self.misses = len(todo)
        self.hits = len(set(keys)) - self.misses
        if on_progress is not None and len(texts) > len(todo):
            on_progress(len(texts) - len(todo))
        if todo:
            tokens = self.tokenizer.tokenize_many(list(todo.values()), on_progress=on_progress)
            self.fresh.update(zip(todo.keys(), tokens))
        self._used = keys
        # Ids → strings for all cached rows at once (one numpy gather), then slice per text.
        terms = np.asarray(self.vocab, dtype=object)[self.ids] if self.vocab else np.zeros(0, dtype=object)
        bounds = self.offsets
        out: list[list[str]] = []
        for k in keys:
            row = self.row_of.get(k)
            if row is None:
                out.append(self.fresh[k])
            else:
                out.append(terms[bounds[row] : bounds[row + 1]].tolist())
        return out

    def rows(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        """The row of each text in :attr:`ids` / :attr:`offsets` (unseen texts go to Kiwi
        and are appended): documents as ids, without making 100k lists of strings."""
        keys = [text_key(t) for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.row_of and k not in todo:
                todo[k] = t
        self.misses = len(todo)
        self.hits = len(set(keys)) - self.misses
        if on_progress is not None and len(texts) > len(todo):
            on_progress(len(texts) - len(todo))
        if todo:
            tokens = self.tokenizer.tokenize_many(list(todo.values()), on_progress=on_progress)
            self._append(dict(zip(todo.keys(), tokens)))
        self._used = keys
        return np.fromiter((self.row_of[k] for k in keys), dtype=np.int64, count=len(keys))

    def _append(self, fresh: dict[bytes, list[str]]) -> None:
        """Make freshly tokenized texts cache rows (new terms join the vocabulary)."""
        pieces = [self.ids]
        lengths = []
        for k, toks in fresh.items():
            for t in toks:
                if t not in self.term_id:
                    self.term_id[t] = len(self.vocab)
                    self.vocab.append(t)
            pieces.append(np.fromiter((self.term_id[t] for t in toks), dtype=np.int32, count=len(toks)))
            lengths.append(len(toks))
            self.row_of[k] = len(self.offsets) - 2 + len(lengths)
        self.ids = np.concatenate(pieces).astype(np.int32, copy=False)
        self.offsets = np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(lengths, dtype=np.int64)])

    def save(self) -> None:
        """Keep exactly the texts the last :meth:`tokenize` call used."""
        if self.path is None:
            return
        keys = list(dict.fromkeys(self._used))
        if self.fresh:  # texts from :meth:`tokenize`: make them rows first
            self._append({k: v for k, v in self.fresh.items() if k not in self.row_of})
            self.fresh = {}
        rows = np.fromiter((self.row_of[k] for k in keys), dtype=np.int64, count=len(keys))
        lengths = self.offsets[rows + 1] - self.offsets[rows]
        ids = gather_segments(self.ids, self.offsets[rows], lengths).astype(np.int32, copy=False)
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        vocab_blob, vocab_offsets = _pack_strings(self.vocab)
        key_arr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(self.path, binary=True) as f:
            np.savez(f, keys=key_arr, ids=ids, offsets=offsets, vocab=vocab_blob, vocab_offsets=vocab_offsets)
