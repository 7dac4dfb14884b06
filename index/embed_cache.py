"""Passage embeddings cached by text, per model: only new or changed papers are encoded.

``ROOT/cache/embeddings/<model-key>/`` holds ``keys.json`` (the model description, the
hex text keys in row order, the name of the vectors file, and each paper content hash
of the last build with its row) and that ``vectors-<nonce>.npy``. ``keys.json`` is
written last, by rename: it is the commit point, so a build killed mid-save leaves the
previous pair intact (plus an orphan ``.npy`` the next save removes).

The paper hashes let a build find an unchanged paper's vector without making its
passage text, so a daily build decodes only its new papers (see ``index.corpus``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from search.layout import read_json, write_json

KEYS = "keys.json"


class PassageEncoder(Protocol):
    def describe(self) -> dict[str, Any]: ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def model_key(description: dict[str, Any]) -> str:
    blob = json.dumps(description, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class EmbeddingCache:
    def __init__(self, cache_dir: Path | None, description: dict[str, Any], enabled: bool = True):
        self.description = description
        self.dir = cache_dir / "embeddings" / model_key(description) if cache_dir else None
        self.row_of: dict[str, int] = {}
        self.keys: list[str] = []  # text key of each cached row
        self.paper_row: dict[str, int] = {}  # paper content hash → cached row
        self.vectors: np.ndarray | None = None
        self.hits = 0
        self.misses = 0
        self.encode_seconds = 0.0  # time spent in the model, for reports
        if enabled and self.dir is not None and (self.dir / KEYS).exists():
            try:
                self._load()
            except Exception:  # a damaged cache only costs time
                self.row_of, self.keys, self.paper_row, self.vectors = {}, [], {}, None

    def _load(self) -> None:
        assert self.dir is not None
        meta = read_json(self.dir / KEYS)
        if meta.get("model") != self.description:
            return
        vectors = np.load(self.dir / meta["vectors"], mmap_mode="r", allow_pickle=False)
        if vectors.ndim != 2 or vectors.shape[0] != len(meta["keys"]):
            raise ValueError("embedding cache keys and vectors disagree")
        papers = meta.get("papers") or {"hashes": [], "rows": []}
        if len(papers["hashes"]) != len(papers["rows"]) or any(not 0 <= r < len(meta["keys"]) for r in papers["rows"]):
            raise ValueError("embedding cache paper rows out of range")
        self.vectors = vectors
        self.keys = list(meta["keys"])
        self.row_of = {k: i for i, k in enumerate(self.keys)}
        self.paper_row = dict(zip(papers["hashes"], papers["rows"]))

    def encode_papers(
        self,
        hashes: Sequence[str],
        texts_of: Callable[[list[int]], list[str]],
        encoder: PassageEncoder,
        progress: bool = False,
    ) -> np.ndarray:
        """One vector per paper, given by content hash; ``texts_of`` is asked for the
        passage texts of papers not seen in the last build only. The cache is then
        rewritten with exactly this build's texts and papers."""
        known = np.fromiter((self.paper_row.get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
        missing = np.flatnonzero(known < 0)
        has = np.flatnonzero(known >= 0)
        keys: list[str] = [""] * len(hashes)
        for i, r in zip(has.tolist(), known[has].tolist()):
            keys[i] = self.keys[r]
        fresh = None
        self.hits = self.misses = 0
        if len(missing):
            texts = texts_of(missing.tolist())
            text_keys = [text_key(t) for t in texts]
            fresh = self._vectors(text_keys, texts, encoder, progress)  # sets hits and misses
            for i, k in zip(missing.tolist(), text_keys):
                keys[i] = k
        dim = fresh.shape[1] if fresh is not None else self.vectors.shape[1]  # type: ignore[union-attr]
        out = np.empty((len(hashes), dim), dtype=np.float32)
        if len(has):
            assert self.vectors is not None
            out[has] = self.vectors[known[has]]
        if fresh is not None:
            out[missing] = fresh
        self.hits += len(has)
        self._save(keys, out, hashes)
        return out

    def encode(self, texts: Sequence[str], encoder: PassageEncoder, progress: bool = False) -> np.ndarray:
        """One normalised vector per text; only texts not cached go through the model.
        The cache is then rewritten with exactly these texts."""
        keys = [text_key(t) for t in texts]
        out = self._vectors(keys, texts, encoder, progress)
        self._save(keys, out)
        return out

    def _vectors(self, keys: list[str], texts: Sequence[str], encoder: PassageEncoder, progress: bool) -> np.ndarray:
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.row_of and k not in todo:
                todo[k] = t
        self.misses = len(todo)
        self.hits = len(set(keys)) - self.misses
        t = time.perf_counter()
        fresh = encoder.encode_passages(list(todo.values()), progress=progress) if todo else None
        self.encode_seconds += time.perf_counter() - t
        fresh_row = {k: i for i, k in enumerate(todo)}
        dim = fresh.shape[1] if fresh is not None else self.vectors.shape[1]  # type: ignore[union-attr]
        out = np.empty((len(keys), dim), dtype=np.float32)
        cached_pos = [i for i, k in enumerate(keys) if k in self.row_of]
        if cached_pos:
            assert self.vectors is not None
            out[cached_pos] = self.vectors[[self.row_of[keys[i]] for i in cached_pos]]
        fresh_pos = [i for i, k in enumerate(keys) if k in fresh_row]
        if fresh_pos:
            assert fresh is not None
            out[fresh_pos] = fresh[[fresh_row[keys[i]] for i in fresh_pos]]
        return out

    def _save(self, keys: list[str], vectors: np.ndarray, hashes: Sequence[str] = ()) -> None:
        """Rewrite the cache with these rows; ``hashes`` (one per row, when the rows are
        papers) become the paper → row memo."""
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        unique = {k: i for i, k in enumerate(keys)}  # last row wins; rows are equal anyway
        rows = np.fromiter(unique.values(), dtype=np.int64, count=len(unique))
        new_row = {k: n for n, k in enumerate(unique)}
        papers = {"hashes": list(hashes), "rows": [new_row[k] for k in keys] if hashes else []}
        name = f"vectors-{uuid.uuid4().hex[:12]}.npy"
        with open(self.dir / name, "wb") as f:
            np.save(f, np.ascontiguousarray(vectors[rows]), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        meta = {"model": self.description, "vectors": name, "keys": list(unique), "papers": papers}
        write_json(self.dir / KEYS, meta, indent=None)  # 100k keys: the compact encoder is 5x faster
        for old in self.dir.glob("vectors-*.npy"):
            if old.name != name:
                old.unlink(missing_ok=True)
