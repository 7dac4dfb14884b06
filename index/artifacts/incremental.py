"""What changed since the served build: papers compared by content hash.

The caches (tokens, embeddings, parsed files) make the work incremental; this module
says how much of it was: papers added, changed (same id, other content), removed and
reused (same content). It also tells the dense step when the new build only appends
rows to the served one, the daily case, so the served ANN index can be extended in
place instead of rebuilt, and writes the new build's papers.jsonl, copying the served
rows byte for byte in that case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index.parse.corpus import Corpus, record_hash
from index.storage import append_file, atomic_file, write_jsonl
from search.core.errors import PaperSearchError
from search.core.layout import BuildFiles, IndexLayout, read_json
from search.core.manifest import DenseLegSpec, Manifest
from search.core.records import Paper

KEY_BYTES = 16


def text_key(text: str) -> bytes:
    """The caches' key of a text (tokens, embeddings): 16 bytes of blake2b."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


def key_index(keys: np.ndarray) -> dict[bytes, int]:
    """Row of each key in a (rows, key bytes) array: its raw bytes → row."""
    raw = keys.tobytes()
    width = keys.shape[1] if keys.ndim == 2 else 0
    return {raw[i * width : (i + 1) * width]: i for i in range(keys.shape[0])}


@dataclass(frozen=True)
class ServedBuild:
    """The build a new one replaces: where it is, its manifest, and its rows in order."""

    path: Path
    manifest: Manifest
    ids: list[str]  # the served rows' paper ids, in row order
    hashes: list[str]  # their content hashes

    @property
    def files(self) -> BuildFiles:
        return BuildFiles(self.path)

    @property
    def papers(self) -> int:
        return self.manifest.papers

    def dense_leg(self, name: str) -> DenseLegSpec | None:
        """The spec of dense leg ``name``, or None when it was not built."""
        return self.manifest.leg(name)


@dataclass(frozen=True)
class Delta:
    """How the new build's papers differ from the served build's: a description only."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    reused: int = 0  # unchanged papers whose cached work was reused (0 with ``full``)
    # Same content as in the served build, whether or not its cached work was reused:
    # added + changed + unchanged is always the new build's paper count.
    unchanged: int = 0
    # The served build's rows are exactly the first rows of the new one, unchanged:
    # row-aligned artifacts (vectors, ANN index) can be extended instead of rebuilt.
    appends_only: bool = False
    # Rows of the new build that are added or changed: what a merged glossary mines.
    fresh: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "reused": self.reused,
        }


def write_hashes(files: BuildFiles, ids: Sequence[str], hashes: Sequence[str]) -> None:
    """``paper_hashes.json``: the (id, hash) of each papers.jsonl row, in row order."""
    write_jsonl(files.paper_hashes, [{"ids": list(ids), "hashes": list(hashes)}])


def write_papers(files: BuildFiles, corpus: Corpus, delta: Delta, served: ServedBuild | None) -> None:
    """papers.jsonl and paper_hashes.json for a new build. In the daily case (the served
    rows unchanged, new rows appended) the served papers.jsonl is copied byte for byte and
    only the new rows are decoded and encoded: its rows are ``json.dumps`` of the same
    records. Otherwise every paper is written (and decoded from the parse cache)."""
    keep = served.manifest.papers if delta.appends_only and served is not None else 0
    with atomic_file(files.papers, binary=True) as f:
        if keep:
            append_file(f, served.files.papers)  # type: ignore[union-attr]
        f.write("".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in corpus[keep:]).encode())
    write_hashes(files, corpus.ids, corpus.hashes)


def _stored_hashes(files: BuildFiles, count: int) -> list[tuple[str, str]] | None:
    """The build's stored rows, or None when absent or not matching its papers count."""
    try:
        data = read_json(files.paper_hashes)
        ids, hashes = data["ids"], data["hashes"]
    except (PaperSearchError, KeyError, TypeError):
        return None
    if not (isinstance(ids, list) and isinstance(hashes, list) and len(ids) == len(hashes) == count):
        return None
    return list(zip(ids, hashes))


