"""One record per arXiv id, and a deterministic answer when digests disagree about it.

Several digests may describe one paper. Digests are other people's feeds, so a paper's
text (title, summary, abstract, key points, sections, upvotes) comes from one digest, its
**own**, and no other digest can change it:

1. The own digest is, in this order: the file the served index took the paper from (the
   served record's first source), so a digest added later cannot rewrite a served
   paper, even one dated earlier; else a record with the title the served index has;
   else the earliest-dated digest (undated last); else the first by file path, then line.
   When the own digest is gone from the sources, the next by this order takes over.
2. Records whose titles differ (compared without case, spacing or punctuation) are never
   merged: each one dropped is reported with its file and line, where the kept one is,
   and both titles.
3. Records that agree on the title merge: the own digest's values stand, and a value it
   lacks (no abstract, say) is filled from the next digest that has it; for a paper
   already served, only with the value the served paper already shows, so no digest,
   new or edited, adds text that the paper's own digest does not hold. A value another
   digest gives differently (upvotes too: the own digest's count stands), or would add
   to a served paper, is reported (``file:line``, the field, both values) and left out;
   a digest that gave nothing but such values is not listed among the paper's sources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from search.core.records import Paper, ParseIssue

# Ids -> the served index's record of each (those it has); asked only for ids that
# several digests describe.
Incumbent = Callable[[Sequence[str]], Mapping[str, Paper]]

# The values a paper's own digest decides (url and date are where and when a digest
# linked it: the own digest's stand, and another digest's differ without saying anything).
TEXT_FIELDS = ("title", "summary", "abstract", "key_points", "upvotes")


def title_key(title: str) -> str:
    return "".join(re.findall(r"\w+", title.casefold()))


def _short(value: object, n: int = 60) -> str:
    text = " | ".join(value) if isinstance(value, tuple) else str(value)
    return repr(text if len(text) <= n else text[:n] + "…")


def _agrees(p: Paper, served: Paper) -> bool:
    """Every value ``p`` gives is the served paper's (it may give fewer)."""
    if title_key(p.title) != title_key(served.title):
        return False
    for name in TEXT_FIELDS[1:]:
        mine = getattr(p, name)
        if mine not in (None, "", ()) and mine != getattr(served, name):
            return False
    return all(served.sections.get(k) == v for k, v in p.sections.items())


def _where(p: Paper, line: int) -> str:
    return f"{p.sources[0] if p.sources else '?'}:{line}"


class _Fold:
    """Merges records that agree on the title into the own digest's record."""

    def __init__(self, keeper: Paper, line: int, served: Paper | None):
        self.paper = keeper
        self.where = _where(keeper, line)
        self.served = served
        self.issues: list[ParseIssue] = []

    def _may_fill(self, name: str, value: object, section: bool = False) -> bool:
        # A new paper takes gaps from any agreeing digest; a served one only what it
        # already shows (so the same fills happen on every build, and no digest, new or
        # edited, can add text to a served paper that its own digest does not hold).
        if self.served is None:
            return True
        held = self.served.sections.get(name) if section else getattr(self.served, name)
        return held == value

    def add(self, p: Paper, line: int) -> None:
        kept = self.paper
        values: dict[str, object] = {}
        sections = dict(kept.sections)
        refused: list[str] = []
        for name in TEXT_FIELDS:
            mine, theirs = getattr(kept, name), getattr(p, name)
            if theirs in (None, "", ()) or theirs == mine:
                continue
            if mine not in (None, "", ()):
                refused.append(f"{name}: {_short(theirs)} (kept {_short(mine)})")
            elif self._may_fill(name, theirs):
                values[name] = theirs
            elif (shown := getattr(self.served, name)) not in (None, "", ()):
                values[name] = shown  # what the served paper shows stays, not a gap
                refused.append(f"{name}: {_short(theirs)} (kept the served {_short(shown)})")
            else:
                refused.append(f"{name}: would add {_short(theirs)} to the served paper")
        for name, text in p.sections.items():
            if name in sections:
                if sections[name] != text:
                    refused.append(f"section {name!r}: {_short(text)} (kept {_short(sections[name])})")
            elif self._may_fill(name, text, section=True):
                sections[name] = text
            elif self.served is not None and (shown := self.served.sections.get(name)):
                sections[name] = shown
                refused.append(f"section {name!r}: {_short(text)} (kept the served {_short(shown)})")
            else:
                refused.append(f"section {name!r}: would add {_short(text)} to the served paper")
        if refused:
            self.issues.append(
                ParseIssue(
                    p.sources[0] if p.sources else "?",
                    line,
                    f"paper {p.id} differs from its own digest {self.where}, whose text is kept: " + "; ".join(refused),
                )
            )
        contributed = bool(values) or sections != kept.sections
        # Listed among the paper's sources when it gave something or agreed in full.
        sources = tuple(dict.fromkeys(kept.sources + p.sources)) if contributed or not refused else kept.sources
        self.paper = replace(kept, **values, sections=sections, sources=sources)


def merge_located(
    found: Iterable[tuple[Paper, int]], incumbent: Incumbent | None = None
) -> tuple[list[Paper], list[ParseIssue]]:
    """Papers (each with its heading's line) merged to one per id, sorted by date and
    id; and a problem for every record or value left out (see the module's rules)."""
    groups: dict[str, list[tuple[Paper, int]]] = {}
    for paper, line in found:
        groups.setdefault(paper.id, []).append((paper, line))
    shared = [pid for pid, g in groups.items() if len(g) > 1]
    served = dict(incumbent(shared)) if incumbent and shared else {}
    merged: list[Paper] = []
    issues: list[ParseIssue] = []
    for pid, group in groups.items():
        if len(group) == 1:
            merged.append(group[0][0])
            continue
        old = served.get(pid)
        owner = old.sources[0] if old is not None and old.sources else None
        held = title_key(old.title) if old is not None else None

        def rank(entry: tuple[Paper, int]) -> tuple[bool, bool, bool, str, tuple[str, ...], int]:
            p, line = entry
            own = owner is not None and bool(p.sources) and p.sources[0] == owner
            # The served text itself, from a file spelled or named otherwise than when it
            # was served (another working directory, a renamed digest): still the paper's
            # own, ahead of any digest that would change it, however early it is dated.
            agrees = old is not None and _agrees(p, old)
            return (not own, not agrees, title_key(p.title) != held, p.date or "9999", p.sources, line)

        group.sort(key=rank)
        keeper, keeper_line = group[0]
        key = title_key(keeper.title)
        fold = _Fold(keeper, keeper_line, old)
        for p, line in group[1:]:
            if title_key(p.title) == key:
                fold.add(p, line)
                continue
            if owner is not None and keeper.sources and keeper.sources[0] == owner:
                why = "the served paper's own digest"
            else:
                why = "the title the served index has" if held == key else "the earliest digest"
            issues.append(
                ParseIssue(
                    p.sources[0] if p.sources else "?",
                    line,
                    f"paper {pid} has another title at {_where(keeper, keeper_line)}: kept {keeper.title!r} "
                    f"({why}), dropped {p.title!r}",
                )
            )
        merged.append(fold.paper)
        issues.extend(fold.issues)
    merged.sort(key=lambda p: (p.date or "", p.id))
    return merged, issues


def merge_papers(papers: Iterable[Paper]) -> list[Paper]:
    """``merge_located`` without lines or reports (line 0 everywhere)."""
    return merge_located((p, 0) for p in papers)[0]
