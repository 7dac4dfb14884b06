"""The one module that knows the index folder on disk: the path of every artifact and
cache, and the readers the query side uses. What writes them lives in ``index/storage.py``
(write-then-rename, the build lock, staging, publishing, clean-up) and the ``index/``
modules that make each artifact; they take every path from here.

An index root holds every build and points at the served one with a symlink::

    ROOT/
      current -> builds/20261122T011500-ab12cd   (swapped atomically with os.replace)
      build.lock               held (flock) by the running build; holds its pid
      embedding.json           a progressive build's embedding progress (while it embeds)
      builds/<build-id>/
        manifest.json          what built it: format, counts, tokenizer, model, corpus hash
        papers.jsonl           one Paper record per line, row order = BM25/FAISS row order
        paper_hashes.json      (id, content hash) per row, for incremental builds
        glossary.json          mined Korean<->English term pairs for query expansion
        bm25/                  bm25s's files, saved with allow_pickle=False:
          data.csc.index.npy  indices.csc.index.npy  indptr.csc.index.npy
          params.index.json  vocab.index.json
        dense/<leg>/           one folder per dense leg (none in BM25-only builds)
          vectors.npy          the leg's normalised float32 embeddings, row-aligned
          faiss.index          FAISS index over them
          moments.npy          the vectors' mean and covariance (z-score fusion, search/pipeline/fusion.py)
        snippets/              each snippet field's kept morphemes, row-aligned with
          terms.npy  starts.npy  lengths.npy   papers.jsonl: highlighting reads them
          field_offsets.npy  paper_fields.npy  instead of running Kiwi per request, and
          vocab.json  text_keys.npy            they are the BM25 bodies
      builds/.staging-<id>/    a build being written (removed if it fails)
      cache/                   build caches reused across builds (only builds read them)
        parsed.jsonl           parsed digests per file, keyed by path and content hash
        tokens/<settings>.npz  Kiwi tokens per title, one file per tokenizer settings
        embeddings/<model>/    per encoder: keys.json and the vectors-<nonce>.npy it names,
                               chunk-<nonce>.json/.npy of a build still embedding

A directory cannot be renamed over a non-empty one atomically, but a symlink can be
replaced atomically, so a reader that resolves ``current`` once sees either the old build
or the new one, never a half-written folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from search.core.errors import IndexCorrupt, IndexNotFound
from search.core.manifest import Manifest

MANIFEST = "manifest.json"
PAPERS = "papers.jsonl"
BM25_DIR = "bm25"
DENSE_DIR = "dense"
VECTORS = "vectors.npy"
FAISS_INDEX = "faiss.index"
MOMENTS = "moments.npy"  # the leg's vectors' mean (row 0) and covariance: z-score fusion
GLOSSARY = "glossary.json"
SNIPPETS_DIR = "snippets"
# Kept morphemes of every snippet field, flat: term id (int32), start (int32) and length
# (uint16) of the surface form in the field's text; FIELD_OFFSETS slices them per field,
# PAPER_FIELDS slices fields per papers.jsonl row; SNIPPET_VOCAB names the term ids.
SNIPPET_TERMS = "terms.npy"
SNIPPET_STARTS = "starts.npy"
SNIPPET_LENGTHS = "lengths.npy"
SNIPPET_FIELD_OFFSETS = "field_offsets.npy"
SNIPPET_PAPER_FIELDS = "paper_fields.npy"
SNIPPET_VOCAB = "vocab.json"
# 16-byte key of each row's snippet texts: a later build reuses a row whose record changed
# (a new source, upvotes) but whose texts did not, without Kiwi.
SNIPPET_TEXT_KEYS = "text_keys.npy"
# (id, content hash) of each papers.jsonl row, so an incremental build need not re-hash them.
PAPER_HASHES = "paper_hashes.json"
CURRENT = "current"
BUILDS_DIR = "builds"
STAGING_PREFIX = ".staging-"  # builds/.staging-<id>: dot-prefixed, so never served
NEXT_LINK_PREFIX = ".current-"  # ROOT/.current-<id>: the new link, renamed over ``current``
LOCK = "build.lock"
EMBEDDING_STATUS = "embedding.json"  # a progressive build's progress, while it embeds
CACHE_DIR = "cache"
PARSED_CACHE = "parsed.jsonl"
TOKENS_CACHE_DIR = "tokens"
EMBEDDINGS_CACHE_DIR = "embeddings"
EMBEDDING_KEYS = "keys.json"  # names the vectors file: EMBEDDING_VECTORS, one nonce
EMBEDDING_VECTORS = "vectors-{nonce}.npy"
# Passages embedded by a build that has not finished, committed a chunk at a time (the
# .json names the .npy and is written last): the next build resumes from them.
EMBEDDING_CHUNK_KEYS = "chunk-{nonce}.json"
EMBEDDING_CHUNK_VECTORS = "chunk-{nonce}.npy"
KEEP_BUILDS = 3  # the served one plus two older ones, so a server mid-reload never loses files


def default_index_root() -> Path:
    """``PAPERSEARCH_INDEX``, else ``$XDG_DATA_HOME/papersearch/index`` (~/.local/share/...)."""
    env = os.environ.get("PAPERSEARCH_INDEX")
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "papersearch" / "index"


class IndexLayout:
    """Paths of one index root, and reading of its served build."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()

    @property
    def current_link(self) -> Path:
        return self.root / CURRENT

    @property
    def builds_dir(self) -> Path:
        return self.root / BUILDS_DIR

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK

    @property
    def embedding_status(self) -> Path:
        """What a progressive build's embedding is doing (``search/core/embedding_status.py``)."""
        return self.root / EMBEDDING_STATUS

    def current_build(self) -> Path:
        """The served build folder, resolved once so later swaps do not affect the caller."""
        link = self.current_link
        if not link.is_symlink() and not link.exists():
            raise IndexNotFound(
                f"no index at {self.root}: run `papersearch index build` (or pass --index)"
            )
        target = link.resolve()
        if not target.is_dir():
            raise IndexCorrupt(f"index at {self.root} points at a missing build {target.name}")
        return target

    def has_index(self) -> bool:
        try:
            self.current_build()
        except (IndexNotFound, IndexCorrupt):
            return False
        return True


