"""Untrusted digest text made safe to index: line endings, control characters, size
limits and the values a paper record holds (links, ids, dates, upvotes).

Digests come from other people's blogs and feeds. Everything here either normalises a
value or says, in one line, why it was refused; the parser turns that into a reported
problem (``ParseIssue``) and never lets one bad value stop a build.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from search.core.query_limits import (
    MAX_UPVOTES,  # one bound for what digests say and filters ask
)

# -- size limits ----------------------------------------------------------------------
# Generous for real digests: the largest sample paper has ~1,300 characters of text, its
# longest field ~900 and its longest title 150. The limits exist because Kiwi's time
# grows faster than the text (a 2 MB paper took 88 s): with them one paper costs at most
# ~MAX_PAPER_CHARS of tokenizing, so a build's time stays linear in its papers.
MAX_FILE_BYTES = 8 * 1024 * 1024  # a larger file is reported and skipped unread
MAX_TITLE_CHARS = 500
MAX_FIELD_CHARS = 20_000  # summary, abstract, each key point, each section
MAX_PAPER_CHARS = 60_000  # all text fields of one paper together
MAX_SECTIONS = 50  # sections of one paper; later ones are dropped (reported)
MAX_LINE_CHARS = 5_000  # a paper heading longer than this is not a heading
MAX_ISSUES_PER_FILE = 100  # then one line says how many more were found
# One file's parse: the largest allowed (8 MiB of real papers) takes ~1.3 s here
# (python -m bench.parse_bench); a file still going after this is reported and skipped.
MAX_PARSE_SECONDS = 30.0
# A cut looks this far back from the limit for a sentence end, then for a space.
_CUT_WINDOW = 2_000

# Characters that end a line in some Unicode tools but not in Markdown as read here
# (only \n and \r\n do): made spaces, so they can neither start a new paper nor glue
# two words together.
_SEPARATORS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Control characters (C0 and C1, DEL) and bidirectional overrides, which can disguise
# a title: dropped. A tab is plain whitespace.
_DROPPED = [c for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t" + _SEPARATORS]
_DROPPED += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_CLEAN = {ord("\t"): " ", **{ord(c): " " for c in _SEPARATORS}, **{c: None for c in _DROPPED}}
_UNCLEAN = re.compile("[" + re.escape(_SEPARATORS + "".join(chr(c) for c in _DROPPED)) + "]")


def split_lines(text: str) -> tuple[list[str], int]:
    """Lines split at ``\\n`` and ``\\r\\n`` only, each cleaned; and the 1-based line of
    the first control or separator character found (0: none)."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = 0
    for n, line in enumerate(lines):
        if _UNCLEAN.search(line):
            first = first or n + 1
            lines[n] = line.translate(_CLEAN)
        elif "\t" in line:
            lines[n] = line.replace("\t", " ")  # a tab is whitespace, not a problem
    return lines, first


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a sentence end, else at a space,
    so no word (or Kiwi morpheme) is split; ``…`` marks the cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    lo = max(0, len(head) - _CUT_WINDOW)
    for pattern in (r"[.!?。]\s", r"\s"):
        ends = [m.end() for m in re.finditer(pattern, head[lo:])]
        if ends:
            return head[: lo + ends[-1]].rstrip() + "…"
    return head + "…"


# -- links and ids ------------------------------------------------------------------

# The only link shapes a paper's id is read from: an arXiv abstract or PDF page, or a
# Hugging Face paper page, over http(s), with nothing after the id but a version, a
# ".pdf", a slash, a query or a fragment. Anything else (javascript:, data:, another
# host with "arxiv.org/abs/..." in its path, an id with extra digits) is refused.
_LINK = re.compile(
    r"^https?://(?P<host>(?:www\.|export\.)?arxiv\.org|(?:www\.)?huggingface\.co)"
    r"(?::(?:80|443))?"
    r"/(?P<kind>abs|pdf|papers)/(?P<id>[0-9]{4}\.[0-9]{4,5})(?P<version>v[0-9]{1,3})?"
    r"(?:\.pdf)?/?(?:[?#][^\s]*)?$",
    # ASCII: with Unicode case folding "arxıv" (dotless ı) and "httpſ" (long s) would
    # match, and \d would take fullwidth or Arabic-Indic digits as an id.
    re.IGNORECASE | re.ASCII,
)
ARXIV_ID = re.compile(r"^[0-9]{4}\.[0-9]{4,5}$", re.ASCII)


