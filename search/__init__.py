"""Query-time side of papersearch: reads the artifacts that ``index/`` writes.

Shared pieces that build time also needs (the tokenizer, the encoder, the index layout)
live here because the query side must use them unchanged; ``index/`` imports them, never
the other way round.
"""

__version__ = "0.1.0"
