"""Build a tiny sentence-transformers model locally, with nothing downloaded.

A WordPiece tokenizer is trained on the digests with ``tokenizers``; a
``StaticEmbedding`` (mean of token vectors) over it gives each text a bag-of-subwords
vector. The vectors are random, so the model knows no meaning, but texts sharing words
land near each other: enough to exercise every dense code path, the real loading code
included, by folder path. Run ``python -m tests.tiny_model OUT_DIR`` to make one by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def corpus_texts(digest_dir: Path) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(digest_dir.glob("*.md"))]


def build_tiny_model(out_dir: Path, digest_dir: Path, dim: int = 64, vocab_size: int = 4000, seed: int = 0) -> Path:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits()])
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=["[UNK]", "[PAD]"])
    tokenizer.train_from_iterator(corpus_texts(digest_dir), trainer=trainer)
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((tokenizer.get_vocab_size(), dim)).astype(np.float32)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    return out_dir


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "models/tiny-static")
    repo = Path(__file__).resolve().parent.parent
    print(build_tiny_model(out, repo / "data" / "digests"))
