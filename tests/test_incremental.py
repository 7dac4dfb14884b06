"""Incremental builds: only new or changed papers go through Kiwi and the model; removed
papers disappear; ``full`` redoes everything; the report counts each kind."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from index.build import build_index, paper_hash
from index.digest import parse_sources
from index.embed_cache import EmbeddingCache
from index.incremental import record_hash
from index.synthetic import add_papers, generate
from index.token_cache import TokenCache
from search.cli import main as cli
from search.engine import SearchEngine
from search.layout import BuildFiles, IndexLayout
from search.records import Paper
from search.tokenizer import KiwiTokenizer

EDITED_ID = "2509.02544"  # UI-TARS-2, in 2025-09-03.md


class KiwiSpy:
    """Counts the texts that reach Kiwi, by wrapping the real tokenize_many."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        real = KiwiTokenizer.tokenize_many

        def spy(tok: KiwiTokenizer, texts, on_progress=None):  # type: ignore[no-untyped-def]
            self.texts.extend(texts)
            return real(tok, texts, on_progress=on_progress)

        monkeypatch.setattr(KiwiTokenizer, "tokenize_many", spy)


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


def test_unchanged_rebuild_reuses_everything(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    served = SearchEngine.open(root, load_model=False).ids
    spy = KiwiSpy(monkeypatch)
    # sources are recorded per paper, so the copy's papers differ from the base's by path:
    # a first rebuild re-hashes them (changed) but Kiwi sees nothing — its cache is by text.
    first = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert first["changed"] == len(served) and first["added"] == first["removed"] == 0
    second = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (second["added"], second["changed"], second["removed"], second["reused"]) == (0, 0, 0, len(served))
    assert spy.texts == []


def test_added_changed_and_removed_papers(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)  # settle paths (see above)
    removed_file = corpus / "2026-01-13.md"
    removed_ids = {p.id for p in parse_sources([removed_file]).papers}
    removed_file.unlink()
    edited = corpus / "2025-09-03.md"
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("데이터 플라이휠 파이프라인", "데이터 플라이휠 파이프라인과 Zorbulaxian"), encoding="utf-8")
    add_papers(corpus / "new", 0, 3)  # three papers on a later day
    spy = KiwiSpy(monkeypatch)

    report = build_index([corpus], root, dense="off", progress=False).to_dict()

    total = report["papers"]
    assert report["added"] == 3
    assert report["changed"] == 1
    assert report["removed"] == len(removed_ids) > 0
    assert report["reused"] == total - 4
    # Kiwi saw only the new papers' texts and the edited paper's body (its title is unchanged).
    assert len(spy.texts) == 3 * 2 + 1
    assert any("Zorbulaxian" in t for t in spy.texts)
    engine = SearchEngine.open(root, load_model=False)
    assert not removed_ids & set(engine.ids)
    assert engine.search("Zorbulaxian", mode="bm25").results[0].paper.id == EDITED_ID


