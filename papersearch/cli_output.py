"""How every command answers: library errors as one-line messages, ``--json`` as JSON,
progress on stderr."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from search.core.errors import PaperSearchError

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(fn: F) -> F:
    """Library exceptions become ``Error: <message>`` on stderr and exit 1, never a
    traceback; with ``--json`` stdout also gets ``{"ok": false, "error", "code"}``, so a
    script reading stdout sees the failure as JSON. (Option errors click itself refuses,
    before the command runs, stay click's usage messages.)"""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PaperSearchError as e:
            if kwargs.get("as_json"):
                print_json({"ok": False, "error": str(e), "code": e.code})
            raise click.ClickException(str(e)) from e

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_event(event: str, **data: Any) -> None:
    """One JSON object on one line, flushed: what ``serve --json`` and ``watch --json``
    print for each thing that happens, so a script can read them as they come."""
    click.echo(json.dumps({"event": event, **data}, ensure_ascii=False))


def log(msg: str) -> None:
    """Progress and notes go to stderr, so stdout stays the answer (or the JSON)."""
    click.echo(msg, err=True)