def read_served(layout: IndexLayout) -> ServedBuild | None:
    """The served build with its (id, hash) rows in order; None if there is no readable
    served build (then everything counts as added). Read from the build's
    ``paper_hashes.json``; a build without one has its papers.jsonl hashed instead."""
    try:
        build = layout.current_build()
        files = BuildFiles(build)
        manifest = files.read_manifest()
        rows = _stored_hashes(files, manifest.papers)
        if rows is None:
            rows = [(d["id"], record_hash(d)) for d in files.iter_papers()]
    except (PaperSearchError, KeyError, TypeError):
        return None
    return ServedBuild(build, manifest, [pid for pid, _ in rows], [h for _, h in rows])


def compare(ids: Sequence[str], hashes: Sequence[str], served: ServedBuild | None, full: bool = False) -> Delta:
    """Counts against the ``served`` build, for papers ``ids`` with content ``hashes`` in
    build order. With ``full`` nothing counts as reused."""
    old_ids, old_hashes = (served.ids, served.hashes) if served is not None else ([], [])
    old = dict(zip(old_ids, old_hashes))
    added = changed = unchanged = 0
    fresh: list[int] = []
    for row, (pid, h) in enumerate(zip(ids, hashes)):
        before = old.get(pid)
        if before is None:
            added += 1
        elif before != h:
            changed += 1
        else:
            unchanged += 1
            continue
        fresh.append(row)
    new_ids = set(ids)
    n = len(old_ids)
    appends_only = (
        served is not None
        and 0 < n <= len(ids)
        and all(pid == oid and h == oh for pid, h, oid, oh in zip(ids[:n], hashes[:n], old_ids, old_hashes))
    )
    return Delta(
        added=added,
        changed=changed,
        removed=sum(1 for pid in old if pid not in new_ids),
        reused=0 if full else unchanged,
        unchanged=unchanged,
        appends_only=appends_only and not full,
        fresh=tuple(fresh),
    )


def served_order_first(corpus: Corpus, delta: Delta, served: ServedBuild | None) -> tuple[Corpus, Delta]:
    """When papers were only added (or nothing changed), put the served rows first, in
    their order, and the new papers after them: the reordered corpus and its delta.
    Builds sort papers by date, so a digest of older papers (a backfill) would otherwise
    shift every row after it, and row-aligned artifacts (papers.jsonl, vectors, the HNSW
    graph: minutes at 100k) would be rebuilt instead of extended. Rows are then in served
    order, not by date. Row order matters only for exactly tied scores (ranked by row),
    so a later full build may order such ties differently. A change or removal keeps the
    sorted order: those rebuild anyway."""
    if delta.appends_only or delta.changed or delta.removed or served is None or not served.ids:
        return corpus, delta
    pos = {pid: i for i, pid in enumerate(corpus.ids)}
    head = [pos[pid] for pid in served.ids]
    kept = set(head)
    tail = [i for i in range(len(corpus)) if i not in kept]
    return corpus.reorder(head + tail), replace(delta, fresh=tuple(range(len(head), len(corpus))), appends_only=True)


def served_records(layout: IndexLayout, ids: Sequence[str]) -> dict[str, Paper]:
    """The served build's record of each of ``ids`` it holds (``index.parse.digest_merge``'s
    own-digest rule). Asked only for ids that several digests describe; rows are matched
    on their leading ``{"id": ...`` before any JSON is decoded."""
    wanted = set(ids)
    out: dict[str, Paper] = {}
    try:
        path = BuildFiles(layout.current_build()).papers
        with open(path, encoding="utf-8") as f:
            for line in f:
                lead = '{"id": "'  # Paper.to_dict() puts the id first
                pid = line[len(lead) : line.find('"', len(lead))] if line.startswith(lead) else None
                if pid is None or pid in wanted:
                    row = json.loads(line)
                    if row.get("id") in wanted:
                        out[row["id"]] = Paper.from_dict(row)
    except (PaperSearchError, OSError, ValueError, KeyError, TypeError):
        return out  # no readable served build: the date rule decides
    return out
