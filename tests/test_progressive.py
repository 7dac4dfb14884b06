"""A first build that answers at once: BM25 serves while the dense legs embed, the hybrid
build swaps in by itself, and a build stopped mid-embedding leaves BM25 serving and its
vectors for the next build (index/progressive.py, papersearch/background_build.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from index.artifacts import embed_cache
from index.progressive import build_progressively, pending_models
from papersearch.api import create_app
from papersearch.background_build import BackgroundBuild
from search.core.embedding_status import read_status
from search.core.encoders.base import Encoder
from search.core.layout import IndexLayout
from search.engine import SearchEngine
from tests.api_support import serve_in_thread
from tests.conftest import wait_for

REPO = Path(__file__).resolve().parent.parent
QUERY = "다중 턴 강화학습"


@pytest.fixture
def slow_leg(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every encoder embeds 8 passages a chunk and takes 0.15 s a chunk: a slow stub leg
    over the tiny model. Returns the number of passages each call embedded."""
    calls: list[int] = []
    real = Encoder.encode_passages

    def slow(self, texts, progress=False):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        time.sleep(0.15)
        return real(self, texts, progress)

    monkeypatch.setattr(embed_cache, "CHUNK", 8)
    monkeypatch.setattr(Encoder, "encode_passages", slow)
    return calls


def test_serve_answers_from_bm25_at_once_and_turns_hybrid_by_itself(
    tmp_path: Path, digests: Path, tiny_model_dir: Path, slow_leg: list[int]
) -> None:
    root = tmp_path / "ix"
    lines: list[str] = []
    background = BackgroundBuild([digests], root, str(tiny_model_dir), lines.append)
    background.start()  # returns once the BM25 build serves
    app = create_app(root)
    with serve_in_thread(app) as url:
        first = httpx.get(f"{url}/api/search", params={"q": QUERY})
        body = first.json()
        assert first.status_code == 200 and body["results"]
        assert body["mode"] == "bm25" and body["notice_code"] == "dense_pending"
        health = httpx.get(f"{url}/api/health").json()
        assert health["embedding"]["state"] == "embedding" and health["embedding"]["legs"] == ["tiny-static"]
        build_bm25 = health["build_id"]
        background.when_built(lambda: app.state.holder.start_reload().result())

        def hybrid() -> dict | None:
            r = httpx.get(f"{url}/api/search", params={"q": QUERY})
            assert r.status_code == 200  # no request fails across the swap
            return r.json() if r.json()["mode"] == "hybrid" else None

        answer = wait_for(hybrid, "the hybrid build to swap in")
        assert answer["legs"] == ["bm25", "tiny-static"] and answer["notice_code"] is None
        after = httpx.get(f"{url}/api/health").json()
        assert after["build_id"] != build_bm25 and after["embedding"] is None and "tiny-static" in after["modes"]
    assert any("embedding tiny-static" in line for line in lines), lines


