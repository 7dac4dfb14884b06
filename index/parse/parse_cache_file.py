"""The parse cache's file (``ROOT/cache/parsed.jsonl``): two lines per digest file, a
small header (path, content key, stat, problems, and per paper its id, date and content
hash) and a payload line, the papers' records, kept as bytes until a paper is needed.
``index/parse/parse_cache.py`` decides which rows are still valid and makes new ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.parse.corpus import record_hash
from search.core.records import Paper, ParseIssue

CACHE_VERSION = 4  # 3: "lines" (each paper's heading line, for conflict reports); 4: hidden blocks, ASCII ids


@dataclass
class FileRow:
    header: dict[str, Any]  # v, path, key, ids, dates, hashes, issues
    payload: bytes  # one JSON list of the file's paper records, kept undecoded

    def lines(self) -> bytes:
        return json.dumps(self.header, ensure_ascii=False).encode() + b"\n" + self.payload + b"\n"


def make_row(
    path: Path, key: str, papers: list[Paper], lines: list[int], issues: list[ParseIssue], stat: list[int] | None,
    checked_ns: int,
) -> FileRow:
    dicts = [p.to_dict() for p in papers]
    header = {
        "v": CACHE_VERSION,
        "path": str(path),
        "key": key,
        "stat": stat,
        "checked_ns": checked_ns,
        "ids": [p.id for p in papers],
        "dates": [p.date for p in papers],
        "hashes": [record_hash(d) for d in dicts],
        "lines": lines,
        "issues": [i.to_dict() for i in issues],
    }
    return FileRow(header, json.dumps(dicts, ensure_ascii=False).encode())


def read_rows(path: Path) -> list[FileRow] | None:
    """The cached rows, or None when the file is missing or damaged anywhere (a torn
    append, an older format): then everything is parsed again, once."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if not raw.endswith(b"\n"):
        return None if raw else []
    lines = raw.split(b"\n")[:-1]
    if len(lines) % 2:
        return None
    rows = []
    for head, payload in zip(lines[0::2], lines[1::2]):
        try:
            header = json.loads(head)
        except ValueError:
            return None
        if not (isinstance(header, dict) and header.get("v") == CACHE_VERSION and payload.startswith(b"[")):
            return None
        n = len(header.get("ids") or ())
        if not (
            isinstance(header.get("path"), str)
            and isinstance(header.get("key"), str)
            and len(header.get("dates") or ()) == len(header.get("hashes") or ()) == len(header.get("lines") or ()) == n
            and isinstance(header.get("issues"), list)
            and all(isinstance(i, dict) and set(i) == {"file", "line", "reason"} for i in header["issues"])
        ):
            return None
        rows.append(FileRow(header, payload))
    return rows


def append_rows(path: Path, rows: Sequence[FileRow]) -> None:
    """Append rows, fsynced. A torn append (a crash mid-write) makes the file unreadable,
    which costs one full parse, never a wrong result."""
    with open(path, "ab") as f:
        f.write(b"".join(r.lines() for r in rows))
        f.flush()
        os.fsync(f.fileno())
