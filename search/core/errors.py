"""Domain errors. The library raises these; the CLI and the HTTP API translate them."""

from __future__ import annotations


class PaperSearchError(Exception):
    """Base class: a problem a user can act on, with a one-line message."""


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
        super().__init__(message)
        self.issues = list(issues or [])


class SourceNotFound(PaperSearchError):
    """A digest source given to a build does not exist: building without it would drop
    its papers from the index, so the build stops instead."""
