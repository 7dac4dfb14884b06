"""Parsed digests cached per file, keyed by path and content hash.

Parsing is ~0.25 ms a paper: half a minute at 100k papers, which would swamp an
incremental build that adds one day's digest. Each file's papers and problems are kept
in ``ROOT/cache/parsed.jsonl`` (appended to when only new files came, else rewritten
atomically with only the files of the last build), so only new or edited files are
parsed again.

A file whose size, mtime, ctime and inode are those recorded when it was hashed is
not read at all (as git decides a file is unchanged; ctime cannot be set back by any
tool, and a file modified within two seconds of being hashed is always read again).

Each file is two lines (``index/parse/parse_cache_file.py``): a header and the papers' records.
A build reads every header but leaves payloads as bytes: the papers come back as a
:class:`Corpus` whose records are decoded only when a step asks for one, which in a daily
build is the new papers alone. Papers that several files share are merged here, from their decoded
records; a paper seen once keeps its cached hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.parse.corpus import Corpus, Ref, record_hash
from index.parse.digest import (
    ParseResult,
    collect_digest_files,
    parse_file,
    parse_file_located,
)
from index.parse.digest_files import UnreadableDigest, read_digest_bytes
from index.parse.digest_merge import Incumbent, merge_located
from index.parse.parse_cache_file import FileRow, append_rows, make_row, read_rows
from index.storage import atomic_file
from search.core.layout import CacheFiles
from search.core.records import Paper, ParseIssue


def _file_key(path: Path) -> str | None:
    try:
        # Never a plain read: a FIFO swapped in for a digest would block the build here.
        return hashlib.blake2b(read_digest_bytes(path), digest_size=16).hexdigest()
    except UnreadableDigest:
        return None  # parse_file reports why


def _stat(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


# A file changed this close before it was hashed may change again within the same
# timestamp tick unseen, so its stat is not trusted (git's "racily clean" rule).
RACY_NS = 2_000_000_000


def _known_key(row: FileRow | None, stat: list[int] | None) -> str | None:
    """The cached content key of an unchanged file, without reading it: same size,
    mtime, ctime (which no tool can set back) and inode as when it was hashed, and not
    modified just before that. None: read and hash the file."""
    if row is None or stat is None or row.header.get("stat") != stat:
        return None
    checked = row.header.get("checked_ns")
    if not isinstance(checked, int) or max(stat[1], stat[2]) >= checked - RACY_NS:
        return None
    return row.header["key"]


class _Loader:
    """Decodes one cached file's records on demand, once. A payload that does not decode
    (damaged on disk) is parsed again from its digest file: the header matched its key."""

    def __init__(self, rows: list[FileRow]):
        self.rows = rows
        self.memo: dict[int, list[Paper]] = {}

    def __call__(self, n: int) -> list[Paper]:
        if n not in self.memo:
            row = self.rows[n]
            try:
                papers = [Paper.from_dict(d) for d in json.loads(row.payload)]
            except (ValueError, KeyError, TypeError):
                papers = []
            if len(papers) != len(row.header["ids"]):
                papers, _ = parse_file(Path(row.header["path"]))
            self.memo[n] = papers
        return self.memo[n]


# One paper as a file gave it: id, date, content hash, record (or where the cache holds
# it), and its heading's line.
_Found = tuple[str, str | None, str, Paper | Ref, int]


@dataclass
class _Scan:
    """What one pass over the digest files found."""

    rows: list[FileRow] = field(default_factory=list)  # the files of this build, in order: the next cache
    fresh: list[FileRow] = field(default_factory=list)  # rows of files parsed now
    found: list[_Found] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    # Reused rows whose file had to be read again (their stat is out of date): the stat
    # before that read, and when it was taken.
    restat: dict[str, tuple[list[int] | None, int]] = field(default_factory=dict)


def parse_sources_cached(
    sources: Sequence[Path], cache_dir: Path | None, enabled: bool = True, incumbent: Incumbent | None = None
) -> ParseResult:
    """``index.parse.digest.parse_sources``, reusing earlier parses of unchanged files; the
    papers come back as a lazily decoded :class:`Corpus` with every hash known.
    ``incumbent`` gives the served records of ids that several digests describe (see
    ``index.parse.digest_merge``)."""
    files, issues = collect_digest_files(list(sources))
    path = CacheFiles(cache_dir).parsed if cache_dir else None
    old = read_rows(path) if enabled and path is not None and path.exists() else []
    cached = {(r.header["path"], r.header["key"]): r for r in old or ()}
    scan = _scan(files, cached)
    if path is not None:
        # Not enabled, or a damaged cache (which only costs time, once): written anew.
        _save(path, scan, len(cached), rewrite=not enabled or old is None)
    corpus, conflicts = _merge(scan.found, _Loader(scan.rows), incumbent)
    return ParseResult(papers=corpus, issues=issues + scan.issues + conflicts, files=len(files), hashes=corpus.hashes)


def _scan(files: Sequence[Path], cached: dict[tuple[str, str], FileRow]) -> _Scan:
    """Each file's row from the cache when its content is unchanged, else parsed now."""
    scan = _Scan()
    by_path = {p: r for (p, _), r in cached.items()}
    first_of: dict[str, str] = {}  # content key -> the first file with those bytes
    for f in files:
        stat = _stat(f)
        key = _known_key(by_path.get(str(f)), stat)
        checked_ns = time.time_ns()
        if key is None:
            key = _file_key(f)  # read after the stat: a later change shows in the next stat
            if (str(f), key) in cached:
                scan.restat[str(f)] = (stat, checked_ns)
        if key is not None and key in first_of:
            # A byte-for-byte copy (the same digest in a watched folder and the build's
            # own source) adds nothing: read once, from the first, so its papers keep
            # their recorded source instead of every one changing.
            scan.issues.append(ParseIssue(str(f), 1, f"the same bytes as {first_of[key]}: read once, from there", notice=True))
            continue
        if key is not None:
            first_of[key] = str(f)
        row = cached.get((str(f), key)) if key else None
        if row is None:
            papers, lines, file_issues = parse_file_located(f)
            scan.issues.extend(file_issues)
            if key is None:  # unreadable: nothing to cache
                scan.found.extend((p.id, p.date, record_hash(p.to_dict()), p, line) for p, line in zip(papers, lines))
                continue
            row = make_row(f, key, papers, lines, file_issues, stat, checked_ns)
            scan.fresh.append(row)
            entries: Sequence[Paper | Ref] = papers
        else:
            scan.issues.extend(ParseIssue(**i) for i in row.header["issues"])
            entries = [(len(scan.rows), pos) for pos in range(len(row.header["ids"]))]
        h = row.header
        scan.found.extend(zip(h["ids"], h["dates"], h["hashes"], entries, h["lines"]))
        scan.rows.append(row)
    return scan


