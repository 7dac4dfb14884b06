"""Publish a local build to Milvus: a new collection, then the alias moved to it.

The local build (``index/build.py``) stays the one place that parses, tokenizes, scores
BM25 and embeds, with its caches; this module sends its outputs as they are. Each paper's
BM25 row (the weight of every term it contains, from the saved bm25s matrix) becomes a
sparse vector searched by inner product, so a query's weighted terms (glossary expansions
included) score exactly as ``search/legs/bm25.py`` scores them. Milvus's own BM25 function
would re-tokenize with its analyzers (no Kiwi morphemes, no expansion weights) and give
other scores.

Every build is a full new collection: BM25 weights depend on the corpus-wide idf and mean
document length, so adding papers changes every row's weights, and upserting only the new
rows would leave the others stale. The alias moves only after the collection is complete,
counted and loaded: a build killed before that leaves a collection no alias points at,
which the next build drops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from search.core.errors import IndexCorrupt
from search.core.layout import BuildFiles
from search.core.manifest import DenseLegSpec, Manifest
from search.legs.bm25 import BM25Matrix
from search.legs.dense import read_moments
from search.stores.milvus_client import (
    DEFAULT_ALIAS,
    build_collections,
    collection_name,
    connect,
    leg_field,
    meta_name,
    milvus_errors,
    served_collection,
    write_lexicon,
)

BATCH_ROWS = 500  # rows per insert: ~3 MB of records and vectors, far below gRPC's 64 MB
MAX_JSON_BYTES = 60_000  # Milvus caps a JSON field at 64 KB; longer records are trimmed
# The served collection and the one before it: a server that has not reloaded yet still
# finds the collection it resolved (the local engine keeps builds for the same reason).
KEEP_COLLECTIONS = 2


@dataclass
class PublishReport:
    uri: str
    alias: str
    collection: str
    previous: str | None
    papers: int
    legs: list[str]
    dropped: list[str] = field(default_factory=list)
    trimmed: int = 0  # records shortened to fit Milvus's JSON limit
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def publish_build(
    build_dir: Path,
    uri: str,
    alias: str = DEFAULT_ALIAS,
    log: Callable[[str], None] = lambda _msg: None,
    batch_rows: int = BATCH_ROWS,
) -> PublishReport:
    """Write the build at ``build_dir`` as a new collection and point ``alias`` at it."""
    with milvus_errors("publishing to " + uri):
        return _publish(build_dir, uri, alias, log, batch_rows)


def _publish(build_dir: Path, uri: str, alias: str, log: Callable[[str], None], batch_rows: int) -> PublishReport:
    t0 = time.perf_counter()
    files = BuildFiles(build_dir)
    manifest = files.read_manifest()
    client = connect(uri)
    name = collection_name(alias, manifest.build_id)
    previous = served_collection(client, alias)
    legs = list(manifest.dense_legs)  # one Milvus field per leg
    report = PublishReport(uri, alias, name, previous, manifest.papers, [leg.name for leg in legs])
    if previous == name:
        log(f"Milvus alias {alias!r} already serves build {manifest.build_id}")
        report.seconds = time.perf_counter() - t0
        return report
    bm25 = _bm25_rows(files.bm25)
    for c in (name, meta_name(name)):  # a killed earlier publish of this very build
        if client.has_collection(c):
            client.drop_collection(c)
    _create_collection(client, name, legs, manifest)
    vectors = {leg.name: _load_vectors(files, leg, report.papers) for leg in legs}
    records = files.iter_papers()
    rows = 0
    for start in range(0, report.papers, batch_rows):
        stop = min(start + batch_rows, report.papers)
        batch = []
        for i, sparse in zip(range(start, stop), bm25.rows(start, stop)):
            record, trimmed = _fit_record(next(records))
            report.trimmed += trimmed
            row = {
                "id": record["id"],
                "date": record.get("date") or "",
                "upvotes": int(record.get("upvotes") or 0),
                "record": record,
                "bm25": sparse,
            }
            for leg in legs:
                row[leg_field(leg.name)] = vectors[leg.name][i].tolist()
            batch.append(row)
        client.insert(name, batch)
        rows += len(batch)
        log(f"milvus: {rows}/{report.papers} papers")
    client.flush(name)
    counted = int(client.get_collection_stats(name)["row_count"])
    if counted != report.papers:
        raise IndexCorrupt(f"Milvus collection {name} holds {counted} rows, not {report.papers}; alias not moved")
    # Each dense leg's corpus moments, as the local engine reads them: z-score fusion.
    moments = {leg.name: read_moments(files.leg_moments(leg.name), vectors[leg.name]).tolist() for leg in legs}
    write_lexicon(
        client, name,
        {"manifest": manifest.to_dict(), "vocab": bm25.vocab, "df": bm25.df, "glossary": _glossary(files), "moments": moments},
    )
    client.load_collection(name)  # the first query after the swap should not pay for loading
    if previous is None:
        client.create_alias(name, alias)
    else:
        client.alter_alias(name, alias)
    report.dropped = _drop_old(client, alias, keep={name, previous})
    report.seconds = time.perf_counter() - t0
    return report


def _create_collection(client: Any, name: str, legs: list[DenseLegSpec], manifest: Manifest) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("date", DataType.VARCHAR, max_length=10)
    schema.add_field("upvotes", DataType.INT64)
    schema.add_field("record", DataType.JSON)
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    index = client.prepare_index_params()
    # drop_ratio_build 0: keep every posting, so sparse search is exact, like the local BM25.
    index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="IP", params={"drop_ratio_build": 0.0})
    for leg in legs:
        schema.add_field(leg_field(leg.name), DataType.FLOAT_VECTOR, dim=leg.dim)
        index.add_index(leg_field(leg.name), metric_type="IP", **_dense_index(dict(leg.index)))
    for scalar in ("date", "upvotes"):  # filters on millions of rows should not scan
        index.add_index(scalar, index_type="INVERTED")
    client.create_collection(name, schema=schema, index_params=index, properties={"papersearch.build_id": manifest.build_id})


def _dense_index(spec: dict[str, Any]) -> dict[str, Any]:
    """The local build's index choice (exact below 20k papers, HNSW above) in Milvus terms."""
    if spec.get("type") == "hnsw":
        return {"index_type": "HNSW", "params": {"M": int(spec.get("M", 32)), "efConstruction": int(spec.get("efConstruction", 200))}}
    return {"index_type": "FLAT", "params": {}}


