"""Shared by the incremental-build tests: a corpus copy with a warm index built once per
module, a private copy of it per test, and a spy on the texts that reach Kiwi."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build_index
from search.core.tokenizer import KiwiTokenizer

EDITED_ID = "2509.02544"  # UI-TARS-2, in 2025-09-03.md


class KiwiSpy:
    """Records the texts that reach Kiwi in a build, by wrapping the real batch calls:
    tokenize_many (titles) and analyze_many (snippet fields, which are also the bodies)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        real_tokenize, real_analyze = KiwiTokenizer.tokenize_many, KiwiTokenizer.analyze_many

        def tokenize_many(tok: KiwiTokenizer, texts, on_progress=None):  # type: ignore[no-untyped-def]
            self.texts.extend(texts)
            return real_tokenize(tok, texts, on_progress=on_progress)

        def analyze_many(tok: KiwiTokenizer, texts, on_progress=None):  # type: ignore[no-untyped-def]
            def recorded():  # type: ignore[no-untyped-def]
                for text in texts:  # a stream: record each text as Kiwi pulls it
                    self.texts.append(text)
                    yield text

            return real_analyze(tok, recorded(), on_progress=on_progress)

        monkeypatch.setattr(KiwiTokenizer, "tokenize_many", tokenize_many)
        monkeypatch.setattr(KiwiTokenizer, "analyze_many", analyze_many)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, digests: Path) -> tuple[Path, Path]:
    """A corpus copy and a BM25 index of it (caches warm), built once for the module."""
    work = tmp_path_factory.mktemp("incr-base")
    corpus = work / "corpus"
    shutil.copytree(digests, corpus)
    root = work / "index"
    report = build_index([corpus], root, dense="off", progress=False)
    papers = report.papers
    assert report.to_dict()["added"] == papers and report.to_dict()["reused"] == 0
    return corpus, root


@pytest.fixture
def copy(base: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    corpus, root = base
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(root, tmp_path / "index", symlinks=True)
    # Parse-cache entries are keyed by path: the copy's five files are parsed again.
    (tmp_path / "index" / "cache" / "parsed.jsonl").unlink()
    return tmp_path / "corpus", tmp_path / "index"
