"""A record's text fields as both sides read them: snippet fields are what the build
analyses once (``index/artifacts/snippet_build.py``: also the BM25 bodies), what a snippet
is cut from and what "more like this" reads."""

from __future__ import annotations

from search.core.records import Paper


def snippet_fields(paper: Paper) -> list[tuple[str, str]]:
    """Candidate texts, most readable first: a tie in matches keeps the earlier one. The
    build analyses exactly these texts (``index/artifacts/snippet_build.py``)."""
    return [(n, flatten(t)) for n, t in raw_fields(paper)]


def raw_fields(paper: Paper) -> list[tuple[str, str]]:
    """The record's parts behind :func:`snippet_fields`, before flattening (a part is a
    field exactly when it is not blank, and flattening keeps such text non-blank)."""
    out = [("summary", paper.summary), ("abstract", paper.abstract)]
    if paper.key_points:
        out.append(("key_points", " · ".join(paper.key_points)))
    out += [(f"section:{k}", v) for k, v in paper.sections.items()]
    return [(n, t) for n, t in out if t and not t.isspace()]  # isspace: no copy, as strip() made


def flatten(text: str) -> str:
    """One line of prose: Markdown list dashes dropped, whitespace collapsed."""
    lines = (line.strip().removeprefix("- ").removeprefix("* ") for line in text.splitlines())
    return " ".join(" ".join(line.split()) for line in lines if line)
