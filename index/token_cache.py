"""Kiwi output cached by text: Kiwi is the slow part of a build (tens of thousands of
characters a second), so a text is tokenized once per build and once across builds.

The cache is a JSONL file per tokenizer-settings hash under ``ROOT/cache/tokens/``; it is
rewritten after each build with only the texts that build used, so it cannot grow
without bound.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from search.layout import read_jsonl, write_jsonl
from search.tokenizer import KiwiTokenizer


def settings_key(tokenizer: KiwiTokenizer) -> str:
    blob = json.dumps(tokenizer.settings.to_dict(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class TokenCache:
    def __init__(self, cache_dir: Path | None, tokenizer: KiwiTokenizer):
        self.tokenizer = tokenizer
        self.path = cache_dir / "tokens" / f"{settings_key(tokenizer)}.jsonl" if cache_dir else None
        self.entries: dict[str, list[str]] = {}
        self.hits = 0
        self.misses = 0
        if self.path is not None and self.path.exists():
            try:
                self.entries = {row["k"]: row["t"] for row in read_jsonl(self.path)}
            except Exception:
                self.entries = {}  # a damaged cache only costs time: start over

    def tokenize(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> list[list[str]]:
        """Tokens for each text; unseen distinct texts go to Kiwi in one batch."""
        keys = [text_key(t) for t in texts]
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.entries and k not in todo:
                todo[k] = t
        self.misses = len(todo)
        self.hits = len(set(keys)) - self.misses
        if on_progress is not None and self.hits:
            on_progress(len(texts) - len(todo))
        if todo:
            fresh = self.tokenizer.tokenize_many(list(todo.values()), on_progress=on_progress)
            self.entries.update(zip(todo.keys(), fresh))
        self._used = set(keys)
        return [self.entries[k] for k in keys]

    def save(self) -> None:
        if self.path is None:
            return
        used = getattr(self, "_used", set())
        write_jsonl(self.path, ({"k": k, "t": self.entries[k]} for k in self.entries if k in used))
