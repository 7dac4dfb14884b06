"""Any sentence-transformers model, by hub id or local folder.

With ``HF_HUB_OFFLINE=1`` only the local cache is consulted; otherwise the hub is tried
only when it answers at all (unreachable, its client retries for well over a minute).
Any failure to load becomes :class:`ModelUnavailable`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from search.core.encoders.base import Encoder, Prompts
from search.core.errors import ModelUnavailable

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


def looks_like_path(name: str) -> bool:
    if name.startswith(("/", "./", "../", "~")) or Path(name).expanduser().exists():
        return True
    return name.count("/") > 1  # hub ids are "org/name"


def canonical_model_name(name: str) -> str:
    """A local folder is recorded by absolute path, so the query side finds it from anywhere."""
    path = Path(name).expanduser()
    if looks_like_path(name) and path.exists():
        return str(path.resolve())
    return name


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
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


def _load(name: str, device: str | None) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ModelUnavailable(
            f"sentence-transformers is not installed ({e}): pip install 'papersearch[st]' after torch's CPU build "
            "(README, Embedding models); the bundled e5 and use need neither"
        ) from e
    if looks_like_path(name):
        attempts = [(str(Path(name).expanduser()), True)]
    else:
        attempts = [(name, True)]  # the local cache first
        if not offline() and hub_reachable():
            attempts.append((name, False))
    error: Exception | None = None
    for target, local_only in attempts:
        try:
            return SentenceTransformer(target, device=device, local_files_only=local_only)
        except Exception as e:  # missing files, bad configs, hub errors: all mean "no model"
            error = e
    reason = (str(error).splitlines() or [type(error).__name__])[0][:300]
    if not looks_like_path(name) and len(attempts) == 1:
        where = "HF_HUB_OFFLINE is set" if offline() else "the hub cannot be reached"
        reason = f"not in the local Hugging Face cache and {where}"
    raise ModelUnavailable(f"cannot load model {name!r}: {reason}")


class SentenceTransformerEncoder(Encoder):
    backend = "sentence-transformers"

    def __init__(self, name_or_path: str, device: str | None = None, prompts: Prompts | None = None) -> None:
        super().__init__()
        self.model = canonical_model_name(name_or_path)
        if looks_like_path(name_or_path) and not Path(name_or_path).expanduser().exists():
            raise ModelUnavailable(f"model folder {name_or_path} does not exist")
        self._st = _load(name_or_path, device)
        get_dim = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        # The build's prompts, when given, win: a query is encoded as the passages were.
        self.prompts = prompts or resolve_prompts(name_or_path, getattr(self._st, "prompts", None))
        limit = getattr(self._st, "max_seq_length", None)  # static models have none (inf)
        self.window = int(limit) if isinstance(limit, (int, float)) and 0 < limit < 1e6 else 512
        try:
            from importlib.metadata import version

            self.version = version("sentence-transformers")
        except Exception:
            self.version = "unknown"
        self._tokenizer = getattr(self._st, "tokenizer", None)

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        prompt = self.prompts.query if query else self.prompts.passage
        vecs = self._st.encode(
            [prompt + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def count_tokens(self, text: str, query: bool) -> int:
        # The model truncates at its own window; without a tokenizer the character cap
        # in ``fit`` is the bound.
        if self._tokenizer is None:
            return 0
        prompt = self.prompts.query if query else self.prompts.passage
        try:
            return len(self._tokenizer(prompt + text, add_special_tokens=True)["input_ids"])
        except Exception:
            return 0
