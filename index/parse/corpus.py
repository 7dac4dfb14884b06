"""The papers of a build, decoded from the parse cache only where a step needs them.

A daily build over 100k papers touches ten of them: the rest are reused by content hash
(their tokens, vectors and papers.jsonl rows come from the caches and the served build).
Decoding every cached record into a :class:`Paper` anyway was seconds of JSON and
object construction, so a :class:`Corpus` holds each paper's id and hash up front and
the record only as a reference into the cache's raw bytes, decoded on first access.
Any step may still read every paper (a full build does); it then pays for all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from search.core.records import Paper

# A paper not decoded yet: (payload number, position in that payload's list).
Ref = tuple[int, int]


class Corpus(Sequence[Paper]):
    """Papers in build order, with ``ids`` and ``hashes`` known without decoding.

    An entry is a :class:`Paper` or a :data:`Ref`; ``load(n)`` gives the papers of
    payload ``n`` (the parse cache decodes, and memoises, one digest file's records)."""

    def __init__(
        self,
        ids: list[str],
        hashes: list[str],
        entries: list[Paper | Ref],
        load: Callable[[int], list[Paper]] | None = None,
    ):
        if not len(ids) == len(hashes) == len(entries):
            raise ValueError("ids, hashes and entries must be as long")
        self.ids = ids
        self.hashes = hashes
        self._entries = entries
        self._load = load

    def reorder(self, order: Sequence[int]) -> "Corpus":
        """The same papers in another order (``order`` lists every position once)."""
        return Corpus([self.ids[i] for i in order], [self.hashes[i] for i in order], [self._entries[i] for i in order], self._load)

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, i: int) -> Paper: ...
    @overload
    def __getitem__(self, i: slice) -> list[Paper]: ...
    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self._paper(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._paper(i)

    def __iter__(self) -> Iterator[Paper]:
        return (self._paper(i) for i in range(len(self)))

    def _paper(self, i: int) -> Paper:
        entry = self._entries[i]
        if isinstance(entry, Paper):
            return entry
        if self._load is None:
            raise LookupError("paper reference without a loader")
        payload, pos = entry
        paper = self._load(payload)[pos]
        self._entries[i] = paper
        return paper


class Texts(Sequence[str]):
    """``[text_of(p) for p in papers]``, made per item on access: a step that reads a few
    texts (the merged glossary mines only new papers) decodes only those papers."""

    def __init__(self, papers: Sequence[Paper], text_of: Callable[[Paper], str]):
        self._papers = papers
        self._text_of = text_of

    def __len__(self) -> int:
        return len(self._papers)

    def __getitem__(self, i):  # type: ignore[no-untyped-def, override]
        if isinstance(i, slice):
            return [self._text_of(p) for p in self._papers[i]]
        return self._text_of(self._papers[i])


__all__ = ["Corpus", "Ref", "Texts"]


def record_hash(record: dict[str, Any]) -> str:
    """The content hash of one paper record (``Paper.to_dict()`` or a papers.jsonl row)."""
    blob = json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()