def test_a_build_stopped_mid_embedding_leaves_bm25_serving_and_its_vectors_for_the_next(
    tmp_path: Path, digests: Path, tiny_model_dir: Path, slow_leg: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ix"
    real = Encoder.encode_passages

    def dies(self, texts, progress=False):  # type: ignore[no-untyped-def]
        if len(slow_leg) >= 3:
            raise KeyboardInterrupt  # as a Ctrl-C after three chunks
        return real(self, texts, progress)

    monkeypatch.setattr(Encoder, "encode_passages", dies)
    with pytest.raises(KeyboardInterrupt):
        build_progressively([digests], root, model=str(tiny_model_dir))
    layout = IndexLayout(root)
    served = SearchEngine.open(root)
    assert served.manifest.pending_legs and not served.dense_legs
    resp = served.search(QUERY)
    assert resp.mode == "bm25" and resp.notice_code == "dense_pending" and resp.results
    assert read_status(layout)["state"] == "failed"
    assert pending_models(layout) == [str(tiny_model_dir)]
    # The next build, with nothing said about models, takes the ones the BM25 build waits
    # for and embeds only what the stopped one had not committed: 72 - 3 chunks of 8.
    monkeypatch.setattr(Encoder, "encode_passages", real)
    embedded: list[int] = []
    monkeypatch.setattr(Encoder, "encode_passages", lambda self, texts, progress=False: embedded.append(len(texts)) or real(self, texts, progress))
    report = build_progressively([digests], root)
    assert report.legs == ["tiny-static"] and sum(embedded) == 72 - 3 * 8
    assert SearchEngine.open(root).search(QUERY).mode == "hybrid"
    assert read_status(layout) is None  # done
    cache = next(layout.cache_dir.glob("embeddings/*"))
    assert not list(cache.glob("chunk-*"))  # folded into the cache and removed


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import index.artifacts.embed_cache as ec
    from search.core.encoders.base import Encoder
    from index.progressive import build_progressively

    src, root, model = sys.argv[1:4]
    ec.CHUNK = 8
    real = Encoder.encode_passages
    def slow(self, texts, progress=False):
        time.sleep(0.3)
        return real(self, texts, progress)
    Encoder.encode_passages = slow
    build_progressively([Path(src)], Path(root), model=model)
    """
)


def test_sigkill_mid_embedding_keeps_committed_chunks(tmp_path: Path, digests: Path, tiny_model_dir: Path) -> None:
    """A real kill (no Python left to clean up): the BM25 index serves, the status says
    interrupted, and the next build embeds only the chunks not committed."""
    root = tmp_path / "ix"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(digests), str(root), str(tiny_model_dir)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    layout = IndexLayout(root)

    def two_chunks() -> bool:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
        try:
            return json.loads(layout.embedding_status.read_text())["embedded"] >= 16
        except (OSError, ValueError, KeyError, TypeError):
            return False

    wait_for(two_chunks, "two committed chunks")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert read_status(layout)["state"] == "interrupted"
    engine = SearchEngine.open(root)
    assert engine.search(QUERY).notice_code == "dense_pending"
    committed = sum(len(json.loads(p.read_text())["keys"]) for p in layout.cache_dir.glob("embeddings/*/chunk-*.json"))
    assert committed >= 16
    embedded: list[int] = []
    real = Encoder.encode_passages
    try:
        Encoder.encode_passages = lambda self, texts, progress=False: embedded.append(len(texts)) or real(self, texts, progress)  # type: ignore[method-assign]
        build_progressively([digests], root)
    finally:
        Encoder.encode_passages = real  # type: ignore[method-assign]
    assert sum(embedded) == 72 - committed
    assert SearchEngine.open(root).search(QUERY).mode == "hybrid"


def test_watch_builds_the_legs_a_bm25_build_waits_for(tmp_path: Path, digests: Path, tiny_model_dir: Path) -> None:
    from index.build import build_index
    from index.watch import Watcher

    src, root = tmp_path / "digests", tmp_path / "ix"
    import shutil

    shutil.copytree(digests, src)
    build_index([src], root, dense="off", pending_legs=[str(tiny_model_dir)], progress=False)
    assert Watcher([src], root, interval=0)._settings() == (str(tiny_model_dir), "auto", None)


def test_the_page_polls_embedding_progress_and_words_the_pending_notice() -> None:
    web = REPO / "papersearch" / "web"
    js = "".join((web / name).read_text(encoding="utf-8") for name in ("app.js", "messages.js"))
    assert "dense_pending:" in js and 'emb.state === "embedding"' in js and "setTimeout(health" in js


def test_background_build_reports_a_first_build_that_fails(tmp_path: Path) -> None:
    bb = BackgroundBuild([tmp_path / "nope"], tmp_path / "ix", None, lambda _m: None)
    with pytest.raises(Exception, match="does not exist"):
        bb.start()
    done = threading.Event()
    bb.when_built(done.set)  # never built: never called
    assert not done.wait(0.2)
