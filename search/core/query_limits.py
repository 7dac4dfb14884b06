"""What a request may ask and what it gets by default: sizes, depths, fusion weights, and
the checks that turn a bad request into ``InvalidQuery``. Shared by the local and the
Milvus engines and read by the HTTP API's schema."""

from __future__ import annotations

import re

from search.core.errors import InvalidQuery

MAX_QUERY_CHARS = 500
MAX_TEXT_CHARS = 20_000
# More-like-this reads a pasted text's first this many characters: its terms are known by
# then, and Kiwi's time grows faster than the text.
MLT_CHARS = 4_000
DEFAULT_K = 10
MAX_K = 100
MAX_OFFSET = 1000
MAX_IDS = 20  # "papers like these": at most this many chosen papers
MAX_UPVOTES = 1_000_000_000  # what a digest may say (index/parse/digest_values.py) and a filter ask
CANDIDATES = 100  # each leg's depth before fusion
# Similar papers: BM25 more-like-this (the record's tf·idf-chosen terms) fused with the
# stored vectors of every dense leg by z-score, USE at half weight (its sentence-level
# vectors ranked neighbouring papers worst on the dev set; README "Similar papers").
SIMILAR_MODE = "hybrid"
SIMILAR_FUSION = "zscore"
SIMILAR_WEIGHTS: dict[str, float] = {"use": 0.5}


# A lone UTF-16 surrogate is no character: a JSON escape ("\\ud800") or an undecodable
# command-line byte (Python's surrogateescape) puts one in a str, and UTF-8 cannot encode
# it (a tokenizer, an encoder's C library or a JSON answer would fail on it).
_SURROGATES = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` without surrogate code points (UTF-8 encodes none, paired or not)."""
    return _SURROGATES.sub("", text) if _SURROGATES.search(text) else text


def check_text(text: str, what: str, limit: int) -> str:
    """``text`` stripped (of surrounding space and lone surrogates), or ``InvalidQuery``
    when it is then empty or longer than ``limit``."""
    if not isinstance(text, str):
        raise InvalidQuery(f"{what} is empty", code="empty_text", params={"what": what})
    text = without_surrogates(text).strip()
    if not text:
        raise InvalidQuery(f"{what} is empty", code="empty_text", params={"what": what})
    if len(text) > limit:
        raise InvalidQuery(
            f"{what} is {len(text)} characters; the limit is {limit}",
            code="text_too_long", params={"what": what, "length": len(text), "limit": limit},
        )
    return text


def check_page(k: int, offset: int) -> None:
    if not 1 <= k <= MAX_K:
        raise InvalidQuery(f"k must be between 1 and {MAX_K}", code="out_of_range", params={"field": "k", "min": 1, "max": MAX_K})
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidQuery(
            f"offset must be between 0 and {MAX_OFFSET}", code="out_of_range", params={"field": "offset", "min": 0, "max": MAX_OFFSET}
        )