def test_full_rebuild_ignores_caches(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    spy = KiwiSpy(monkeypatch)
    report = build_index([corpus], root, dense="off", progress=False, full=True).to_dict()
    assert report["reused"] == 0
    assert len(spy.texts) == 2 * report["papers"]


def test_incremental_index_equals_full_index(copy: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, root = copy
    add_papers(corpus / "new", 0, 5)
    build_index([corpus], root, dense="off", progress=False)
    fresh = tmp_path / "fresh"
    build_index([corpus], fresh, dense="off", progress=False, full=True)
    a, b = SearchEngine.open(root, load_model=False), SearchEngine.open(fresh, load_model=False)
    assert a.ids == b.ids
    for q in ("다중 턴 강화학습", "GUI agent", "세계 모델"):
        assert [h.paper.id for h in a.search(q, mode="bm25").results] == [h.paper.id for h in b.search(q, mode="bm25").results]


def test_paper_hash_matches_the_stored_record(base: tuple[Path, Path]) -> None:
    _, root = base
    files = BuildFiles(IndexLayout(root).current_build())
    rows = list(files.iter_papers())
    engine = SearchEngine.open(root, load_model=False)
    assert [record_hash(r) for r in rows] == [paper_hash(p) for p in engine.papers]


def test_build_keeps_paper_hashes_and_compare_uses_them(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)  # settle paths (see above)
    files = BuildFiles(IndexLayout(root).current_build())
    stored = json.loads(files.paper_hashes.read_text(encoding="utf-8"))
    rows = list(files.iter_papers())
    assert stored == {"ids": [r["id"] for r in rows], "hashes": [record_hash(r) for r in rows]}
    generate(corpus / "new", 2, start=dt.date(2030, 1, 1))  # a later day: rows are appended
    # papers.jsonl is not read (nor re-hashed) when the stored hashes are there
    monkeypatch.setattr(BuildFiles, "iter_papers", lambda self: (_ for _ in ()).throw(AssertionError("read papers.jsonl")))
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"], report["reused"]) == (2, 0, 0, len(rows))
    monkeypatch.undo()
    # the served rows were copied, the two new ones appended: same file as a fresh write
    after = BuildFiles(IndexLayout(root).current_build())
    new_rows = list(after.iter_papers())
    assert new_rows[: len(rows)] == rows and len(new_rows) == len(rows) + 2
    assert new_rows == [p.to_dict() for p in SearchEngine.open(root, load_model=False).papers]
    assert json.loads(after.paper_hashes.read_text(encoding="utf-8"))["hashes"] == [record_hash(r) for r in new_rows]


def test_missing_or_stale_paper_hashes_fall_back_to_papers_jsonl(copy: tuple[Path, Path]) -> None:
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)
    files = BuildFiles(IndexLayout(root).current_build())
    n = sum(1 for _ in files.iter_papers())
    files.paper_hashes.write_text('{"ids": ["x"], "hashes": ["y"]}', encoding="utf-8")  # not n rows
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"], report["reused"]) == (0, 0, 0, n)
    BuildFiles(IndexLayout(root).current_build()).paper_hashes.unlink()
    edited = corpus / "2025-09-03.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("데이터 플라이휠", "데이터 휠"), encoding="utf-8")
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"], report["reused"]) == (0, 1, 0, n - 1)


def test_parse_cache_appends_new_files_and_drops_stale_rows(copy: tuple[Path, Path]) -> None:
    corpus, root = copy
    cache = root / "cache" / "parsed.jsonl"
    build_index([corpus], root, dense="off", progress=False)
    before = cache.read_bytes()
    generate(corpus / "new", 3, start=dt.date(2030, 1, 1))
    build_index([corpus], root, dense="off", progress=False)
    after = cache.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 2  # one new file: header, payload
    edited = corpus / "2025-09-03.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    build_index([corpus], root, dense="off", progress=False)
    headers = [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()[0::2]]
    assert 2 * len(headers) == 2 * len({h["path"] for h in headers}) == after.count(b"\n")  # the edited file's old row is gone
    served = list(BuildFiles(IndexLayout(root).current_build()).iter_papers())
    cache.write_bytes(after[:-20])  # a torn append
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert report["changed"] == report["added"] == 0
    assert len(cache.read_text(encoding="utf-8").splitlines()) == 2 * len(headers)
    assert list(BuildFiles(IndexLayout(root).current_build()).iter_papers()) == served


def test_damaged_parse_cache_payload_is_parsed_again(copy: tuple[Path, Path]) -> None:
    """A payload line that no longer decodes (its header intact) costs a parse of that
    file when one of its papers is needed, never a wrong record or a failed build."""
    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)
    served = list(BuildFiles(IndexLayout(root).current_build()).iter_papers())
    cache = root / "cache" / "parsed.jsonl"
    lines = cache.read_bytes().split(b"\n")
    lines[1] = b"[" + lines[1][1:200]  # the first file's records, cut short
    cache.write_bytes(b"\n".join(lines))
    shutil.rmtree(root / "cache" / "tokens")  # so every paper's texts are needed
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"]) == (0, 0, 0)
    assert list(BuildFiles(IndexLayout(root).current_build()).iter_papers()) == served