class BadValue(ValueError):
    """A value refused; its message is the reported problem."""


@dataclass(frozen=True)
class PaperLink:
    id: str
    url: str  # normalised: https, canonical host, no query or fragment


def _short(value: str, n: int = 80) -> str:
    return repr(value if len(value) <= n else value[:n] + "…")


def check_arxiv_id(pid: str) -> str:
    """A new-style arXiv id (``YYMM.NNNN`` to 2014, ``YYMM.NNNNN`` from 2015)."""
    if not ARXIV_ID.match(pid):
        raise BadValue(f"not an arXiv id: {_short(pid)}")
    yymm, number = pid.split(".")
    yy, mm = int(yymm[:2]), int(yymm[2:])
    if not 1 <= mm <= 12 or (yy, mm) < (7, 4):
        raise BadValue(f"not an arXiv id (no month {yymm}): {pid}")
    if len(number) != (5 if yy >= 15 else 4):
        raise BadValue(f"not an arXiv id ({len(number)} digits after {yymm}): {pid}")
    return pid


def paper_link(url: str) -> PaperLink:
    """The paper id a heading's link names, and the link to store."""
    m = _LINK.match(url)
    if not m:
        _refuse_look_alikes(url)
        raise BadValue(f"no arXiv id: link is not an http(s) arxiv.org or huggingface.co paper URL: {_short(url)}")
    host, kind = m.group("host").lower(), m.group("kind").lower()
    if ("huggingface" in host) != (kind == "papers"):
        raise BadValue(f"no arXiv id: link is not an http(s) arxiv.org or huggingface.co paper URL: {_short(url)}")
    pid = check_arxiv_id(m.group("id"))
    version = (m.group("version") or "").lower()
    if kind == "papers":
        return PaperLink(pid, f"https://huggingface.co/papers/{pid}")
    return PaperLink(pid, f"https://arxiv.org/{kind}/{pid}{version}")


def _refuse_look_alikes(url: str) -> None:
    """A link that is a paper link only once its characters are read as their ASCII
    look-alikes (fullwidth or Arabic-Indic digits, mathematical bold, a dotless ı in the
    host) is someone's attempt at a shadow paper: said so, with what it imitates."""
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    odd = sorted({c for c in head if ord(c) > 0x7F}, key=head.index)
    if not odd:
        return
    named = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in odd[:3]) + (" ..." if len(odd) > 3 else "")
    folded = "".join(_ascii_look(c) for c in unicodedata.normalize("NFKC", head))
    seen = f" (it imitates {_short(folded)})" if _LINK.match(folded) else ""
    raise BadValue(f"look-alike characters in a paper link ({named}): refused{seen}: {_short(url)}")


def _ascii_look(c: str) -> str:
    # Only for saying what a look-alike imitates: any script's digit as its ASCII digit.
    if c == "ı":
        return "i"
    return str(unicodedata.digit(c)) if ord(c) > 0x7F and unicodedata.category(c) == "Nd" else c


# -- dates and counts ---------------------------------------------------------------

_EARLIEST = dt.date(1991, 8, 14)  # arXiv's first day
_LATEST = dt.date(2100, 12, 31)  # fixed, not "today": a parse must not depend on the clock


def check_date(value: str) -> str:
    """A real calendar date ``YYYY-MM-DD`` in arXiv's lifetime."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"invalid date {value[:20]} (not a calendar date)") from None
    if not _EARLIEST <= day <= _LATEST:
        raise BadValue(f"invalid date {value} (outside {_EARLIEST}..{_LATEST})")
    return day.isoformat()


def check_upvotes(digits: str) -> int:
    if len(digits) > 10 or int(digits) > MAX_UPVOTES:
        raise BadValue(f"upvotes {_short(digits, 20)} out of range (0..{MAX_UPVOTES})")
    return int(digits)
