"""One record per arXiv id, and a deterministic answer when digests disagree about it.

Several digests may describe one paper. When they agree (the same title, compared
without case, spacing or punctuation) their records merge: the earliest digest's text
wins, later digests fill gaps and add their file to ``sources``, upvotes keep the highest
count seen.

When they disagree, a digest could be trying to take a paper over, so nothing merges
across the disagreement. The record kept is, in this order:

1. the one whose title the served index already has for that id (``incumbent``): a
   digest added later cannot replace a paper already served;
2. else the one from the earliest-dated digest (undated last);
3. else the first by file path, then line.

Every record dropped is reported with its file and line, the file and line of the record
kept, and both titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from search.records import Paper, ParseIssue

# Ids -> the served index's title of each (those it has); looked up only for conflicts.
Incumbent = Callable[[Sequence[str]], Mapping[str, str]]


def title_key(title: str) -> str:
    return "".join(re.findall(r"\w+", title.casefold()))


def _fold(records: list[Paper]) -> Paper:
    """Merge records that agree, earliest digest first."""
    old = records[0]
    for p in records[1:]:
        ups = [u for u in (old.upvotes, p.upvotes) if u is not None]
        old = Paper(
            id=old.id,
            title=old.title or p.title,
            url=old.url or p.url,
            date=old.date or p.date,
            upvotes=max(ups) if ups else None,
            summary=old.summary or p.summary,
            abstract=old.abstract or p.abstract,
            key_points=old.key_points or p.key_points,
            sections={**p.sections, **old.sections},
            sources=tuple(dict.fromkeys(old.sources + p.sources)),
        )
    return old


def _where(p: Paper, line: int) -> str:
    return f"{p.sources[0] if p.sources else '?'}:{line}"


def merge_located(
    found: Iterable[tuple[Paper, int]], incumbent: Incumbent | None = None
) -> tuple[list[Paper], list[ParseIssue]]:
    """Papers (each with its heading's line) merged to one per id, sorted by date and
    id; and a problem for every record dropped in a title conflict."""
    groups: dict[str, list[tuple[Paper, int]]] = {}
    for paper, line in found:
        groups.setdefault(paper.id, []).append((paper, line))
    conflicted = [pid for pid, g in groups.items() if len({title_key(p.title) for p, _ in g}) > 1]
    served = dict(incumbent(conflicted)) if incumbent and conflicted else {}
    merged: list[Paper] = []
    issues: list[ParseIssue] = []
    for pid, group in groups.items():
        if len(group) == 1:
            merged.append(group[0][0])
            continue
        held = title_key(served[pid]) if pid in served else None

        def rank(entry: tuple[Paper, int]) -> tuple[bool, str, tuple[str, ...], int]:
            p, line = entry
            return (title_key(p.title) != held, p.date or "9999", p.sources, line)

        group.sort(key=rank)
        keeper, keeper_line = group[0]
        key = title_key(keeper.title)
        agree = [p for p, _ in group if title_key(p.title) == key]
        merged.append(_fold(agree))
        for p, line in group:
            if title_key(p.title) != key:
                why = "the title the served index has" if held == key else "the earliest digest"
                issues.append(
                    ParseIssue(
                        p.sources[0] if p.sources else "?",
                        line,
                        f"paper {pid} has another title at {_where(keeper, keeper_line)}: kept {keeper.title!r} "
                        f"({why}), dropped {p.title!r}",
                    )
                )
    merged.sort(key=lambda p: (p.date or "", p.id))
    return merged, issues


def merge_papers(papers: Iterable[Paper]) -> list[Paper]:
    """``merge_located`` without lines or reports (line 0 everywhere)."""
    return merge_located((p, 0) for p in papers)[0]
