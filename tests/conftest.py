"""Shared fixtures: indexes built once per session from the real sample corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DIGESTS = REPO / "data" / "digests"
DEV_QRELS = REPO / "tests" / "data" / "dev.json"


@pytest.fixture(scope="session")
def digests() -> Path:
    return DIGESTS


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-static", DIGESTS)


@pytest.fixture(scope="session")
def bm25_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from index.build import build_index

    root = tmp_path_factory.mktemp("bm25-index")
    build_index([DIGESTS], root, dense="off", progress=False)
    return root


@pytest.fixture(scope="session")
def dense_index(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    from index.build import build_index

    root = tmp_path_factory.mktemp("dense-index")
    build_index([DIGESTS], root, model=str(tiny_model_dir), dense="required", progress=False)
    return root


@pytest.fixture(scope="session")
def bm25_engine(bm25_index: Path):
    from search.engine import SearchEngine

    return SearchEngine.open(bm25_index)


@pytest.fixture(scope="session")
def dense_engine(dense_index: Path):
    from search.engine import SearchEngine

    return SearchEngine.open(dense_index)


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus with the bundled encoders (e5 and use): real meaning, offline."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("bundled-index")
    build_index([DIGESTS], root, model="e5,use", dense="required", progress=False)
    return root


@pytest.fixture(scope="session")
def bundled_engine(bundled_index: Path):
    from search.engine import SearchEngine

    return SearchEngine.open(bundled_index)
