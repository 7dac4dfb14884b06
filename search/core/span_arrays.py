"""A build's snippet morphemes as arrays (the files: ``search/core/layout.py``), read
here for both sides: the build extends the served ones (``index/artifacts/snippet_build.py``
writes them), the server highlights and finds "more like this" terms with them
(``search/stores/snippet_spans.py``). Memory-mapped: every worker process serving one
build shares the pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.core.layout import BuildFiles, read_json


@dataclass
class SpanArrays:
    """One build's snippet morphemes in memory (see ``search/core/layout.py`` for the files)."""

    terms: np.ndarray  # int32 term id per morpheme
    starts: np.ndarray  # int32 character offset in the field text
    lengths: np.ndarray  # uint16 surface length
    field_offsets: np.ndarray  # int64, fields + 1: morphemes of field f are [fo[f], fo[f+1])
    paper_fields: np.ndarray  # int64, papers + 1: fields of row r are [pf[r], pf[r+1])
    vocab: list[str]

    @classmethod
    def read(cls, files: BuildFiles) -> "SpanArrays":
        def load(path: Path) -> np.ndarray:
            # A plain ndarray view of the map: np.memmap's own slicing costs ~15 µs a call.
            return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))

        vocab = read_json(files.snippet_vocab)
        return cls(
            load(files.snippet_terms), load(files.snippet_starts), load(files.snippet_lengths),
            load(files.snippet_field_offsets), load(files.snippet_paper_fields), vocab,
        )

    def paper_offsets(self) -> np.ndarray:
        """Row r's morphemes, all its fields in order, are ``terms[o[r]:o[r + 1]]``: the
        paper's BM25 body (one Kiwi analysis serves both)."""
        return np.asarray(self.field_offsets)[np.asarray(self.paper_fields)]
