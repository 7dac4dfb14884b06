"""Passage embeddings cached by text, per model: only new or changed papers are encoded.

``ROOT/cache/embeddings/<model-key>/`` holds ``keys.json`` (the model description, the
hex text keys in row order, the name of the vectors file, and each paper content hash
of the last build with its row) and that ``vectors-<nonce>.npy``: for a build, a hard
link to the build's own ``dense/<leg>/vectors.npy``, which holds exactly those rows. ``keys.json`` is
written last, by rename: it is the commit point, so a build killed mid-save leaves the
previous pair intact (plus an orphan ``.npy`` the next save removes).

Passages are embedded ``CHUNK`` at a time, and each chunk is committed as it is done
(``chunk-<nonce>.npy``, then the ``chunk-<nonce>.json`` naming its keys): a build killed
mid-embedding (an hour into 100k papers) loses at most one chunk, and the next build
takes every committed one. A finished build folds them into ``keys.json`` and removes
them.

The paper hashes let a build find an unchanged paper's vector without making its
passage text, so a daily build decodes only its new papers (see ``index.parse.corpus``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.artifacts.incremental import text_key
from index.storage import write_json
from search.core.layout import (
    EMBEDDING_CHUNK_KEYS,
    EMBEDDING_CHUNK_VECTORS,
    EMBEDDING_KEYS,
    EMBEDDING_VECTORS,
    CacheFiles,
    read_json,
)
from search.core.records import PAPER_TEXTS_VERSION


class PassageEncoder(Protocol):
    def describe(self) -> dict[str, Any]: ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def model_key(description: dict[str, Any]) -> str:
    blob = json.dumps(description, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


# Passages a chunk: ~6 s of e5 on this 2-core machine, so little is lost to a kill.
CHUNK = 64

# Called after every chunk with (passages embedded, passages to embed) of this leg.
Progress = Callable[[int, int], None]


class EmbeddingCache:
    def __init__(
        self, cache_dir: Path | None, description: dict[str, Any], enabled: bool = True,
        on_progress: Progress | None = None,
    ):
        self.description = description
        self.dir = CacheFiles(cache_dir).embeddings(model_key(description)) if cache_dir else None
        self.row_of: dict[str, int] = {}
        self.keys: list[str] = []  # text key of each cached row
        self.paper_row: dict[str, int] = {}  # paper content hash → cached row
        self.vectors: np.ndarray | None = None
        self.hits = 0
        self.misses = 0
        self.encode_seconds = 0.0  # time spent in the model, for reports
        self._pending: tuple[list[str], list[str]] | None = None  # keys and hashes of encode_papers
        self.on_progress = on_progress
        self.chunks: list[Path] = []  # committed chunk files of an unfinished build
        if enabled and self.dir is not None and (self.dir / EMBEDDING_KEYS).exists():
            try:
                self._load()
            except Exception:  # a damaged cache only costs time
                self.row_of, self.keys, self.paper_row, self.vectors = {}, [], {}, None
        if enabled and self.dir is not None:
            self._load_chunks()

    def _load(self) -> None:
        assert self.dir is not None
        meta = read_json(self.dir / EMBEDDING_KEYS)
        if meta.get("model") != self.description:
            return
        vectors = np.load(self.dir / meta["vectors"], mmap_mode="r", allow_pickle=False)
        if vectors.ndim != 2 or vectors.shape[0] != len(meta["keys"]):
            raise ValueError("embedding cache keys and vectors disagree")
        papers = meta.get("papers") or {}
        if papers.get("texts_version") != PAPER_TEXTS_VERSION:  # memos of texts made another way
            papers = {"hashes": [], "rows": []}
        if len(papers["hashes"]) != len(papers["rows"]) or any(not 0 <= r < len(meta["keys"]) for r in papers["rows"]):
            raise ValueError("embedding cache paper rows out of range")
        self.vectors = vectors
        self.keys = list(meta["keys"])
        self.row_of = {k: i for i, k in enumerate(self.keys)}
        self.paper_row = dict(zip(papers["hashes"], papers["rows"]))

    def _load_chunks(self) -> None:
        """The chunks an unfinished build committed: their vectors join the cached ones
        (held in memory: a resume, not the daily path)."""
        assert self.dir is not None
        extra_keys: list[str] = []
        extra: list[np.ndarray] = []
        for meta_path in sorted(self.dir.glob(EMBEDDING_CHUNK_KEYS.format(nonce="*"))):
            try:
                meta = read_json(meta_path)
                if meta.get("model") != self.description:
                    continue
                vectors = np.load(self.dir / meta["vectors"], allow_pickle=False)
                if vectors.ndim != 2 or vectors.shape[0] != len(meta["keys"]):
                    continue
            except Exception:  # a damaged chunk only costs its passages' time
                continue
            extra_keys += meta["keys"]
            extra.append(np.asarray(vectors, dtype=np.float32))
            self.chunks.append(meta_path)
        if not extra:
            return
        stacked = np.concatenate(extra)
        if self.vectors is not None and self.vectors.shape[1] != stacked.shape[1]:
            return
        base = 0 if self.vectors is None else len(self.keys)
        self.vectors = stacked if self.vectors is None else np.concatenate([np.asarray(self.vectors), stacked])
        self.keys = self.keys + extra_keys
        for i, k in enumerate(extra_keys):
            self.row_of.setdefault(k, base + i)

    def encode_papers(
        self,
        hashes: Sequence[str],
        texts_of: Callable[[list[int]], list[str]],
        encoder: PassageEncoder,
        progress: bool = False,
        start: int = 0,
    ) -> np.ndarray:
        """The vectors of papers ``start:``, given by content hash; ``texts_of`` is asked
        for the passage texts of papers not seen in the last build only. The rows before
        ``start`` (the served build's, which the caller copies) get no vector here, only
        their cache key. :meth:`save_papers` then makes all these rows the cache."""
        known = np.fromiter((self.paper_row.get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
        missing = np.flatnonzero(known < 0)
        keys: list[str] = [""] * len(hashes)
        for i in np.flatnonzero(known >= 0).tolist():
            keys[i] = self.keys[known[i]]
        self.hits = self.misses = 0
        fresh = None
        if len(missing):
            texts = texts_of(missing.tolist())
            text_keys = [text_key(t).hex() for t in texts]
            for i, k in zip(missing.tolist(), text_keys):
                keys[i] = k
            wanted = [n for n, i in enumerate(missing.tolist()) if i >= start]
            if wanted:
                fresh = self._vectors([text_keys[n] for n in wanted], [texts[n] for n in wanted], encoder, progress)
            missing = missing[missing >= start]
        has = np.flatnonzero(known[start:] >= 0) + start
        dim = fresh.shape[1] if fresh is not None else (self.vectors.shape[1] if self.vectors is not None else 0)
        out = np.empty((len(hashes) - start, dim), dtype=np.float32)
        if len(has):
            assert self.vectors is not None
            rows = known[has]
            if rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
                out[has - start] = self.vectors[rows[0] : rows[-1] + 1]  # one sequential read
            else:
                out[has - start] = self.vectors[rows]
        if fresh is not None and len(missing):
            out[missing - start] = fresh
        self.hits += len(has)
        self._pending = (keys, list(hashes))
        return out

    def save_papers(self, written: Path) -> None:
        """Make the rows of the last :meth:`encode_papers` the cache, one row per paper.
        ``written`` is the build's own ``.npy`` holding exactly those rows: it is
        hard-linked rather than written again (150 MB at 100k papers), or copied where
        the file system has no hard links."""
        if self.dir is None or self._pending is None:
            return
        keys, hashes = self._pending
        self.dir.mkdir(parents=True, exist_ok=True)
        name = EMBEDDING_VECTORS.format(nonce=uuid.uuid4().hex[:12])
        with open(written, "rb") as f:  # on disk before keys.json names it
            os.fsync(f.fileno())
        try:
            os.link(written, self.dir / name)
        except OSError:
            shutil.copyfile(written, self.dir / name)
        self._commit(name, keys, {"texts_version": PAPER_TEXTS_VERSION, "hashes": hashes, "rows": list(range(len(keys)))})

    def _vectors(self, keys: list[str], texts: Sequence[str], encoder: PassageEncoder, progress: bool) -> np.ndarray:
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.row_of and k not in todo:
                todo[k] = t
        self.misses = len(todo)
        self.hits = len(set(keys)) - self.misses
        t = time.perf_counter()
        fresh = self._encode_in_chunks(list(todo), list(todo.values()), encoder, progress) if todo else None
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

    def _encode_in_chunks(self, keys: list[str], texts: list[str], encoder: PassageEncoder, progress: bool) -> np.ndarray:
        """Every text's vector, ``CHUNK`` at a time, each chunk committed to the cache as
        it is done (a killed build resumes from them) and reported to ``on_progress``."""
        from tqdm import tqdm

        parts: list[np.ndarray] = []
        if self.on_progress is not None:
            self.on_progress(0, len(texts))  # the start: rates are timed from here
        with tqdm(total=len(texts), desc="embedding", unit="paper", disable=not progress) as bar:
            for start in range(0, len(texts), CHUNK):
                vectors = encoder.encode_passages(texts[start : start + CHUNK])
                parts.append(vectors)
                self._commit_chunk(keys[start : start + CHUNK], vectors)
                bar.update(len(vectors))
                if self.on_progress is not None:
                    self.on_progress(min(start + CHUNK, len(texts)), len(texts))
        return np.concatenate(parts)

    def _commit_chunk(self, keys: list[str], vectors: np.ndarray) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        nonce = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"  # sorted: the order chunks were made
        name = EMBEDDING_CHUNK_VECTORS.format(nonce=nonce)
        with open(self.dir / name, "wb") as f:
            np.save(f, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        meta_path = self.dir / EMBEDDING_CHUNK_KEYS.format(nonce=nonce)
        write_json(meta_path, {"model": self.description, "vectors": name, "keys": keys}, indent=None)
        self.chunks.append(meta_path)

    def _drop_chunks(self) -> None:
        """Once ``keys.json`` holds every row, the chunks are redundant."""
        for meta_path in self.chunks:
            try:
                name = read_json(meta_path).get("vectors")
            except Exception:
                name = None
            meta_path.unlink(missing_ok=True)
            if name:
                (meta_path.parent / name).unlink(missing_ok=True)
        self.chunks = []

    def _commit(self, name: str, keys: list[str], papers: dict[str, list[Any]]) -> None:
        """``keys.json`` names the vectors file: written last, it is the commit point."""
        assert self.dir is not None
        meta = {"model": self.description, "vectors": name, "keys": keys, "papers": papers}
        write_json(self.dir / EMBEDDING_KEYS, meta, indent=None)  # 100k keys: the compact encoder is 5x faster
        for old in self.dir.glob(EMBEDDING_VECTORS.format(nonce="*")):
            if old.name != name:
                old.unlink(missing_ok=True)
        self._drop_chunks()
