"""Parsed digests cached per file, keyed by path and content hash.

Parsing is ~0.25 ms a paper: half a minute at 100k papers, which would swamp an
incremental build that adds one day's digest. Each file's papers and problems are
kept in ``ROOT/cache/parsed.jsonl`` (rewritten atomically with only the files of the
last build), so only new or edited files are parsed again; merging runs over all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from index.digest import ParseResult, collect_digest_files, merge_papers, parse_file
from search.errors import PaperSearchError
from search.layout import read_jsonl, write_jsonl
from search.records import Paper, ParseIssue

CACHE_NAME = "parsed.jsonl"


def _file_key(path: Path) -> str | None:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None  # unreadable: parse_file reports it


def parse_sources_cached(sources: Sequence[Path], cache_dir: Path | None, enabled: bool = True) -> ParseResult:
    """``index.digest.parse_sources``, reusing earlier parses of unchanged files."""
    files, issues = collect_digest_files(list(sources))
    path = cache_dir / CACHE_NAME if cache_dir else None
    cached: dict[tuple[str, str], dict] = {}
    if enabled and path is not None and path.exists():
        try:
            cached = {(r["path"], r["key"]): r for r in read_jsonl(path)}
        except (PaperSearchError, KeyError, TypeError):
            cached = {}  # a damaged cache only costs time
    found: list[Paper] = []
    rows: list[dict] = []
    parsed = 0
    for f in files:
        key = _file_key(f)
        row = cached.get((str(f), key)) if key else None
        if row is None:
            papers, file_issues = parse_file(f)
            parsed += 1
            row = {
                "path": str(f),
                "key": key,
                "papers": [p.to_dict() for p in papers],
                "issues": [i.to_dict() for i in file_issues],
            }
        else:
            papers = [Paper.from_dict(d) for d in row["papers"]]
            file_issues = [ParseIssue(**i) for i in row["issues"]]
        found.extend(papers)
        issues.extend(file_issues)
        if key:
            rows.append(row)
    if path is not None and (parsed or len(rows) != len(cached)):
        write_jsonl(path, rows)
    return ParseResult(papers=merge_papers(found), issues=issues, files=len(files))