def test_bm25_from_cached_token_ids_equals_bm25s_own_index(tmp_path: Path) -> None:
    """write_bm25 computes the score matrix itself from token ids: same scores as bm25s's
    own ``index`` over the same token lists, bit for bit."""
    import bm25s

    from index.bm25_build import BM25Params, TokenDocs, document_tokens, write_bm25

    papers = parse_sources([Path(__file__).resolve().parent.parent / "data" / "digests"]).papers
    tok = KiwiTokenizer()
    cache = TokenCache(tmp_path, tok)
    rows = cache.rows([p.title for p in papers] + [p.search_text() for p in papers])
    n, params = len(papers), BM25Params()
    docs = TokenDocs.from_rows(cache.ids, cache.offsets, cache.vocab, rows[:n], rows[n:], params)
    lists = [document_tokens(tok.tokenize(p.title), tok.tokenize(p.search_text()), params) for p in papers]
    assert list(docs) == lists and docs[-1] == lists[-1] and docs[:3] == lists[:3]
    ref = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
    ref.index(lists, show_progress=False)
    write_bm25(docs, tmp_path / "bm25", params)
    ours = bm25s.BM25.load(str(tmp_path / "bm25"))
    assert set(ours.vocab_dict) == set(ref.vocab_dict)

    def entries(m: bm25s.BM25) -> dict[tuple[int, str], float]:
        term = {i: t for t, i in m.vocab_dict.items()}
        s = m.scores
        return {
            (int(s["indices"][j]), term[c]): float(s["data"][j])
            for c in range(len(s["indptr"]) - 1)
            for j in range(s["indptr"][c], s["indptr"][c + 1])
        }

    assert entries(ours) == entries(ref) and len(entries(ours)) > 1000


def test_token_cache_survives_a_reload_and_ignores_damage(tmp_path: Path) -> None:
    tok = KiwiTokenizer()
    cache = TokenCache(tmp_path, tok)
    texts = ["강화학습을 이용한 GUI 에이전트", "세계 모델", "강화학습을 이용한 GUI 에이전트"]
    first = cache.tokenize(texts)
    cache.save()
    again = TokenCache(tmp_path, tok)
    assert len(again.row_of) == 2 and again.tokenize(texts) == first and again.misses == 0
    assert first[0] == tok.tokenize(texts[0])
    assert cache.path is not None
    cache.path.write_bytes(b"not a zip")
    assert TokenCache(tmp_path, tok).row_of == {}


