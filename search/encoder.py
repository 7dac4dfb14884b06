"""Sentence-transformers encoder, shared by the build (passages) and the query side.

Models are named by hub id or local folder (``--model`` / ``PAPERSEARCH_MODEL``). With
``HF_HUB_OFFLINE=1`` only the local cache is consulted. Any failure to load becomes
:class:`ModelUnavailable`, which callers turn into the BM25-only mode.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import ModelUnavailable

DEFAULT_MODEL = "intfloat/multilingual-e5-small"


@dataclass(frozen=True)
class Prompts:
    """Text prepended to queries and to passages; models trained with them need them."""

    query: str = ""
    passage: str = ""


_E5 = Prompts("query: ", "passage: ")
KNOWN_MODELS: dict[str, Prompts] = {
    "intfloat/multilingual-e5-small": _E5,
    "intfloat/multilingual-e5-base": _E5,
    "intfloat/multilingual-e5-large": _E5,
    "intfloat/multilingual-e5-large-instruct": Prompts(
        "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: ", ""
    ),
    "BAAI/bge-m3": Prompts(),
    "nlpai-lab/KURE-v1": Prompts(),
    "dragonkue/BGE-m3-ko": Prompts(),
    "Alibaba-NLP/gte-multilingual-base": Prompts(),
    "Snowflake/snowflake-arctic-embed-l-v2.0": Prompts("query: ", ""),
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": Prompts(),
}


def default_model_name() -> str:
    return os.environ.get("PAPERSEARCH_MODEL") or DEFAULT_MODEL


def _looks_like_path(name: str) -> bool:
    if name.startswith(("/", "./", "../", "~")) or Path(name).expanduser().exists():
        return True
    return name.count("/") > 1  # hub ids are "org/name"


def canonical_model_name(name: str) -> str:
    """A local folder is recorded by absolute path, so the query side finds it from anywhere."""
    path = Path(name).expanduser()
    if _looks_like_path(name) and path.exists():
        return str(path.resolve())
    return name


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _load(name: str, device: str | None) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ModelUnavailable(f"sentence-transformers is not installed ({e})") from e
    if _looks_like_path(name):
        attempts = [(str(Path(name).expanduser()), True)]
    else:
        # The local cache first; the hub only if it answers at all. Unreachable, the hub
        # client retries for well over a minute before giving up.
        attempts = [(name, True)]
        if not _offline() and _hub_reachable():
            attempts.append((name, False))
    error: Exception | None = None
    for target, local_only in attempts:
        try:
            return SentenceTransformer(target, device=device, local_files_only=local_only)
        except Exception as e:  # missing files, bad configs, hub errors: all mean "no model"
            error = e
    reason = (str(error).splitlines() or [type(error).__name__])[0][:300]
    if not _looks_like_path(name) and len(attempts) == 1:
        where = "HF_HUB_OFFLINE is set" if _offline() else "the hub cannot be reached"
        reason = f"not in the local Hugging Face cache and {where}"
    raise ModelUnavailable(f"cannot load model {name!r}: {reason}")


def _hub_reachable(timeout: float = 3.0) -> bool:
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_prompts(name: str, configured: dict[str, str] | None) -> Prompts:
    """The model's own configured prompts win; else the table above by hub id, or by a
    local folder named like a known model (``models/multilingual-e5-small``)."""
    configured = configured or {}
    if "query" in configured:
        return Prompts(configured["query"], configured.get("passage", configured.get("document", "")))
    if name in KNOWN_MODELS:
        return KNOWN_MODELS[name]
    base = Path(name.rstrip("/")).name
    for known, prompts in KNOWN_MODELS.items():
        if known.split("/")[-1] == base:
            return prompts
    return Prompts()


class Encoder:
    """A loaded model: normalised float32 embeddings for queries and passages."""

    def __init__(self, name_or_path: str, device: str | None = None, batch_size: int = 32):
        self.name = canonical_model_name(name_or_path)
        self.batch_size = batch_size
        if _looks_like_path(name_or_path) and not Path(name_or_path).expanduser().exists():
            raise ModelUnavailable(f"model folder {name_or_path} does not exist")
        self.model = _load(name_or_path, device)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.prompts = resolve_prompts(name_or_path, getattr(self.model, "prompts", None))

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "dim": self.dim, "prompts": asdict(self.prompts), "normalized": True}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.prompts.query, progress=False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.prompts.passage, progress=progress)

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            [prompt + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def passage_text(title: str, summary: str) -> str:
    """What a paper's vector encodes: its English title and its Korean summary. The
    translated abstract is left out: it is longer than small encoders' 512-token window
    and restates the summary, so it would mostly be truncated noise."""
    return f"{title}\n{summary}".strip()
