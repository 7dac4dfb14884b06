"""Progress bars on a terminal, silence elsewhere (pipes, CI, tests)."""

from __future__ import annotations

import sys
from typing import Any


def progress_enabled(requested: bool | None = None) -> bool:
    if requested is not None:
        return requested
    return sys.stderr.isatty()


def bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="doc", disable=not enabled, leave=False, file=sys.stderr)
