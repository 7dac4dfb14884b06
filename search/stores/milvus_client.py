"""The one module that knows how an index lives in Milvus (Lite, standalone or a cluster).

Counterpart of ``search/core/layout.py`` for the Milvus engine::

    alias  papersearch                      -> the served collection (moved atomically)
    collection papersearch_<build-id>       one row per paper:
        id (primary), date, upvotes         scalar fields, for filter expressions
        record (JSON)                       the full Paper record the API serves
        bm25 (SPARSE_FLOAT_VECTOR, IP)      this project's BM25 weight per term column
        vec_<leg> (FLOAT_VECTOR, IP)        one per dense leg, normalised vectors
    collection papersearch_<build-id>_meta  the query side's lexicon, as JSON chunks:
        manifest, vocab (term per column), df (papers per term), glossary

A build writes both collections, then moves the alias; a reader resolves the alias once
and keeps that collection's name, so its lexicon and its rows always belong together.
pymilvus is imported only here and only when a Milvus URI is used: it is an optional extra.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from search.core.errors import IndexNotFound

DEFAULT_ALIAS = "papersearch"
META_SUFFIX = "_meta"
# Milvus VARCHAR limits are bytes; 16k characters of UTF-8 JSON (≤ 3 bytes each for Hangul,
# ≤ 4 otherwise) stay under the 65,535-byte maximum.
CHUNK_CHARS = 16_000
MAX_QUERY_ROWS = 16_384  # Milvus's cap on limit for query() and search()
_NAME_SAFE = re.compile(r"[^0-9A-Za-z_]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class MilvusUnavailable(IndexNotFound):
    """pymilvus is missing, or the Milvus URI cannot be reached or holds no index.

    An :class:`IndexNotFound`: the CLI prints it, the API answers 503 with it."""


def connect(uri: str) -> Any:
    """A ``MilvusClient`` for a Lite file path or an ``http(s)://host:port`` server."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusUnavailable(
            "the Milvus engine needs the milvus extra: pip install -e '.[milvus]' "
            "(pymilvus, and milvus-lite for a local file URI)"
        ) from None
    # pymilvus logs every failed call itself, tracebacks included; the errors raised
    # here carry the message once, so its own logging stays quiet below CRITICAL.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=uri)
    except Exception as e:  # pymilvus raises MilvusException, ConnectionError, or milvus-lite's errors
        hint = (
            " (Milvus Lite opens a file from one process at a time: stop the `papersearch serve` "
            "or build using it, or run a Milvus server for concurrent use)" if is_lite(uri) else ""
        )
        raise MilvusUnavailable(f"cannot open Milvus at {uri!r}: {_first_line(e)}{hint}") from e


@contextlib.contextmanager
def milvus_errors(what: str) -> Iterator[None]:
    """pymilvus's exceptions (a server gone, a dropped collection) as one-line domain errors."""
    try:
        yield
    except IndexNotFound:
        raise
    except Exception as e:
        if type(e).__module__.split(".")[0] != "pymilvus":
            raise
        raise MilvusUnavailable(f"Milvus {what} failed: {_first_line(e)}") from e


def is_lite(uri: str) -> bool:
    """A path (Milvus Lite, embedded) rather than a server URL."""
    return "://" not in uri


def collection_name(alias: str, build_id: str) -> str:
    # Milvus names allow letters, digits and underscores; build ids sort by time, so do these.
    return f"{alias}_{_NAME_SAFE.sub('_', build_id)}"


def meta_name(collection: str) -> str:
    return collection + META_SUFFIX


def leg_field(leg: str) -> str:
    return "vec_" + _NAME_SAFE.sub("_", leg)


def served_collection(client: Any, alias: str) -> str | None:
    """The collection ``alias`` points at now, or None when there is no such alias."""
    try:
        if alias not in client.list_aliases().get("aliases", []):
            return None
        return str(client.describe_alias(alias)["collection_name"])
    except Exception as e:
        raise MilvusUnavailable(f"cannot read Milvus alias {alias!r}: {_first_line(e)}") from e


def build_collections(client: Any, alias: str) -> list[str]:
    """This alias's paper collections (not the meta ones), oldest first."""
    prefix = alias + "_"
    names = [n for n in client.list_collections() if n.startswith(prefix) and not n.endswith(META_SUFFIX)]
    return sorted(names)


def write_lexicon(client: Any, collection: str, parts: Mapping[str, Any]) -> None:
    """Store JSON-able ``parts`` (manifest, vocab, ...) in the build's meta collection."""
    from pymilvus import DataType

    name = meta_name(collection)
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
    # Milvus requires a vector field in every collection; this one is never searched.
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("unused", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)
    rows = []
    for part, value in parts.items():
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        for i in range(0, max(len(text), 1), CHUNK_CHARS):
            rows.append({"key": f"{part}#{i // CHUNK_CHARS:06d}", "text": text[i : i + CHUNK_CHARS], "unused": [0.0, 0.0]})
    for i in range(0, len(rows), 256):
        client.insert(name, rows[i : i + 256])
    client.flush(name)


def read_lexicon(client: Any, collection: str) -> dict[str, Any]:
    """The parts :func:`write_lexicon` stored, decoded."""
    name = meta_name(collection)
    try:
        client.load_collection(name)
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            batch = client.query(name, filter='key != ""', output_fields=["key", "text"], limit=1000, offset=offset)
            rows += batch
            offset += len(batch)
            if len(batch) < 1000:
                break
    except Exception as e:
        raise MilvusUnavailable(f"Milvus collection {name!r} unreadable: {_first_line(e)}") from e
    chunks: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        part, _, seq = row["key"].partition("#")
        chunks.setdefault(part, []).append((seq, row["text"]))
    return {part: json.loads("".join(t for _, t in sorted(seq))) for part, seq in chunks.items()}


def filter_expression(date_from: str | None, date_to: str | None, min_upvotes: int | None) -> str:
    """A Milvus boolean expression for the date/upvote filters ('' for none).

    Milvus Lite rejects expression templates (``filter_params``), so values are written in;
    only validated shapes get there: dates must be YYYY-MM-DD and upvotes an int, anything
    else raises before an expression is made. Papers without a date are stored with ""
    and fail any date filter, as in the local engine."""
    clauses: list[str] = []
    for op, value in ((">=", date_from), ("<=", date_to)):
        if value is not None:
            if not _DATE.fullmatch(value):
                raise ValueError(f"not a YYYY-MM-DD date: {value!r}")
            clauses.append(f'date {op} "{value}"')
    if date_to is not None:
        clauses.append('date != ""')
    if min_upvotes is not None:
        clauses.append(f"upvotes >= {int(min_upvotes)}")
    return " and ".join(clauses)


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]
