"""Mine a Korean↔English glossary from the digests themselves.

The digests gloss their terms in parentheses, both ways: "병렬 조정 추론(Parallel
Coordinated Reasoning, PaCoRe)", "소형 효율성(compact efficiency)", "PaCoRe(병렬 조정
추론)". Each such gloss is an alias group: the phrase before the parenthesis and each
comma-separated alternative inside it, labelled Korean (``ko``), English phrase (``en``)
or acronym (``acr``). Pairs of different labels become glossary entries, counted over the
corpus; English and Korean words that line up in several entries become word pairs.

Where the Korean phrase before "(" begins is the hard part ("본 연구는 대형 언어
모델(LLM)"). Kiwi marks the particles and endings that end the noun run; inside the run,
the English side says how many words to expect, and a longer phrase is kept only while it
is about as frequent in the corpus as the shorter one ("테스트 시 계산 능력" always comes
whole; "최근 강화 학습" is "강화 학습" with a stray adverb).

Only short windows around each parenthesis go through Kiwi (a small fraction of the
corpus); phrase counts reuse the documents' token lists (or token ids) the build already
has, through an index of term positions built once (:class:`PhraseCounter`). The cost is
linear in the corpus and dominated by Kiwi over the windows (~0.35 ms a paper on the
synthetic corpus: 100k papers mine in ~40 s, against minutes for tokenizing them), so
there is no cap on how many papers are mined. A build that changes few papers does not
call this on the whole corpus: ``index/glossary_update.py`` mines only those (``only``)
and merges.

The result is plain JSON (``glossary.json`` in the build); ``search/expansion.py`` reads it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from index.phrase_counter import PhraseCounter, distinct_terms
from search.tokenizer import KiwiTokenizer, Token
from search.translit import MIN_KEY, hangul_key, latin_key, looks_loanword

GLOSSARY_VERSION = 1
WINDOW = 48  # characters before "(" that may hold the glossed phrase
MAX_INSIDE = 80  # longer parentheticals are remarks, not glosses
MAX_WORDS = 6
MAX_ACRONYM = 12

# One level of nesting: "(Q-Sched(적응형))" still closes at the right parenthesis.
_PAREN = re.compile(r"\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\)")
_SENTENCE_END = re.compile(r"[.!?。\n:;]")
_HANGUL = re.compile(r"[가-힣]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*[A-Za-z]|[A-Za-z]")
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


def mine_glossary(
    texts: Sequence[str],
    doc_terms: Sequence[Sequence[str]],
    tokenizer: KiwiTokenizer,
    min_word_support: int = 2,
    only: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Glossary of a corpus: phrase pairs, word pairs and transliteration keys.

    With ``only`` (indexes into ``texts``), just those texts are mined, while phrase
    frequencies still come from the whole corpus: the part a merged build adds."""
    mined = range(len(texts)) if only is None else only
    pair_count, pair_texts = mine_pairs(texts, doc_terms, tokenizer, mined)
    return {
        "version": GLOSSARY_VERSION,
        "mode": "full",
        "papers_mined": len(mined),
        "pairs": pair_rows(pair_count, {k: len(v) for k, v in pair_texts.items()}),
        "words": word_pairs(pair_count, min_word_support),
        "translit": translit_keys(
            (texts[n] for n in mined), [doc_terms[n] for n in mined] if only is not None else doc_terms, tokenizer
        ),
    }


def mine_pairs(
    texts: Sequence[str], doc_terms: Sequence[Sequence[str]], tokenizer: KiwiTokenizer, mined: Iterable[int]
) -> tuple[Counter[tuple[Side, Side]], dict[tuple[Side, Side], set[int]]]:
    """Gloss pairs of the ``mined`` texts: how often each, and in which texts."""
    windows: list[tuple[int, str, int]] = []  # (text no., window, offset of "(" in it)
    for n in mined:
        text = texts[n]
        for m in _PAREN.finditer(text):
            inside = m.group(1)
            if not inside.strip() or len(inside) > MAX_INSIDE:
                continue
            start = max(0, m.start() - WINDOW)
            cut = [c.end() for c in _SENTENCE_END.finditer(text, start, m.start())]
            start = cut[-1] if cut else start
            windows.append((n, text[start : m.end()], m.start() - start))
    counter = PhraseCounter(doc_terms)
    pair_count: Counter[tuple[Side, Side]] = Counter()
    pair_texts: dict[tuple[Side, Side], set[int]] = defaultdict(set)
    raws = tokenizer.kiwi.tokenize(iter([w for _, w, _ in windows])) if windows else []
    for (n, window, paren), raw in zip(windows, raws):
        for a, b in gloss_pairs(list(raw), paren, tokenizer, counter):
            pair_count[(a, b)] += 1
            pair_texts[(a, b)].add(n)
    return pair_count, pair_texts


