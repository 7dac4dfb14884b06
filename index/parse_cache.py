"""Parsed digests cached per file, keyed by path and content hash.

Parsing is ~0.25 ms a paper: half a minute at 100k papers, which would swamp an
incremental build that adds one day's digest. Each file's papers and problems are
kept in ``ROOT/cache/parsed.jsonl`` (rewritten atomically with only the files of the
last build), so only new or edited files are parsed again; merging runs over all.
Each cached paper keeps its content hash too, so an incremental build re-hashes only
new papers and those merged from several files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from index.digest import ParseResult, collect_digest_files, merge_papers, parse_file
from index.incremental import record_hash
from search.errors import PaperSearchError
from search.layout import read_jsonl, write_jsonl
from search.records import Paper, ParseIssue

CACHE_NAME = "parsed.jsonl"


def _file_key(path: Path) -> str | None:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None  # unreadable: parse_file reports it


def _append_jsonl(path: Path, rows: Sequence[dict]) -> None:
    """Append rows, fsynced. A torn append (a crash mid-write) makes the file unreadable,
    which costs one full parse, never a wrong result."""
    with open(path, "ab") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
        f.flush()
        os.fsync(f.fileno())


def parse_sources_cached(sources: Sequence[Path], cache_dir: Path | None, enabled: bool = True) -> ParseResult:
    """``index.digest.parse_sources``, reusing earlier parses of unchanged files."""
    files, issues = collect_digest_files(list(sources))
    path = cache_dir / CACHE_NAME if cache_dir else None
    cached: dict[tuple[str, str], dict] = {}
    rewrite = not enabled
    if enabled and path is not None and path.exists():
        try:
            cached = {(r["path"], r["key"]): r for r in read_jsonl(path)}
        except (PaperSearchError, KeyError, TypeError):
            cached, rewrite = {}, True  # a damaged cache only costs time, once
    found: list[Paper] = []
    rows: list[dict] = []
    known: dict[int, str] = {}  # id(Paper) → content hash, for papers as parsed
    fresh: list[dict] = []  # rows of files parsed now
    reused = 0
    for f in files:
        key = _file_key(f)
        row = cached.get((str(f), key)) if key else None
        if row is not None and len(row.get("hashes") or ()) != len(row["papers"]):
            row["hashes"] = [record_hash(d) for d in row["papers"]]  # a cache from before hashes
            rewrite = True
        if row is None:
            papers, file_issues = parse_file(f)
            dicts = [p.to_dict() for p in papers]
            row = {
                "path": str(f),
                "key": key,
                "papers": dicts,
                "issues": [i.to_dict() for i in file_issues],
                "hashes": [record_hash(d) for d in dicts],
            }
            if key:
                fresh.append(row)
        else:
            reused += 1
            papers = [Paper.from_dict(d) for d in row["papers"]]
            file_issues = [ParseIssue(**i) for i in row["issues"]]
        known.update(zip(map(id, papers), row["hashes"]))
        found.extend(papers)
        issues.extend(file_issues)
        if key:
            rows.append(row)
    if path is not None:
        if rewrite or reused != len(cached) or not path.exists():
            write_jsonl(path, rows)  # drops the rows of files gone or edited
        elif fresh:
            _append_jsonl(path, fresh)  # the daily case: only new files; 100 MB not rewritten
    merged = merge_papers(found)
    # A paper merged from several files is a new object: only those are hashed here.
    hashes = [known.get(id(p)) or record_hash(p.to_dict()) for p in merged]
    return ParseResult(papers=merged, issues=issues, files=len(files), hashes=hashes)
