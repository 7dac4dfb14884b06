"""One gloss window parsed into alias pairs: "병렬 조정 추론(Parallel Coordinated
Reasoning, PaCoRe)" gives (병렬 조정 추론, Parallel Coordinated Reasoning), (병렬 조정 추론,
PaCoRe) and (Parallel Coordinated Reasoning, PaCoRe) as :class:`Side` pairs.

The phrase before "(" and each comma-separated alternative inside it is a side, labelled
Korean (``ko``), English phrase (``en``) or acronym (``acr``). Where the Korean phrase
before "(" begins is the hard part ("본 연구는 대형 언어 모델(LLM)"): Kiwi marks the
particles and endings that end the noun run; inside the run, the English side says how
many words to expect, and a longer phrase is kept only while it is about as frequent in
the corpus as the shorter one (``index.artifacts.phrase_counter``). ``index/artifacts/glossary.py`` finds the
windows and counts the pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from index.artifacts.phrase_counter import PhraseCounter
from search.core.tokenizer import KiwiTokenizer

MAX_WORDS = 6
MAX_ACRONYM = 12

HANGUL = re.compile(r"[가-힣]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*[A-Za-z]|[A-Za-z]")
# Tags that may sit inside a noun phrase; anything else (particles, endings) ends it.
_RUN_TAGS = {"NNG", "NNP", "NR", "SL", "SH", "XPN", "XSN", "SO"}
_CONTENT_TAGS = {"NNG", "NNP", "NR", "SL", "SH"}
# A parenthetical introducing examples or a list ("예: …", "… 등") is not a gloss.
_LIST_WORDS = {"예", "등", "e.g", "eg", "etc", "i.e", "ie", "vs"}


@dataclass(frozen=True)
class Side:
    text: str  # surface form, for people
    terms: tuple[str, ...]  # BM25 terms, for the query side
    kind: str  # "ko", "en" or "acr"

    def to_dict(self) -> dict[str, Any]:
        """The side as ``glossary.json`` stores it."""
        return {"text": self.text, "terms": list(self.terms), "kind": self.kind}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Side":
        return cls(d["text"], tuple(d["terms"]), d["kind"])


def gloss_pairs(raw: list[Any], paren: int, tokenizer: KiwiTokenizer, counter: "PhraseCounter") -> list[tuple[Side, Side]]:
    """Alias pairs from one "phrase(alternatives)" window tokenized by Kiwi."""
    before = [t for t in raw if t.start + t.len <= paren]
    inside = [t for t in raw if t.start > paren]
    if inside and inside[-1].form == ")":
        inside = inside[:-1]
    parts = _split_inside(inside)
    if parts is None:
        return []
    sides = [s for s in (_classify(p, tokenizer) for p in parts) if s is not None]
    kinds = [s.kind for s in sides]
    if not sides or len(set(kinds)) != len(kinds):
        return []  # two alternatives of one kind: a list ("텍스트, 이미지, 비디오"), not a gloss
    if "ko" not in kinds or len(sides) == 1:
        # The phrase before "(" is one alternative; inside Korean glosses stand alone.
        expect = _expected_words(sides)
        outer = _outer_phrase(before, paren, expect, tokenizer, counter)
        if outer is not None and outer.kind not in kinds:
            sides = [outer, *sides]
    out = []
    for i, a in enumerate(sides):
        for b in sides[i + 1 :]:
            if a.kind != b.kind and (a.kind == "ko" or b.kind == "ko" or "acr" in (a.kind, b.kind)):
                out.append(_ordered(a, b))
    return out


def _split_inside(tokens: list[Any]) -> list[list[Any]] | None:
    parts: list[list[Any]] = [[]]
    depth = 0
    for t in tokens:
        if t.tag == "SSO":
            depth += 1
            continue
        if t.tag == "SSC":
            depth -= 1
            continue
        if depth == 0 and t.form in (",", ";", "/"):
            parts.append([])
            continue
        if depth == 0:
            parts[-1].append(t)
    parts = [p for p in parts if p]
    if not parts or len(parts) > 3:
        return None
    for p in parts:
        if p[0].form.lower().rstrip(".:") in _LIST_WORDS or p[-1].form in _LIST_WORDS:
            return None
    return parts


def _classify(tokens: list[Any], tokenizer: KiwiTokenizer) -> Side | None:
    if any(t.tag == "SN" for t in tokens):
        return None  # sizes, scores, counts: "9배 크기", "평균 성인 94.1점"
    text = _surface(tokens)
    terms = tuple(t.term for t in tokenizer.keep_morphemes(tokens))
    if not terms:
        return None
    if any(HANGUL.search(t.form) for t in tokens):
        if not all(t.tag in _RUN_TAGS or t.tag.startswith("S") for t in tokens):
            return None  # a clause, not a term
        return Side(text, terms, "ko") if len(terms) <= MAX_WORDS else None
    words = LATIN_WORD.findall(text)
    if not words or len(words) > MAX_WORDS or max(len(w) for w in words) < 2 or ":" in text:
        return None  # "O(N)", "$O$", "Core Innovation: ..." are formulas and remarks
    if len(words) == 1 and sum(c.isupper() for c in words[0]) >= 2 and len(words[0]) <= MAX_ACRONYM:
        return Side(text, terms, "acr")
    return Side(text, terms, "en")


def _expected_words(sides: list[Side]) -> int:
    """How many Korean words the phrase before "(" should have."""
    for s in sides:
        if s.kind == "en":
            return len(s.terms)
    for s in sides:
        if s.kind == "acr":
            caps = sum(c.isupper() for c in s.text.rstrip("s"))
            return min(max(caps, 1), 5)
    return 3


def _outer_phrase(
    before: list[Any], paren: int, expect: int, tokenizer: KiwiTokenizer, counter: "PhraseCounter"
) -> Side | None:
    run: list[Any] = []
    for t in reversed(before):
        if t.tag not in _RUN_TAGS:
            break
        if run and t.start + t.len < run[-1].start - 1:
            break  # a gap of more than one space: not one phrase
        run.append(t)
    run.reverse()
    if not run or run[-1].start + run[-1].len < paren - 1:
        return None  # "LLM을 (...)": a particle between the phrase and the parenthesis
    if run[-1].tag in ("SL", "SO"):
        run = _latin_tail(run)
        kind = "acr" if len(run) == 1 and sum(c.isupper() for c in run[0].form) >= 2 else "en"
    else:
        kind = "ko"
        run = _korean_tail(run, expect, tokenizer, counter)
    if not run or run[0].tag in ("XSN", "SO"):
        return None
    terms = tuple(t.term for t in tokenizer.keep_morphemes(run))
    return Side(_surface(run), terms, kind) if terms else None


def _latin_tail(run: list[Any]) -> list[Any]:
    out: list[Any] = []
    for t in reversed(run):
        if t.tag not in ("SL", "SO"):
            break
        out.append(t)
    out.reverse()
    words = [t for t in out if t.tag == "SL"]
    return out if 0 < len(words) <= MAX_WORDS else []


def _korean_tail(run: list[Any], expect: int, tokenizer: KiwiTokenizer, counter: "PhraseCounter") -> list[Any]:
    """The last ``expect`` written words of the run ("에이전트 강화학습" for "Agentic RL":
    Kiwi's morphemes would split 강화학습 and miscount), grown while the longer phrase is
    about as frequent in the corpus as the shorter one (a fixed term, not a stray word)."""
    starts = [i for i, t in enumerate(run) if i == 0 or t.start > run[i - 1].start + run[i - 1].len]
    starts = [i for i in starts if any(t.tag in _CONTENT_TAGS for t in run[i:])]
    if not starts:
        return []
    take = min(expect, len(starts), MAX_WORDS)
    while take < min(len(starts), MAX_WORDS):
        short_terms = [t.term for t in tokenizer.keep_morphemes(run[starts[-take]:])]
        long_terms = [t.term for t in tokenizer.keep_morphemes(run[starts[-take - 1]:])]
        n_short, n_long = counter.count(short_terms), counter.count(long_terms)
        if n_long < 2 or n_long * 2 < n_short:
            break
        take += 1
    return run[starts[-take]:]


def _surface(tokens: list[Any]) -> str:
    out = ""
    end = None
    for t in tokens:
        if end is not None and t.start > end:
            out += " "
        out += t.form
        end = t.start + t.len
    return out.strip("'\"‘’“” ")


def _ordered(a: Side, b: Side) -> tuple[Side, Side]:
    rank = {"ko": 0, "en": 1, "acr": 2}
    return (a, b) if rank[a.kind] <= rank[b.kind] else (b, a)