class BuildFiles:
    """Paths inside one build folder, and the readers the query side uses."""

    def __init__(self, path: Path) -> None:
        self.path = path

    manifest = property(lambda self: self.path / MANIFEST)
    papers = property(lambda self: self.path / PAPERS)
    bm25 = property(lambda self: self.path / BM25_DIR)
    dense = property(lambda self: self.path / DENSE_DIR)

    def leg_vectors(self, leg: str) -> Path:
        return self.path / DENSE_DIR / leg / VECTORS

    def leg_faiss(self, leg: str) -> Path:
        return self.path / DENSE_DIR / leg / FAISS_INDEX

    def leg_moments(self, leg: str) -> Path:
        return self.path / DENSE_DIR / leg / MOMENTS

    glossary = property(lambda self: self.path / GLOSSARY)
    paper_hashes = property(lambda self: self.path / PAPER_HASHES)
    snippets = property(lambda self: self.path / SNIPPETS_DIR)
    snippet_terms = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_TERMS)
    snippet_starts = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_STARTS)
    snippet_lengths = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_LENGTHS)
    snippet_field_offsets = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_FIELD_OFFSETS)
    snippet_paper_fields = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_PAPER_FIELDS)
    snippet_vocab = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_VOCAB)
    snippet_text_keys = property(lambda self: self.path / SNIPPETS_DIR / SNIPPET_TEXT_KEYS)

    def read_manifest(self) -> Manifest:
        """The build's typed manifest (``search/core/manifest.py``): another format is
        ``IndexIncompatible``, a damaged one ``IndexCorrupt``."""
        return Manifest.from_dict(read_json(self.manifest), where=str(self.path))

    def iter_papers(self) -> Iterator[dict[str, Any]]:
        yield from read_jsonl(self.papers)


class CacheFiles:
    """Paths of the build caches in one cache folder (``ROOT/cache``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    parsed = property(lambda self: self.path / PARSED_CACHE)

    def tokens(self, settings_key: str) -> Path:
        """The token cache for one tokenizer-settings hash."""
        return self.path / TOKENS_CACHE_DIR / f"{settings_key}.npz"

    def embeddings(self, model_key: str) -> Path:
        """The folder of one encoder's embedding cache (``keys.json`` + vectors file)."""
        return self.path / EMBEDDINGS_CACHE_DIR / model_key


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError as e:
        raise IndexCorrupt(f"index file missing: {path}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise IndexCorrupt(f"index file unreadable: {path} ({e})") from e


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield json.loads(line)
    except FileNotFoundError as e:
        raise IndexCorrupt(f"index file missing: {path}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise IndexCorrupt(f"index file unreadable: {path} ({e})") from e
