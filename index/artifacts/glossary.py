"""Mine a Korean↔English glossary from the digests themselves.

The digests gloss their terms in parentheses, both ways: "병렬 조정 추론(Parallel
Coordinated Reasoning, PaCoRe)", "소형 효율성(compact efficiency)", "PaCoRe(병렬 조정
추론)". Each such gloss is an alias group: the phrase before the parenthesis and each
comma-separated alternative inside it, labelled Korean (``ko``), English phrase (``en``)
or acronym (``acr``); ``index/artifacts/gloss_pairs.py`` parses one window into pairs. Pairs of
different labels become glossary entries, counted over the corpus; English and Korean
words that line up in several entries become word pairs.

Only short windows around each parenthesis go through Kiwi (a small fraction of the
corpus); phrase counts reuse the documents' token lists (or token ids) the build already
has, through an index of term positions built once (:class:`PhraseCounter`). The cost is
linear in the corpus and dominated by Kiwi over the windows (~0.35 ms a paper on the
synthetic corpus: 100k papers mine in ~40 s, against minutes for tokenizing them), so
there is no cap on how many papers are mined. A build that changes few papers does not
call this on the whole corpus: ``index/artifacts/glossary_update.py`` mines only those (``only``)
and merges.

The result is plain JSON (``glossary.json`` in the build); ``search/legs/expansion.py`` reads it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from index.artifacts.gloss_pairs import HANGUL, LATIN_WORD, Side, gloss_pairs
from index.artifacts.phrase_counter import PhraseCounter, distinct_terms
from search.core.tokenizer import KiwiTokenizer
from search.core.translit import MIN_KEY, hangul_key, latin_key, looks_loanword

GLOSSARY_VERSION = 1
WINDOW = 48  # characters before "(" that may hold the glossed phrase
MAX_INSIDE = 80  # longer parentheticals are remarks, not glosses

# One level of nesting: "(Q-Sched(적응형))" still closes at the right parenthesis.
_PAREN = re.compile(r"\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\)")
_SENTENCE_END = re.compile(r"[.!?。\n:;]")


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
        {"a": a.to_dict(), "b": b.to_dict(), "count": c, "texts": n_texts[(a, b)]}
        for (a, b), c in sorted(pair_count.items(), key=lambda kv: (-kv[1], kv[0][0].text))
    ]


def word_pairs(pair_count: Counter[tuple[Side, Side]], min_support: int) -> list[dict[str, Any]]:
    """Korean↔English word pairs: single-word glosses, and words in the same position of
    equally long glosses when several glosses agree (or the words sound alike)."""
    support: Counter[tuple[str, str]] = Counter()
    direct: set[tuple[str, str]] = set()
    for (a, b), _count in pair_count.items():
        if a.kind != "ko" or b.kind != "en" or len(a.terms) != len(b.terms):
            continue
        for ko, en in zip(a.terms, b.terms):
            if ko != en and HANGUL.search(ko):
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
        if HANGUL.search(t) and looks_loanword(t):
            key = hangul_key(t)
            if len(key) >= MIN_KEY:
                ko[t] = key
    stem = tokenizer.stem_latin
    en: dict[str, list[str]] = {}  # stem -> [key, unstemmed word]
    for w in dict.fromkeys(chain.from_iterable(map(LATIN_WORD.findall, texts))):
        if len(w) < 3 or "-" in w or sum(c.isupper() for c in w) > 1:
            continue  # acronyms and names ("MATTRL", "PaCoRe") are not pronounced words
        w = w.lower()
        s = stem(w)
        if s not in en:
            key = latin_key(w)
            if len(key) >= MIN_KEY:
                en[s] = [key, w]
    return {"ko": ko, "en": en}