class _BM25Rows:
    """The saved bm25s matrix (one column per term) turned into one sparse row per paper."""

    def __init__(self, bm25_dir: Path) -> None:
        import scipy.sparse as sp

        m = BM25Matrix.load(bm25_dir, mmap=False)
        n_cols = len(m.indptr) - 1
        self.csr = sp.csc_matrix((m.data, m.indices, m.indptr), shape=(m.num_docs, n_cols)).tocsr()
        # Column → term; bm25s's empty token sits past the last column and has none.
        self.vocab = [""] * n_cols
        for term, col in m.vocab.items():
            if col < n_cols:
                self.vocab[col] = term
        self.df = np.diff(m.indptr).tolist()

    def rows(self, start: int, stop: int) -> Iterator[dict[int, float]]:
        m = self.csr
        for i in range(start, stop):
            lo, hi = m.indptr[i], m.indptr[i + 1]
            yield dict(zip(m.indices[lo:hi].tolist(), m.data[lo:hi].tolist()))


def _bm25_rows(bm25_dir: Path) -> _BM25Rows:
    return _BM25Rows(bm25_dir)


def _load_vectors(files: BuildFiles, leg: DenseLegSpec, papers: int) -> np.ndarray:
    name, dim, path = leg.name, leg.dim, files.leg_vectors(leg.name)
    if not path.exists():
        raise IndexCorrupt(f"dense leg {name!r} has no vectors file ({path})")
    vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    if vectors.shape != (papers, dim):
        raise IndexCorrupt(f"dense leg {name!r} vectors are {vectors.shape}, expected ({papers}, {dim})")
    return vectors


def _fit_record(record: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The record, its longest texts cut (marked with …) until its JSON fits the limit."""
    size = len(json.dumps(record, ensure_ascii=False).encode())
    if size <= MAX_JSON_BYTES:
        return record, 0
    record = {**record, "sections": dict(record.get("sections") or {})}
    while size > MAX_JSON_BYTES:
        texts = [("abstract", None), ("summary", None)] + [("sections", k) for k in record["sections"]]
        key, sub = max(texts, key=lambda t: len(record[t[0]] if t[1] is None else record[t[0]][t[1]] or ""))
        text = record[key] if sub is None else record[key][sub]
        cut = text[: max(0, len(text) - (size - MAX_JSON_BYTES) // 2 - 16)] + "…"
        if sub is None:
            record[key] = cut
        else:
            record[key][sub] = cut
        size = len(json.dumps(record, ensure_ascii=False).encode())
    return record, 1


def _glossary(files: BuildFiles) -> Any:
    return json.loads(files.glossary.read_text(encoding="utf-8")) if files.glossary.exists() else None


def _drop_old(client: Any, alias: str, keep: set[str | None]) -> list[str]:
    """Drop this alias's other collections: older served ones and killed builds' leftovers.

    Only names sorting before the newest kept one: a build running concurrently elsewhere
    has a later name and is left alone."""
    newest = max(k for k in keep if k)
    dropped = []
    for c in build_collections(client, alias):
        if c in keep or c > newest:
            continue
        for n in (c, meta_name(c)):
            if client.has_collection(n):
                client.drop_collection(n)
        dropped.append(c)
    return dropped
