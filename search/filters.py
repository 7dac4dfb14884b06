"""Parsing of user-given filter values, shared by the CLI and the HTTP API."""

from __future__ import annotations

import datetime as dt

from search.errors import InvalidQuery


def parse_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` checked as a real calendar date, returned in that form."""
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidQuery(f"bad date {value!r}: use YYYY-MM-DD") from None