def _save(path: Path, scan: _Scan, cached: int, rewrite: bool) -> None:
    """Make this build's files the cache: appended to in the daily case (only new files:
    100 MB not rewritten), else rewritten, which drops the rows of files gone or edited."""
    # Refreshing stale stats is a rewrite: worth it once many files were touched.
    if len(scan.restat) > max(50, len(scan.rows) // 100):
        for r in scan.rows:
            if r.header["path"] in scan.restat:
                st, at = scan.restat[r.header["path"]]
                r.header.update(stat=st, checked_ns=at)
        rewrite = True
    if rewrite or len(scan.rows) - len(scan.fresh) != cached or not path.exists():
        with atomic_file(path, binary=True) as out:
            for r in scan.rows:
                out.write(r.lines())
    elif scan.fresh:
        append_rows(path, scan.fresh)


def _merge(
    found: list[_Found], load: _Loader, incumbent: Incumbent | None
) -> tuple[Corpus, list[ParseIssue]]:
    """``merge_located`` over headers: a paper seen in one file keeps its cached record and
    hash undecoded; only papers in several files are decoded and merged."""
    seen: dict[str, int] = {}
    shared: dict[str, list[int]] = {}
    for n, (pid, *_rest) in enumerate(found):
        first = seen.setdefault(pid, n)
        if first != n:
            shared.setdefault(pid, [first]).append(n)
    pending = Corpus([r[0] for r in found], [r[2] for r in found], [r[3] for r in found], load)
    rows: list[tuple[str, str, str, Paper | Ref]] = []  # sort date, id, hash, record
    for n, (pid, date, h, entry, _line) in enumerate(found):
        if pid not in shared:
            rows.append((date or "", pid, h, entry))
    merged, conflicts = merge_located(((pending[i], found[i][4]) for ns in shared.values() for i in ns), incumbent)
    for paper in merged:
        rows.append((paper.date or "", paper.id, record_hash(paper.to_dict()), paper))
    rows.sort(key=lambda r: (r[0], r[1]))  # merge_located's order
    return Corpus([r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], load), conflicts
