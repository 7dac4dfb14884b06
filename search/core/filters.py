"""Search filters: the :class:`Filters` a search applies, and the parsing of user-given
filter values, shared by the CLI and the HTTP API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from search.core.errors import InvalidQuery, shown
from search.core.query_limits import MAX_UPVOTES
from search.core.records import Paper


def parse_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` checked as a real calendar date, returned in that form."""
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidQuery(f"bad date {value!r}: use YYYY-MM-DD", code="bad_date", params={"value": shown(value)}) from None


@dataclass(frozen=True)
class Filters:
    """What a search keeps after ranking: papers in a date range, with enough upvotes."""

    date_from: str | None = None  # inclusive, YYYY-MM-DD
    date_to: str | None = None
    min_upvotes: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.min_upvotes))

    def check(self) -> "Filters":
        """``InvalidQuery`` for upvotes out of range or a range that ends before it starts."""
        if self.min_upvotes is not None and not 0 <= self.min_upvotes <= MAX_UPVOTES:
            raise InvalidQuery(
                f"min_upvotes must be between 0 and {MAX_UPVOTES}",
                code="out_of_range", params={"field": "min_upvotes", "min": 0, "max": MAX_UPVOTES},
            )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidQuery(
                f"date_from {self.date_from} is after date_to {self.date_to}: no paper can match",
                code="date_range_inverted", params={"date_from": self.date_from, "date_to": self.date_to},
            )
        return self

    def accept(self, p: Paper) -> bool:
        if self.date_from and (p.date is None or p.date < self.date_from):
            return False
        if self.date_to and (p.date is None or p.date > self.date_to):
            return False
        if self.min_upvotes is not None and (p.upvotes or 0) < self.min_upvotes:
            return False
        return True
