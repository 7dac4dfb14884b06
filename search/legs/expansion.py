"""Query-time expansion: the query's own BM25 terms plus weighted variants.

Four sources, each weighted below the query's own terms (weight 1) so an expansion can
lift a paper that lacks the user's words but never outrank one that has them:

* spacing and compounds: "캡션손실" → 캡션 + 손실 when the corpus has those words, and
  adjacent query words joined when the corpus writes them as one;
* transliteration: a Hangul query word meets the corpus's English words that sound the
  same ("에이전트" → agent) and an English query word the corpus's loanwords
  ("caption" → 캡션), by the sound keys of ``search/core/translit.py``;
* the mined glossary's phrase pairs: a query containing every term of one side of a pair
  gets the other side ("parallel coordinated reasoning" → 병렬 조정 추론, "LLM" → 대형
  언어 모델);
* its word pairs ("diffusion" → 확산, "환각" → hallucination).

Expansion terms the index does not contain are dropped: they could never match.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from search.core.translit import (
    MIN_KEY,
    hangul_key,
    hangul_vowels,
    latin_key,
    latin_vowels,
    looks_loanword,
)

W_SPACING = 0.8
W_TRANSLIT = 0.7
W_PHRASE = 0.5
W_WORD = 0.4

_HANGUL_RUN = re.compile(r"[가-힣]+")
_LATIN_RUN = re.compile(r"[A-Za-z]+")
_HANGUL = re.compile(r"[가-힣]")
MAX_TAIL = 3  # characters of particle/ending a compound may carry ("손실만으로")
MIN_VOWEL_MATCH = 0.4
DOMINANCE = 3  # a gloss seen under a third as often as the phrase's usual one is dropped
MEMO_SIZE = 20_000  # query words whose transliterations are kept: ~1 MB, at most ~10 MB of 500-character words


class Expander:
    """Expands a query's own terms; built once per loaded index."""

    def __init__(self, glossary: Mapping[str, Any] | None, df: Callable[[str], int], n_docs: int):
        self.df = df
        self.n_docs = n_docs
        g = glossary or {}
        # Phrase pairs, both directions: source term set → target terms.
        # (source terms as a set to test, the same in order to weigh, target terms)
        self.phrases: dict[str, list[tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]]] = defaultdict(list)
        for src, dst in dominant_pairs(g.get("pairs", [])):  # in glossary order
            self.phrases[src[0]].append((frozenset(src), src, dst))
        # Lists in glossary order, not sets: a set's order changes with PYTHONHASHSEED, and
        # expansion order decides the order of terms (and of float additions) downstream.
        self.words: dict[str, list[str]] = defaultdict(list)
        for w in g.get("words", []):
            for a, b in ((w["ko"], w["en"]), (w["en"], w["ko"])):
                if b not in self.words[a]:
                    self.words[a].append(b)
        tr = g.get("translit", {})
        self.ko_by_key: dict[str, list[str]] = defaultdict(list)
        for term, key in tr.get("ko", {}).items():
            self.ko_by_key[key].append(term)
        self.en_by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for stem, (key, word) in tr.get("en", {}).items():
            self.en_by_key[key].append((stem, word))
        self._hangul_memo: dict[str, tuple[str, ...]] = {}
        self._latin_memo: dict[str, tuple[str, ...]] = {}

    def expand(self, query: str, own: Mapping[str, float]) -> dict[str, float]:
        """The own terms (unchanged) plus expansion terms weighted below 1."""
        out = dict(own)
        order = list(own)

        def add(term: str, weight: float, sources: Iterable[str]) -> None:
            # A translation carries no more evidence than the words it translates: its
            # weight is scaled down when it is rarer in the corpus (higher IDF) than they
            # are. Without that, English terms, rare in Korean prose, outweigh the query.
            if not self.df(term):
                return
            src = [self.idf(s) for s in sources if self.df(s)]
            if src:
                weight *= min(1.0, (sum(src) / len(src)) / self.idf(term))
            if out.get(term, 0.0) < weight:
                out[term] = weight

        for term in self._spacing(query, order):
            add(term, W_SPACING, ())
        base = list(out)  # the query's words, however spaced: sources for translation (in order)
        base_set = frozenset(base)
        for term, src in self._transliterations(query, order):
            add(term, W_TRANSLIT, (src,) if src in base_set else ())
        for first in base:
            for src_set, src, dst in self.phrases.get(first, ()):
                if src_set <= base_set:
                    for term in dst:
                        add(term, W_PHRASE, src)
        for term in base:
            for other in self.words.get(term, ()):
                add(other, W_WORD, (term,))
        return out

    def idf(self, term: str) -> float:
        df = self.df(term)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    # -- spacing ----------------------------------------------------------------------

    def _spacing(self, query: str, order: list[str]) -> list[str]:
        found: list[str] = []
        # Joined: "다중 턴" where the corpus writes "다중턴" as one term.
        for a, b in zip(order, order[1:]):
            if _HANGUL.search(a) and _HANGUL.search(b) and self.df(a + b):
                found.append(a + b)
        # Split: a written compound Kiwi analysed into a word the corpus lacks ("캡션손실"
        # → 션 + 손실). Words Kiwi handled are left alone: "공정성과" is 공정성 + a particle.
        unknown = [t for t in order if _HANGUL.search(t) and not self.df(t)]
        for word in _HANGUL_RUN.findall(query):
            if len(word) >= 3 and any(t in word for t in unknown) and not self.df(word):
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
                if self.df(piece):
                    cand = best[i] + [piece]  # type: ignore[operator]
                    if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                        best[j] = cand
        for end in range(n, max(n - MAX_TAIL, 0) - 1, -1):
            if best[end]:
                return best[end]
        return None

    # -- transliteration ----------------------------------------------------------------

    def _transliterations(self, query: str, order: list[str]) -> list[tuple[str, str]]:
        """(corpus word, query term it transliterates) pairs, both scripts."""
        found: list[tuple[str, str]] = []
        for term in order:
            found.extend((t, term) for t in self._from_hangul(term))
        stems = [t for t in order if not _HANGUL.search(t)]
        words = _LATIN_RUN.findall(query)
        # Korean does not inflect loanwords: "agents" is spelt 에이전트.
        words += [w[:-1] for w in words if len(w) > 3 and w.endswith("s") and not w.endswith("ss")]
        for word in words:
            targets = self._from_latin(word)
            if targets:
                src = next((s for s in stems if word.lower().startswith(s)), "")
                found.extend((t, src) for t in targets)
        return found

    # A word's transliterations depend on the word and the index alone, and queries share
    # their words: each is worked out once per loaded index (difflib is most of the cost).

    def _from_hangul(self, term: str) -> tuple[str, ...]:
        """Corpus words a Hangul query term transliterates: English stems, and the
        corpus's own spelling of a loanword it spells otherwise (트렌스포머 / 트랜스포머)."""
        memo = self._hangul_memo.get(term)
        if memo is not None:
            return memo
        key = hangul_key(term) if looks_loanword(term) else ""
        out: list[str] = []
        if len(key) >= MIN_KEY:
            cands = [(stem, latin_vowels(word)) for stem, word in self.en_by_key.get(key, ())]
            out += _closest(hangul_vowels(term), cands)
            if not self.df(term):
                cands = [(t, hangul_vowels(t)) for t in self.ko_by_key.get(key, ())]
                out += _closest(hangul_vowels(term), cands)
        return self._remember(self._hangul_memo, term, tuple(out))

    def _from_latin(self, word: str) -> tuple[str, ...]:
        """The corpus's loanwords that spell a Latin query word in Hangul."""
        memo = self._latin_memo.get(word)
        if memo is not None:
            return memo
        key = latin_key(word)
        out: list[str] = []
        if len(key) >= MIN_KEY:
            cands = [(t, hangul_vowels(t)) for t in self.ko_by_key.get(key, ())]
            out = _closest(latin_vowels(word), cands)
        return self._remember(self._latin_memo, word, tuple(out))

    @staticmethod
    def _remember(memo: dict[str, tuple[str, ...]], word: str, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(memo) >= MEMO_SIZE:
            memo.clear()  # bounded against hostile queries; real query words refill it fast
        memo[word] = value
        return value


def dominant_pairs(rows: Iterable[Mapping[str, Any]]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Phrase pairs in both directions, keeping for each source phrase only the targets of
    one kind (Korean, English, acronym) glossed at least ``1/DOMINANCE`` as often as that
    kind's most frequent one. A gloss names what the text means there, not always what
    the phrase means: "강화학습(ReReFL)" names one paper's method once, while
    "강화 학습(RL)" is written eight times; the method name is no translation of 강화학습."""
    counts: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = defaultdict(int)
    kinds: dict[tuple[str, ...], str] = {}
    for row in rows:
        a, b = tuple(row["a"]["terms"]), tuple(row["b"]["terms"])
        kinds[a], kinds[b] = row["a"].get("kind", ""), row["b"].get("kind", "")
        for src, dst in ((a, b), (b, a)):
            if src and dst:
                counts[(src, dst)] += int(row.get("count", 1))
    best: dict[tuple[tuple[str, ...], str], int] = defaultdict(int)
    for (src, dst), n in counts.items():
        key = (src, kinds[dst])
        best[key] = max(best[key], n)
    return [(src, dst) for (src, dst), n in counts.items() if n * DOMINANCE >= best[(src, kinds[dst])]]


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
