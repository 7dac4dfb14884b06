"""The build caches: parsed digests, Kiwi tokens and embeddings reused across builds, and
what a damaged, stale or foreign cache costs (time, never a wrong index)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import generate
from index.artifacts.embed_cache import EmbeddingCache
from index.artifacts.token_cache import TokenCache
from index.build import build_index
from index.parse.corpus import record_hash
from index.parse.digest import parse_sources
from search.core.layout import BuildFiles, IndexLayout
from search.core.records import Paper
from search.core.tokenizer import KiwiTokenizer
from tests.incremental_support import base, copy  # noqa: F401 (fixtures)


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


def test_cached_parse_equals_a_fresh_parse_with_papers_in_several_files(tmp_path: Path, digests: Path) -> None:
    """The parse cache merges papers over headers and decodes only shared ones: the
    papers, their order and their hashes equal a plain parse, cold and warm."""
    from index.parse.parse_cache import parse_sources_cached

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


def test_unchanged_files_are_not_read_and_edits_are_always_seen(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A digest whose stat matches the cached one is not read; an edit that keeps the
    size and even the mtime (as `cp -p` or `touch -r` would) is still seen."""
    import os

    import index.parse.parse_cache as pc

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


def test_bm25_documents_are_titles_then_snippet_field_morphemes(tmp_path: Path) -> None:
    """The build analyses each body once, as snippet fields with offsets, and indexes those
    morphemes: each document is its title's tokens twice, then every snippet field's."""
    from index.artifacts.bm25_build import BM25Params, document_tokens
    from index.artifacts.bm25_documents import served_documents
    from search.core.fields import snippet_fields

    root = tmp_path / "ix"
    build_index([Path(__file__).resolve().parent.parent / "data" / "digests"], root, dense="off", progress=False)
    files = BuildFiles(IndexLayout(root).current_build())
    tok, params = KiwiTokenizer(), BM25Params()
    papers = [Paper.from_dict(d) for d in files.iter_papers()]
    expected = [
        document_tokens(tok.tokenize(p.title), [t for _n, f in snippet_fields(p) for t in tok.tokenize(f)], params)
        for p in papers
    ]
    assert list(served_documents(files, root / "cache", tok, params)) == expected


def test_bm25_from_cached_token_ids_equals_bm25s_own_index(tmp_path: Path) -> None:
    """write_bm25 computes the score matrix itself from token ids: same scores as bm25s's
    own ``index`` over the same token lists, bit for bit."""
    import bm25s

    from index.artifacts.bm25_build import (
        BM25Params,
        TokenDocs,
        document_tokens,
        write_bm25,
    )

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


def test_paper_memos_are_dropped_when_texts_are_made_another_way(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens found by record hash are only valid for the code that made the texts."""
    import index.artifacts.token_cache as tc

    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)
    asked: list[int] = []
    real = TokenCache.title_rows

    def spy(self, hashes, titles_of, on_progress=None):  # type: ignore[no-untyped-def]
        return real(self, hashes, lambda rows: asked.extend(rows) or titles_of(rows), on_progress)

    monkeypatch.setattr(TokenCache, "title_rows", spy)
    build_index([corpus], root, dense="off", progress=False)
    assert asked == []
    monkeypatch.setattr(tc, "PAPER_TEXTS_VERSION", 999)
    report = build_index([corpus], root, dense="off", progress=False).to_dict()
    assert len(asked) == report["papers"] == report["reused"]  # titles made again; Kiwi's cache still by text


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


def test_a_token_cache_from_when_bodies_were_in_it_still_serves_titles(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches written before bodies moved to the snippet step memo (title row, body row)
    per paper: the title column is still right, and no title goes to Kiwi again."""
    from tests.incremental_support import KiwiSpy

    def bm25_files(root: Path) -> dict[str, bytes]:
        folder = BuildFiles(IndexLayout(root).current_build()).bm25
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    corpus, root = copy
    build_index([corpus], root, dense="off", progress=False)
    expected = bm25_files(root)
    path = next((root / "cache" / "tokens").glob("*.npz"))
    with np.load(path, allow_pickle=False) as z:
        arrays = dict(z)
    # The old shape, with a body column that must not be read as titles.
    arrays["paper_rows"] = np.column_stack([arrays["paper_rows"], np.zeros_like(arrays["paper_rows"])])
    with path.open("wb") as f:
        np.savez(f, **arrays)
    spy = KiwiSpy(monkeypatch)
    build_index([corpus], root, dense="off", progress=False)
    assert spy.texts == []
    assert bm25_files(root) == expected