def pair_rows(pair_count: Counter[tuple[Side, Side]], n_texts: dict[tuple[Side, Side], int]) -> list[dict[str, Any]]:
    """The JSON rows of the pairs, most frequent first."""
    return [
        {"a": _side(a), "b": _side(b), "count": c, "texts": n_texts[(a, b)]}
        for (a, b), c in sorted(pair_count.items(), key=lambda kv: (-kv[1], kv[0][0].text))
    ]


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
    terms = tuple(t.term for t in tokenizer._keep_tokens(tokens))
    if not terms:
        return None
    if any(_HANGUL.search(t.form) for t in tokens):
        if not all(t.tag in _RUN_TAGS or t.tag.startswith("S") for t in tokens):
            return None  # a clause, not a term
        return Side(text, terms, "ko") if len(terms) <= MAX_WORDS else None
    words = _LATIN_WORD.findall(text)
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
    terms = tuple(t.term for t in tokenizer._keep_tokens(run))
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
        short_terms = [t.term for t in tokenizer._keep_tokens(run[starts[-take]:])]
        long_terms = [t.term for t in tokenizer._keep_tokens(run[starts[-take - 1]:])]
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


def _side(s: Side) -> dict[str, Any]:
    return {"text": s.text, "terms": list(s.terms), "kind": s.kind}


def word_pairs(pair_count: Counter[tuple[Side, Side]], min_support: int) -> list[dict[str, Any]]:
    """Korean↔English word pairs: single-word glosses, and words in the same position of
    equally long glosses when several glosses agree (or the words sound alike)."""
    support: Counter[tuple[str, str]] = Counter()
    direct: set[tuple[str, str]] = set()
    for (a, b), _count in pair_count.items():
        if a.kind != "ko" or b.kind != "en" or len(a.terms) != len(b.terms):
            continue
        for ko, en in zip(a.terms, b.terms):
            if ko != en and _HANGUL.search(ko):
                support[(ko, en)] += 1
        if len(a.terms) == 1:
            direct.add((a.terms[0], b.terms[0]))
    out = []
    for (ko, en), n in sorted(support.items()):
        sounds_alike = len(hangul_key(ko)) >= MIN_KEY and hangul_key(ko) == latin_key(en)
        if n >= min_support or (ko, en) in direct or sounds_alike:
            out.append({"ko": ko, "en": en, "support": n})
    return out


def translit_keys(texts: Iterable[str], doc_terms: Sequence[Sequence[str]], tokenizer: KiwiTokenizer) -> dict[str, Any]:
    """Sound keys of the corpus's Hangul terms and of its English words (by their stem),
    so a query's loanword can find the English word and the other way round."""
    # Each distinct term and word once, in order of first occurrence (the order the
    # JSON keeps): the per-item work below is Python, the dedup is C.
    ko: dict[str, str] = {}
    for t in distinct_terms(doc_terms):
        if _HANGUL.search(t) and looks_loanword(t):
            key = hangul_key(t)
            if len(key) >= MIN_KEY:
                ko[t] = key
    stem = _stemmer(tokenizer)
    en: dict[str, list[str]] = {}  # stem -> [key, unstemmed word]
    for w in dict.fromkeys(chain.from_iterable(map(_LATIN_WORD.findall, texts))):
        if len(w) < 3 or "-" in w or sum(c.isupper() for c in w) > 1:
            continue  # acronyms and names ("MATTRL", "PaCoRe") are not pronounced words
        w = w.lower()
        s = stem(w)
        if s not in en:
            key = latin_key(w)
            if len(key) >= MIN_KEY:
                en[s] = [key, w]
    return {"ko": ko, "en": en}


def _stemmer(tokenizer: KiwiTokenizer) -> Any:
    from search.tokenizer import _stemmer as make

    fn = make(tokenizer.settings.latin_stemmer)
    return fn if fn is not None else (lambda w: w)


__all__ = ["mine_glossary", "mine_pairs", "pair_rows", "word_pairs", "gloss_pairs", "PhraseCounter", "distinct_terms", "Side", "Token"]
