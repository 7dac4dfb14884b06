"""What a progressive build's embedding is doing, as the server reports it.

A progressive build (``index/progressive.py``) serves BM25 first and embeds the dense
legs after it, writing its progress to ``ROOT/embedding.json`` (atomically, after every
chunk of passages). ``/api/health`` and the page read it here; a status whose writer has
gone (killed, the machine restarted) is reported as interrupted, not as running.
"""

from __future__ import annotations

import json
import os
from typing import Any

from search.core.layout import IndexLayout


def read_status(layout: IndexLayout) -> dict[str, Any] | None:
    """The embedding's progress (legs, current leg, passages embedded and to embed,
    papers a second, seconds left), or None when no progressive build has run or the last
    one finished."""
    try:
        status = json.loads(layout.embedding_status.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or status.get("state") == "done":
        return None
    if status.get("state") == "embedding" and not _alive(status.get("pid")):
        status = {**status, "state": "interrupted"}  # the next build resumes from its chunks
    return status


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
