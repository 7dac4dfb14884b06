"""Kiwi tokenization, shared unchanged by the build and the query side.

Content morphemes only: nouns, verb/adjective stems, roots, foreign words and numbers.
Particles and endings carry no topic, and dropping them is what lets "강화학습을" match
"강화 학습". Latin words are lowercased, English stopwords dropped and stems taken
(PyStemmer's Snowball, the stemmer bm25s itself uses) so "agents" meets "agent".

The settings travel with the index (``manifest.json``): a query side whose settings differ
refuses the index instead of silently mis-matching tokens.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from search.core.errors import IndexIncompatible

KEEP_TAGS: tuple[str, ...] = (
    "NNG", "NNP", "NR",  # common/proper nouns, numerals
    "VV", "VA", "XR",  # verb and adjective stems, roots
    "SL", "SH", "SN",  # Latin, Hanja, numbers
    "W_SERIAL",  # ids such as 2509.02544
)
# Stems so frequent in digest prose that they only add noise to BM25.
KOREAN_STOPWORDS: tuple[str, ...] = ("하", "되", "있", "없", "같", "위하", "통하", "대하", "이루")


@dataclass(frozen=True)
class TokenizerSettings:
    kiwi_version: str
    model_type: str
    # Kiwi's typo dictionary serves only typo correction (not used), and its multi-word
    # dictionary of web-collected proper nouns changed no token of the sample corpus;
    # leaving both out cuts Kiwi's start-up (paid by every CLI call, server start and
    # build) from about 4.8 s to 1.5 s on a 2-core machine.
    kiwi_typo_dict: bool = False
    kiwi_multi_dict: bool = False
    keep_tags: tuple[str, ...] = KEEP_TAGS
    korean_stopwords: tuple[str, ...] = KOREAN_STOPWORDS
    latin_lowercase: bool = True
    latin_stemmer: str | None = "english"
    latin_stopwords: str | None = "en"
    version: int = 4  # bump when the token rules in this module change (also keys the token cache)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["keep_tags"] = list(self.keep_tags)
        d["korean_stopwords"] = list(self.korean_stopwords)
        return d

    @classmethod
    def default(cls) -> "TokenizerSettings":
        import kiwipiepy

        return cls(kiwi_version=kiwipiepy.__version__, model_type=_model_type())


def _model_type() -> str:
    return os.environ.get("PAPERSEARCH_KIWI_MODEL", "cong")


@dataclass(frozen=True)
class Token:
    """One kept morpheme: its index term and where its surface form sits in the text."""

    term: str
    start: int
    end: int


class KiwiTokenizer:
    """Turns text into BM25 terms. Thread-safe; Kiwi is loaded once per process."""

    _lock = threading.Lock()
    _kiwi_cache: dict[tuple[str, bool, bool, int], Any] = {}

    def __init__(
        self, settings: TokenizerSettings | None = None, num_workers: int | None = None, kiwi: Any | None = None
    ):
        """``kiwi``: something with Kiwi's ``tokenize`` (a string, or an iterable of them)
        to use instead of this process's Kiwi; tokens need ``form``, ``tag``, ``start``
        and ``len``. The build passes a Kiwi loading in a helper process."""
        self.settings = settings or TokenizerSettings.default()
        self.num_workers = num_workers if num_workers is not None else (os.cpu_count() or 1)
        self._keep = frozenset(self.settings.keep_tags)
        self._ko_stop = frozenset(self.settings.korean_stopwords)
        self._en_stop = _latin_stopwords(self.settings.latin_stopwords)
        self._stem = _stemmer(self.settings.latin_stemmer)
        self._backend = kiwi

    @property
    def kiwi(self) -> Any:
        if self._backend is not None:
            return self._backend
        return self.local_kiwi

    @property
    def local_kiwi_loaded(self) -> bool:
        s = self.settings
        return (s.model_type, s.kiwi_typo_dict, s.kiwi_multi_dict, self.num_workers) in self._kiwi_cache

    @property
    def local_kiwi(self) -> Any:
        """This process's Kiwi, loaded once per process and settings."""
        s = self.settings
        key = (s.model_type, s.kiwi_typo_dict, s.kiwi_multi_dict, self.num_workers)
        with self._lock:
            if key not in self._kiwi_cache:
                self._kiwi_cache[key] = make_kiwi(s, self.num_workers)
            return self._kiwi_cache[key]

    def tokenize(self, text: str) -> list[str]:
        return [t.term for t in self.analyze(text)]

    def analyze(self, text: str) -> list[Token]:
        """Kept morphemes with character offsets (for highlighting matched surface text)."""
        if not text.strip():
            return []
        return self.keep_morphemes(self.kiwi.tokenize(text))

    def tokenize_many(
        self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> list[list[str]]:
        """Tokenize a batch on Kiwi's worker threads; results keep the input order."""
        out: list[list[str]] = []
        # Kiwi's iterator API spreads the texts over its worker pool.
        for raw in self.kiwi.tokenize(iter(texts)):
            out.append([t.term for t in self.keep_morphemes(raw)])
            if on_progress is not None:
                on_progress(1)
        return out

    def analyze_many(
        self, texts: Iterable[str], on_progress: Callable[[int], None] | None = None
    ) -> Iterator[list[Token]]:
        """:meth:`analyze` for a stream of texts, on Kiwi's worker threads, yielded in input
        order. Streaming both ways: a build analysing 100k papers never holds all texts or
        all tokens."""
        blank: deque[bool] = deque()  # per text Kiwi has pulled: blank ones it never sees

        def feed() -> Iterator[str]:
            for text in texts:
                empty = not text.strip()
                blank.append(empty)
                if not empty:
                    yield text

        for raw in self.kiwi.tokenize(feed()):
            while blank.popleft():
                yield []
            yield self.keep_morphemes(raw)
            if on_progress is not None:
                on_progress(1)
        yield from ([] for flag in blank if flag)  # trailing blank texts

    def stem_latin(self, word: str) -> str:
        """A Latin word as the settings' stemmer makes it (unchanged without a stemmer)."""
        return self._stem(word) if self._stem is not None else word

    def keep_morphemes(self, raw: Iterable[Any]) -> list[Token]:
        """The BM25 terms among morphemes Kiwi has already made (objects with ``form``,
        ``tag``, ``start`` and ``len``): for callers that run Kiwi themselves, on a window
        or a slice of one, and need the terms a document's tokens would have."""
        kept: list[Token] = []
        for tok in raw:
            tag = tok.tag
            if tag.endswith(("-R", "-I")):  # irregular-conjugation marks, e.g. VV-R
                tag = tag[:-2]
            if tag not in self._keep:
                continue
            term = tok.form
            end = tok.start + tok.len
            if tag == "SL":
                # Kiwi keeps a sentence-final period on Latin words ("RL." in "... RL."),
                # which would never meet the query's "rl".
                stripped = term.rstrip(".")
                end -= len(term) - len(stripped)
                term = stripped
                if not term:
                    continue
                # Plural acronyms ("LLMs", "VLMs") are the acronym; Snowball leaves them be.
                if len(term) > 2 and term[-1] == "s" and term[:-1].isupper():
                    term = term[:-1]
                acronym = term.isupper()
                if self.settings.latin_lowercase:
                    term = term.lower()
                if term in self._en_stop:
                    continue
                # Acronyms are names, not words: stemming would turn AIME into "aim".
                if self._stem is not None and not acronym:
                    term = self._stem(term)
            elif term in self._ko_stop:
                continue
            kept.append(Token(term, tok.start, end))
        return kept

    def check_compatible(self, built_with: dict[str, Any]) -> None:
        """Refuse an index whose tokens were made with other settings."""
        mine = self.settings.to_dict()
        if built_with != mine:
            diff = sorted(k for k in set(mine) | set(built_with) if mine.get(k) != built_with.get(k))
            raise IndexIncompatible(
                "index was built with other tokenizer settings "
                f"({', '.join(diff)} differ): rebuild it with `papersearch index build --full`"
            )


def make_kiwi(settings: TokenizerSettings, num_workers: int) -> Any:
    from kiwipiepy import Kiwi

    return Kiwi(
        num_workers=num_workers,
        model_type=settings.model_type,
        load_typo_dict=settings.kiwi_typo_dict,
        load_multi_dict=settings.kiwi_multi_dict,
    )


def _latin_stopwords(name: str | None) -> frozenset[str]:
    if name is None:
        return frozenset()
    from bm25s.stopwords import STOPWORDS_EN

    if name != "en":
        raise ValueError(f"unknown stopword list {name!r}")
    # Question words matter in English queries ("how do ...") no more than particles do.
    return frozenset(STOPWORDS_EN) | {"can", "do", "does", "how", "what", "which", "why", "just", "only", "when", "we", "our", "its", "from", "via", "up", "your", "e.g", "i.e", "etc"}


def _stemmer(name: str | None) -> Callable[[str], str] | None:
    if name is None:
        return None
    import Stemmer

    return Stemmer.Stemmer(name).stemWord