class FakeEncoder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def describe(self) -> dict:
        return {"model": "fake", "dim": 4}

    def encode_passages(self, texts, progress=False):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        v = np.array([[len(t), t.count("a"), 1.0, 2.0] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _encode_build(cache_dir: Path, enc: FakeEncoder, papers: dict[str, str], build: str) -> np.ndarray:
    """A build's use of the cache: vectors of papers (content hash -> passage text), then
    the build's own vectors file becomes the cache."""
    hashes, texts = list(papers), list(papers.values())
    cache = EmbeddingCache(cache_dir, enc.describe())
    vectors = cache.encode_papers(hashes, lambda rows: [texts[i] for i in rows], enc)
    written = cache_dir / f"{build}-vectors.npy"  # each build writes its own file
    np.save(written, vectors, allow_pickle=False)
    cache.save_papers(written)
    return vectors


def test_embedding_cache_encodes_only_unseen_texts(tmp_path: Path) -> None:
    enc = FakeEncoder()
    first = _encode_build(tmp_path, enc, {"p1": "a", "p2": "bb", "p3": "a"}, "first")
    assert enc.seen == ["a", "bb"]
    # p2 is found by its content hash, p5 (a new paper) by its text.
    second = _encode_build(tmp_path, enc, {"p2": "bb", "p4": "ccc", "p5": "a"}, "second")
    assert enc.seen == ["a", "bb", "ccc"]
    np.testing.assert_allclose(second[[0, 2]], first[[1, 0]])
    other = EmbeddingCache(tmp_path, {"model": "other", "dim": 4})
    assert other.row_of == {}  # another model never reuses these vectors
    assert len(list((tmp_path / "embeddings").glob("*/vectors-*.npy"))) == 1


def test_dense_incremental_appends_and_reencodes_only_new(
    base: tuple[Path, Path], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.encoders import Encoder

    corpus, _ = base
    root = tmp_path / "dense"
    first = build_index([corpus], root, model=str(tiny_model_dir), dense="required", progress=False)
    seen: list[str] = []
    real = Encoder.encode_passages

    def spy(self, texts, progress=False):  # type: ignore[no-untyped-def]
        seen.extend(texts)
        return real(self, texts, progress=progress)

    monkeypatch.setattr(Encoder, "encode_passages", spy)
    decoded: list[str] = []
    from_dict = Paper.from_dict.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Paper, "from_dict", classmethod(lambda cls, d: decoded.append(d["id"]) or from_dict(cls, d)))
    generate(tmp_path / "new", 4, start=dt.date(2030, 1, 1))  # a later day: rows are appended
    report = build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert len(seen) == 4 and report.to_dict()["added"] == 4
    # The daily case touches no cached record: tokens, vectors and rows are found by hash.
    assert decoded == []
    engine = SearchEngine.open(root)
    (leg,) = engine.dense_legs.values()
    assert leg.index.ntotal == first.papers + 4
    full = build_index([corpus, tmp_path / "new"], tmp_path / "full", model=str(tiny_model_dir), dense="required", full=True, progress=False)
    assert full.papers == first.papers + 4
    np.testing.assert_allclose(
        np.load(BuildFiles(IndexLayout(root).current_build()).leg_vectors("tiny-static")),
        np.load(BuildFiles(IndexLayout(tmp_path / "full").current_build()).leg_vectors("tiny-static")), rtol=1e-6,
    )
    seen.clear()
    build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert seen == []
    new_id = engine.ids[-1]
    hit = engine.similar(paper_id=engine.ids[0], k=5)
    assert hit.results and all(h.paper.id != engine.ids[0] for h in hit.results)
    # the appended rows are the new papers' own vectors
    row = engine.row_of[new_id]
    _, rows = leg.index.search(leg.vector(row).reshape(1, -1), 1)
    assert int(rows[0][0]) == row


def test_cli_full_flag_and_json_counts(copy: tuple[Path, Path]) -> None:
    corpus, root = copy
    res = CliRunner().invoke(cli, ["index", "build", "--source", str(corpus), "--index", str(root), "--no-dense", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output[res.output.index("{"):])
    assert {"added", "changed", "removed", "reused"} <= set(data)
    res = CliRunner().invoke(cli, ["index", "build", "--source", str(corpus), "--index", str(root), "--no-dense", "--full"])
    assert res.exit_code == 0, res.output
    # --full redoes the work but the content did not change: every paper counts as
    # unchanged (once reported as 0/0/0/0), none as reused from caches.
    papers = data["added"] + data["changed"] + data["unchanged"]
    assert f"0 added, 0 changed, 0 removed, {papers} unchanged (0 reused from caches)" in res.output
    res = CliRunner().invoke(cli, ["index", "build", "--source", str(corpus), "--index", str(root), "--no-dense", "--full", "--json"])
    full = json.loads(res.output[res.output.index("{"):])
    assert (full["added"], full["changed"], full["removed"], full["unchanged"], full["reused"]) == (0, 0, 0, papers, 0)
    assert full["papers"] == papers


def test_cached_parse_equals_a_fresh_parse_with_papers_in_several_files(tmp_path: Path, digests: Path) -> None:
    """The parse cache merges papers over headers and decodes only shared ones: the
    papers, their order and their hashes equal a plain parse, cold and warm."""
    from index.parse_cache import parse_sources_cached

    corpus = tmp_path / "corpus"
    shutil.copytree(digests, corpus)
    daily = corpus / "2025-09-03.md"
    # The same papers a day later, one with an extra section: merged, not duplicated.
    later = daily.read_text(encoding="utf-8").replace("2025-09-03", "2025-09-04")
    (corpus / "2025-09-04.md").write_text(later, encoding="utf-8")
    expected = parse_sources([corpus])
    ids = [p.id for p in expected.papers]
    assert len(ids) == len(set(ids)) and any(len(p.sources) == 2 for p in expected.papers)
    for _ in ("cold", "warm"):
        got = parse_sources_cached([corpus], tmp_path / "cache")
        assert list(got.papers) == expected.papers
        assert got.hashes == [record_hash(p.to_dict()) for p in expected.papers]
        assert got.issues == expected.issues


def test_kiwi_prefetch_gives_this_process_s_tokens(digests: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts tokenized by the helper process equal Kiwi's here, offsets included; a
    helper that cannot start costs nothing but its own time."""
    from index.kiwi_prefetch import KiwiPrefetch

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


def test_backfilled_older_papers_extend_the_served_rows(
    base: tuple[Path, Path], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest of papers older than every served one is appended too: the served rows
    keep their places, the ANN index is extended, not rebuilt, and an unchanged rebuild
    after it still rebuilds nothing."""
    import index.dense_build as dense_build

    corpus, _ = base
    root = tmp_path / "dense"
    first = build_index([corpus], root, model=str(tiny_model_dir), dense="required", progress=False)
    served = list(BuildFiles(IndexLayout(root).current_build()).iter_papers())
    rebuilt: list[int] = []
    real = dense_build.write_dense
    monkeypatch.setattr(dense_build, "write_dense", lambda v, *a, **k: rebuilt.append(len(v)) or real(v, *a, **k))
    old = tmp_path / "old"
    generate(old, 3, start=dt.date(2020, 1, 1))
    report = build_index([corpus, old], root, model=str(tiny_model_dir), dense="required", progress=False).to_dict()
    assert (report["added"], report["changed"], report["removed"]) == (3, 0, 0) and rebuilt == []
    rows = list(BuildFiles(IndexLayout(root).current_build()).iter_papers())
    assert rows[: len(served)] == served and all(r["date"] < "2021" for r in rows[len(served):])
    engine = SearchEngine.open(root)
    (leg,) = engine.dense_legs.values()
    assert leg.index.ntotal == first.papers + 3
    hit = engine.search(rows[-1]["title"], mode="bm25", k=3).results
    assert hit[0].paper.id == rows[-1]["id"]
    again = build_index([corpus, old], root, model=str(tiny_model_dir), dense="required", progress=False).to_dict()
    assert again["reused"] == first.papers + 3 and rebuilt == []
    assert list(BuildFiles(IndexLayout(root).current_build()).iter_papers()) == rows
    full = build_index([corpus, old], tmp_path / "full", dense="off", full=True, progress=False)
    assert sorted(SearchEngine.open(tmp_path / "full", load_model=False).ids) == sorted(r["id"] for r in rows)
    assert full.papers == len(rows)


def test_a_hung_kiwi_helper_is_killed_and_kiwi_runs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.kiwi_prefetch as kp

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


def test_paper_memos_are_dropped_when_texts_are_made_another_way(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens found by record hash are only valid for the code that made the texts."""
    import index.token_cache as tc

    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)
    asked: list[int] = []
    real = TokenCache.paper_rows

    def spy(self, hashes, texts_of, on_progress=None):  # type: ignore[no-untyped-def]
        return real(self, hashes, lambda rows: asked.extend(rows) or texts_of(rows), on_progress)

    monkeypatch.setattr(TokenCache, "paper_rows", spy)
    build_index([corpus], root, dense="off", progress=False)
    assert asked == []
    monkeypatch.setattr(tc, "PAPER_TEXTS_VERSION", 999)
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert len(asked) == report["papers"] == report["reused"]  # texts made again; Kiwi's cache still by text


def test_daily_dense_build_without_its_cache_copies_the_served_vectors(
    base: tuple[Path, Path], tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.encoders import Encoder

    corpus, _ = base
    root = tmp_path / "dense"
    build_index([corpus], root, model=str(tiny_model_dir), dense="required", progress=False)
    shutil.rmtree(root / "cache" / "embeddings")  # lost: the served build still has every vector
    seen: list[str] = []
    real = Encoder.encode_passages
    monkeypatch.setattr(Encoder, "encode_passages", lambda self, texts, progress=False: seen.extend(texts) or real(self, texts, progress=progress))
    generate(tmp_path / "new", 2, start=dt.date(2030, 1, 1))
    build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert len(seen) == 2
    full = tmp_path / "full"
    build_index([corpus, tmp_path / "new"], full, model=str(tiny_model_dir), dense="required", full=True, progress=False)
    np.testing.assert_allclose(
        np.load(BuildFiles(IndexLayout(root).current_build()).leg_vectors("tiny-static")),
        np.load(BuildFiles(IndexLayout(full).current_build()).leg_vectors("tiny-static")), rtol=1e-6,
    )
    seen.clear()
    build_index([corpus, tmp_path / "new"], root, model=str(tiny_model_dir), dense="required", progress=False)
    assert seen == []  # the cache was rebuilt from the copied rows


def test_unchanged_files_are_not_read_and_edits_are_always_seen(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A digest whose stat matches the cached one is not read; an edit that keeps the
    size and even the mtime (as `cp -p` or `touch -r` would) is still seen."""
    import os

    import index.parse_cache as pc

    corpus, root = copy
    monkeypatch.setattr(pc, "RACY_NS", 0)  # the files were written just now
    build_index([corpus], root, dense="off", progress=False)
    read: list[str] = []
    real = pc._file_key
    monkeypatch.setattr(pc, "_file_key", lambda p: read.append(p.name) or real(p))
    build_index([corpus], root, dense="off", progress=False)
    assert read == []
    edited = corpus / "2025-09-03.md"
    st = edited.stat()
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("데이터 플라이휠 파이프라인", "데이터 플라이휠 파이프라잉"), encoding="utf-8")  # same size
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert edited.stat().st_size == st.st_size
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert read == ["2025-09-03.md"] and report["changed"] == 1
