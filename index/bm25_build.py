"""Write the BM25 index (bm25s) from per-paper token lists."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    method: str = "lucene"
    # The title is repeated this many times in the document: a cheap field weight,
    # since bm25s has no fields (measured in the README's evaluation section).
    title_weight: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def document_tokens(title: list[str], body: list[str], params: BM25Params) -> list[str]:
    return title * params.title_weight + body


def write_bm25(docs: list[list[str]], out_dir: Path, params: BM25Params) -> dict[str, Any]:
    import bm25s

    model = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
    model.index(docs, show_progress=False)
    model.save(str(out_dir), show_progress=False)
    return {
        "library": "bm25s",
        "library_version": bm25s.__version__,
        "vocabulary": len(model.vocab_dict),
        "avg_doc_tokens": float(np.mean([len(d) for d in docs])) if docs else 0.0,
        **params.to_dict(),
    }
