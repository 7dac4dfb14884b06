"""Shared fixtures: indexes built once per session from the real sample corpus."""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Module-scoped fixtures that build an index of their own (the session's shared ones are
# not counted: every tier pays for those once).
_BUILDING_FIXTURES = {"built", "tuned_index"}

# The slow tier: what starts servers, browsers, Milvus Lite or other processes, loads the
# real (bundled) encoders, runs the notebook or the benchmarks. ``pytest -m "not slow"`` (``make test-fast``) is the rest:
# unit tests and in-process builds of the sample corpus, in well under a minute.
SLOW_MODULES = {
    "test_api_service", "test_bench_smoke", "test_crash", "test_encoders", "test_kiwi_prefetch", "test_milvus",
    "test_notebooks", "test_readme", "test_serve_workers", "test_web_browser", "test_web_pages", "test_matches_bundled",
}
SLOW_TESTS = {
    "test_api_hostile.py::test_real_server_ignores_forwarded_addresses",
    "test_cli_messages.py::test_serve_on_a_busy_port_fails_before_loading_or_announcing",
    "test_ranking_order.py::test_query_analysis_is_the_same_in_every_process",
    "test_watch.py::test_new_digest_goes_live_and_a_broken_one_is_held",
    "test_threads.py::test_openmp_defaults_are_set_on_import_and_a_users_choice_wins",
    "test_progressive.py::test_serve_answers_from_bm25_at_once_and_turns_hybrid_by_itself",
    "test_progressive.py::test_sigkill_mid_embedding_keeps_committed_chunks",
}


# A test that runs a build of its own (beyond the session's shared indexes below) is in
# the "build" tier: about a second each, thirty seconds together.
_OWN_BUILD = re.compile(r"\bbuild_index\(|\"index\", \"build\"|\brepublish\(|\bWatcher\(|\bbuild_progressively\(|\bBackgroundBuild\(")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.stem
        name = f"{item.path.name}::{item.originalname}"
        if module in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            source = ""
        if _OWN_BUILD.search(source) or any(f in getattr(item, "fixturenames", ()) for f in _BUILDING_FIXTURES):
            item.add_marker(pytest.mark.build)
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


def wait_for(check, what: str, limit: float = 180.0, every: float = 0.2):  # type: ignore[no-untyped-def]
    """Poll until ``check()`` is truthy and return it; the limit only stops a hung test,
    it measures nothing."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what}")
