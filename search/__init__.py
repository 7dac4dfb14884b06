"""Query-time side of papersearch: reads the artifacts that ``index/`` writes.

Shared pieces that build time also needs (the tokenizer, the encoder, the index layout)
live here because the query side must use them unchanged; ``index/`` imports them, never
the other way round.
"""

from search.core.threads import configure_openmp

__version__ = "0.1.0"

# Before any native library loads: OpenMP reads its waiting policy once (search/core/threads.py).
configure_openmp()
