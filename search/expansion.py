"""Query-time expansion: the query's own BM25 terms plus weighted variants.

Four sources, each weighted below the query's own terms (weight 1) so an expansion can
lift a paper that lacks the user's words but never outrank one that has them:

* spacing and compounds: "캡션손실" → 캡션 + 손실 when the corpus has those words, and
  adjacent query words joined when the corpus writes them as one;
* transliteration: a Hangul query word meets the corpus's English words that sound the
  same ("에이전트" → agent) and an English query word the corpus's loanwords
  ("caption" → 캡션), by the sound keys of ``search/translit.py``;
* the mined glossary's phrase pairs: a query containing every term of one side of a pair
  gets the other side ("parallel coordinated reasoning" → 병렬 조정 추론, "LLM" → 대형
  언어 모델);
* its word pairs ("diffusion" → 확산, "환각" → hallucination).

Expansion terms the index does not contain are dropped: they could never match.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from search.translit import MIN_KEY, hangul_key, hangul_vowels, latin_key, latin_vowels

W_SPACING = 0.8
W_TRANSLIT = 0.7
W_PHRASE = 0.5
W_WORD = 0.4

_HANGUL_RUN = re.compile(r"[가-힣]+")
_LATIN_RUN = re.compile(r"[A-Za-z]+")
_HANGUL = re.compile(r"[가-힣]")
MAX_TAIL = 3  # characters of particle/ending a compound may carry ("손실만으로")
MIN_VOWEL_MATCH = 0.5


class Expander:
    """Expands a query's own terms; built once per loaded index."""

    def __init__(self, glossary: Mapping[str, Any] | None, vocab: Mapping[str, Any]):
        self.vocab = vocab
        g = glossary or {}
        # Phrase pairs, both directions: source term set → target terms.
        self.phrases: dict[str, list[tuple[frozenset[str], tuple[str, ...]]]] = defaultdict(list)
        for pair in g.get("pairs", []):
            a, b = tuple(pair["a"]["terms"]), tuple(pair["b"]["terms"])
            for src, dst in ((a, b), (b, a)):
                if src and dst:
                    self.phrases[src[0]].append((frozenset(src), dst))
        self.words: dict[str, set[str]] = defaultdict(set)
        for w in g.get("words", []):
            self.words[w["ko"]].add(w["en"])
            self.words[w["en"]].add(w["ko"])
        tr = g.get("translit", {})
        self.ko_by_key: dict[str, list[str]] = defaultdict(list)
        for term, key in tr.get("ko", {}).items():
            self.ko_by_key[key].append(term)
        self.en_by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for stem, (key, word) in tr.get("en", {}).items():
            self.en_by_key[key].append((stem, word))

    def expand(self, query: str, own: Mapping[str, float]) -> dict[str, float]:
        """The own terms (unchanged) plus expansion terms weighted below 1."""
        out = dict(own)
        order = list(own)

        def add(term: str, weight: float) -> None:
            if term in self.vocab and out.get(term, 0.0) < weight:
                out[term] = weight

        for term in self._spacing(query, order):
            add(term, W_SPACING)
        for term in self._transliterations(query, order):
            add(term, W_TRANSLIT)
        present = set(out)
        for first in present:
            for src, dst in self.phrases.get(first, ()):
                if src <= present:
                    for term in dst:
                        add(term, W_PHRASE)
        for term in list(present):
            for other in self.words.get(term, ()):
                add(other, W_WORD)
        return out

    # -- spacing ----------------------------------------------------------------------

    def _spacing(self, query: str, order: list[str]) -> list[str]:
        found: list[str] = []
        # Joined: "다중 턴" where the corpus writes "다중턴" as one term.
        for a, b in zip(order, order[1:]):
            if _HANGUL.search(a) and _HANGUL.search(b) and a + b in self.vocab:
                found.append(a + b)
        # Split: a written compound Kiwi did not take apart into corpus words.
        for word in _HANGUL_RUN.findall(query):
            if len(word) >= 3 and word not in self.vocab:
                parts = self._segment(word)
                if parts and len(parts) > 1:
                    found.extend(parts)
        return found

    def _segment(self, word: str) -> list[str] | None:
        """Fewest corpus words covering ``word`` (a short unknown tail allowed for particles)."""
        n = len(word)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            if best[i] is None:
                continue
            for j in range(i + 2, n + 1):
                piece = word[i:j]
                if piece in self.vocab:
                    cand = best[i] + [piece]  # type: ignore[operator]
                    if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                        best[j] = cand
        for end in range(n, max(n - MAX_TAIL, 0) - 1, -1):
            if best[end]:
                return best[end]
        return None

    # -- transliteration ----------------------------------------------------------------

    def _transliterations(self, query: str, order: list[str]) -> list[str]:
        found: list[str] = []
        for term in order:
            key = hangul_key(term)
            if len(key) >= MIN_KEY:
                cands = [(stem, latin_vowels(word)) for stem, word in self.en_by_key.get(key, ())]
                found.extend(_closest(hangul_vowels(term), cands))
        for word in _LATIN_RUN.findall(query):
            key = latin_key(word)
            if len(key) >= MIN_KEY:
                cands = [(t, hangul_vowels(t)) for t in self.ko_by_key.get(key, ())]
                found.extend(_closest(latin_vowels(word), cands))
        return found


def _closest(vowels: str, cands: list[tuple[str, str]]) -> list[str]:
    """Among words sharing a consonant key, those whose vowels match best ("모델" is
    model, not modal)."""
    if not cands:
        return []
    scored = [(difflib.SequenceMatcher(None, vowels, v).ratio(), t) for t, v in cands]
    top = max(s for s, _ in scored)
    if top < MIN_VOWEL_MATCH:
        return []
    return [t for s, t in scored if s == top]
