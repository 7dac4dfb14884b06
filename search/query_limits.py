"""What a request may ask and what it gets by default: sizes, depths, fusion weights, and
the checks that turn a bad request into ``InvalidQuery``. Shared by the local and the
Milvus engines and read by the HTTP API's schema."""

from __future__ import annotations

from search.errors import InvalidQuery

MAX_QUERY_CHARS = 500
MAX_TEXT_CHARS = 20_000
# More-like-this reads a pasted text's first this many characters: its terms are known by
# then, and Kiwi's time grows faster than the text.
MLT_CHARS = 4_000
MAX_K = 100
MAX_OFFSET = 1000
CANDIDATES = 100  # each leg's depth before fusion
FUSIONS = ("rrf", "weighted")
# Default per-leg fusion weights (1.0 for a leg not named); chosen on the dev set, see
# README "Models". An explicit ``weights`` argument replaces them.
DEFAULT_WEIGHTS: dict[str, float] = {}
# Similar papers: BM25 more-like-this fused with the stored vectors of every dense leg,
# USE at half weight (its sentence-level vectors ranked neighbouring papers worst on the
# dev set; README "Models").
SIMILAR_MODE = "hybrid"
SIMILAR_WEIGHTS: dict[str, float] = {"use": 0.5}


def check_text(text: str, what: str, limit: int) -> str:
    """``text`` stripped, or ``InvalidQuery`` when it is empty or longer than ``limit``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidQuery(f"{what} is empty")
    text = text.strip()
    if len(text) > limit:
        raise InvalidQuery(f"{what} is {len(text)} characters; the limit is {limit}")
    return text


def check_page(k: int, offset: int) -> None:
    if not 1 <= k <= MAX_K:
        raise InvalidQuery(f"k must be between 1 and {MAX_K}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidQuery(f"offset must be between 0 and {MAX_OFFSET}")


def check_fusion(fusion: str) -> None:
    if fusion not in FUSIONS:
        raise InvalidQuery(f"unknown fusion {fusion!r}: use one of {', '.join(FUSIONS)}")
