"""Domain errors. The library raises these; the CLI and the HTTP API translate them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class PaperSearchError(Exception):
    """Base class: a problem a user can act on, with a one-line message (English, for
    logs and the CLI), a stable machine-readable ``code`` and the ``params`` the message
    was made from, so a surface in another language (the Korean page) words it itself.
    The code defaults to the class's name in snake_case (``PaperNotFound`` →
    ``paper_not_found``); a finer one names the case (``bad_date``, ``unknown_mode``)."""

    def __init__(self, message: str, *, code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code or class_code(type(self).__name__)
        self.params = dict(params or {})


def class_code(name: str) -> str:
    """An error class's own code: ``PaperNotFound`` → ``paper_not_found``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class IndexNotFound(PaperSearchError):
    """No built index where one was expected."""


class IndexCorrupt(PaperSearchError):
    """An index exists but cannot be read (missing file, bad JSON, wrong format)."""


class IndexIncompatible(PaperSearchError):
    """The index was built with settings this query side cannot honour (rebuild it)."""


class ModelUnavailable(PaperSearchError):
    """The embedding model could not be loaded (offline and not cached, bad path, ...)."""


class ModelMismatch(PaperSearchError):
    """The query side asked for a model other than the one the index was built with."""


class PaperNotFound(PaperSearchError):
    """An unknown paper id."""


class InvalidQuery(PaperSearchError):
    """A query or parameter that cannot be answered (empty, too long, bad mode, ...)."""


class BuildLocked(PaperSearchError):
    """Another build holds the index lock."""


class GateFailed(PaperSearchError):
    """A build scored below its quality gate and was not swapped in."""


class NoPapersFound(PaperSearchError):
    """A build found no paper in its sources; ``issues`` says what was wrong with each file."""

    def __init__(self, message: str, issues: list | None = None) -> None:
        super().__init__(message, params={"problems": len(issues or [])})
        self.issues = list(issues or [])


class SourceNotFound(PaperSearchError):
    """A digest source given to a build does not exist: building without it would drop
    its papers from the index, so the build stops instead."""


def shown(value: object, limit: int = 80) -> str:
    """A user's value as an error may echo it in ``params``: a string of at most ``limit``
    characters, lone surrogates (unwritable as UTF-8 JSON) left out."""
    text = re.sub("[\ud800-\udfff]", "", value if isinstance(value, str) else repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
