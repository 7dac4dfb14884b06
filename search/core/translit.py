"""Sound keys that let a Korean loanword meet the English word it transliterates.

"에이전트" and "agent", "트랜스포머" and "transformer", "벤치마크" and "benchmark": Korean
loanwords keep the English consonants in order and drop or add vowels. A key made of
consonant classes only (vowels dropped, voiced/voiceless merged, the English "r" that
Korean does not pronounce dropped) is therefore the same for both spellings. The build
keys the corpus vocabulary; a query word is keyed at query time and meets the corpus
words with its key (``search/legs/expansion.py``). Keys shorter than ``MIN_KEY`` consonants
collide too often to be trusted.
"""

from __future__ import annotations

import re

MIN_KEY = 3  # consonant classes (a leading vowel mark counts as one)

# Consonant classes. Korean merges what English tells apart (p/f, s/sh/j/z, r/l), so the
# classes are the coarse ones Korean spelling can express.
_CHO = "KKNTTRMPPSSxSSSKTPH"  # 19 initial jamo; ㅇ (x) is silent as an initial
_JONG = ["", "K", "K", "K", "N", "N", "N", "T", "R", "R", "R", "R", "R", "R", "R", "R",
         "M", "P", "P", "T", "T", "N", "T", "T", "K", "T", "P", "T"]  # 28 finals; ㅇ = ng
_HANGUL_WORD = re.compile(r"^[가-힣]+$")
_LATIN_WORD = re.compile(r"^[a-z]+$")
_VOWELS = set("aeiouy")


def hangul_key(word: str) -> str:
    """Consonant-class key of a Hangul word ("에이전트" → "SNT")."""
    if not _HANGUL_WORD.match(word):
        return ""
    out: list[str] = ["V"] if (ord(word[0]) - 0xAC00) // 588 == 11 else []  # starts with a vowel
    for ch in word:
        code = ord(ch) - 0xAC00
        cho, jong = code // 588, code % 28
        if _CHO[cho] != "x":
            out.append(_CHO[cho])
        if _JONG[jong]:
            out.append(_JONG[jong])
    return _squeeze(out)


# English spellings to classes, longest first; "r" is handled by position below.
_LATIN_RULES: tuple[tuple[str, str], ...] = (
    ("tion", "SN"), ("sion", "SN"), ("ture", "S"), ("sch", "SK"), ("tch", "S"),
    ("ch", "S"), ("sh", "S"), ("th", "S"), ("ph", "P"), ("ck", "K"), ("gh", ""), ("ng", "N"),
    ("qu", "K"), ("x", "KS"), ("b", "P"), ("p", "P"), ("f", "P"), ("v", "P"), ("k", "K"),
    ("q", "K"), ("d", "T"), ("t", "T"), ("s", "S"), ("z", "S"), ("j", "S"), ("l", "R"),
    ("m", "M"), ("n", "N"), ("h", "H"),
)


def latin_key(word: str) -> str:
    """Consonant-class key of an English word ("agent" → "SNT", "transformer" → "TRNSPM")."""
    w = word.lower()
    if not _LATIN_WORD.match(w):
        return ""
    out: list[str] = ["V"] if w[0] in "aeiouyw" else []  # "agent" / 에이전트, "image" / 이미지
    i = 0
    while i < len(w):
        c = w[i]
        nxt = w[i + 1] if i + 1 < len(w) else ""
        if c in _VOWELS or c == "w":
            i += 1
            continue
        if c == "r":
            # Korean drops an "r" that closes a syllable: "former" → 포머, "turn" → 턴.
            prev = w[i - 1] if i else ""
            if not (prev in _VOWELS and nxt not in _VOWELS):
                out.append("R")
            i += 1
            continue
        for spelling, cls in _LATIN_RULES:
            if w.startswith(spelling, i):
                out.extend(cls)
                i += len(spelling)
                break
        else:
            if c in "cg":  # soft before e/i/y: "agent" → 에이전트, "cell" → 셀
                out.append("S" if nxt in ("e", "i", "y") else "K")
                i += 2 if nxt == c else 1
            else:
                i += 1
    return _squeeze(out)


# Vowels, coarsely: Korean ㅓ is the sound of an unstressed English vowel, ㅡ and ㅣ after
# a final consonant are added by Korean spelling and carry nothing.
_JUNG = ["a", "e", "a", "e", "e", "e", "o", "e", "o", "a", "e", "e", "o", "u", "o", "e", "i", "u", "", "i", "i"]


def hangul_vowels(word: str) -> str:
    """Coarse vowel sequence of a Hangul word, to rank words that share a consonant key."""
    out = []
    for ch in word:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_JUNG[(code % 588) // 28])
    return "".join(v for v in out if v)


def latin_vowels(word: str) -> str:
    """First letter of each vowel group of an English word ("model" → "oe")."""
    groups = re.findall(r"[aeiou]+", word.lower())
    return "".join(g[0] for g in groups)


# Sino-Korean syllables (most of technical Korean) come from a small inventory: no final
# consonant besides ㄱ ㄴ ㄹ ㅁ ㅂ ㅇ, no ㅡ without a final, no ㅋ initial, no 디/티, no ㅔ
# after most consonants, no open ㅓ after most. A syllable outside it marks a loanword
# (트랜스포머, 모델, 카메라, 로봇); without one, a word sharing a key with an English word
# is a coincidence (사람 and "slam").
_SINO_FINALS = {0, 1, 4, 8, 16, 17, 21}  # none, ㄱ ㄴ ㄹ ㅁ ㅂ ㅇ
_E, _EO, _EU, _I, _WEO, _WE = 5, 4, 18, 20, 14, 15
_CHO_K, _CHO_T, _CHO_TT, _CHO_D = 15, 16, 4, 3


def looks_loanword(word: str) -> bool:
    """Whether a Hangul word has a syllable no Sino-Korean word has."""
    for ch in word:
        code = ord(ch) - 0xAC00
        if not 0 <= code < 11172:
            continue
        cho, jung, jong = code // 588, (code % 588) // 28, code % 28
        if jong not in _SINO_FINALS or cho == _CHO_K or jung in (_WEO, _WE) and not jong:
            return True
        if jung == _EU and not jong:
            return True
        if jung == _I and cho in (_CHO_D, _CHO_TT, _CHO_T):
            return True
        if jung == _E and cho not in (9, 10, 12, 13, 14):  # 세 제 체 (and ㅆ ㅉ) are Sino
            return True
        if jung == _EO and not jong and cho not in (0, 1, 9, 11, 12, 14, 18):  # 거 서 어 저 처 허
            return True
    return False


def _squeeze(classes: list[str]) -> str:
    # Doubled letters ("attention", "롤아웃") are one sound.
    out: list[str] = []
    for c in classes:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)
