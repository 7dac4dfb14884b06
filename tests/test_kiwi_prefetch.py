"""Kiwi loading in a helper process during a build: the same tokens, and a helper that
dies or hangs costs only its own time."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from index.parse.digest import parse_sources
from search.core.tokenizer import KiwiTokenizer


def test_kiwi_prefetch_gives_this_process_s_tokens(digests: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts tokenized by the helper process equal Kiwi's here, offsets included; a
    helper that cannot start costs nothing but its own time."""
    from index.artifacts.kiwi_prefetch import KiwiPrefetch

    papers = parse_sources([digests]).papers
    texts = [p.title for p in papers] + [p.search_text() for p in papers]
    local = KiwiTokenizer()
    monkeypatch.setattr(KiwiTokenizer, "_kiwi_cache", {})  # as in a fresh build process
    with KiwiPrefetch.start(local) as remote:
        via = KiwiTokenizer(local.settings, kiwi=remote)
        assert via.tokenize_many(texts) == local.tokenize_many(texts)
        assert via.analyze(texts[-1]) == local.analyze(texts[-1])
        if (os.cpu_count() or 1) >= 2:
            assert remote.remote_texts == len(texts) + 1
    monkeypatch.setattr(sys, "executable", "/bin/false")  # a helper that dies at once
    monkeypatch.setattr(KiwiTokenizer, "_kiwi_cache", {})
    with KiwiPrefetch.start(local) as broken:
        assert broken._proc is not None or (os.cpu_count() or 1) < 2
        assert KiwiTokenizer(local.settings, kiwi=broken).tokenize_many(texts[:3]) == local.tokenize_many(texts[:3])
        assert broken.remote_texts == 0


def test_a_hung_kiwi_helper_is_killed_and_kiwi_runs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.artifacts.kiwi_prefetch as kp

    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    hang.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(hang))
    monkeypatch.setattr(kp, "ANSWER_SECONDS", 0.5)
    local = KiwiTokenizer()
    monkeypatch.setattr(KiwiTokenizer, "_kiwi_cache", {})
    # More than a pipe's buffer (64 KiB), which a child that does not read never drains.
    for texts in (["세계 모델"], ["강화학습 에이전트 " * 400] * 12):
        with kp.KiwiPrefetch.start(local) as hung:
            proc = hung._proc
            assert KiwiTokenizer(local.settings, kiwi=hung).tokenize_many(texts) == local.tokenize_many(texts)
            assert hung.remote_texts == 0 and hung._proc is None
        assert proc is None or proc.poll() is not None  # killed, not left behind
