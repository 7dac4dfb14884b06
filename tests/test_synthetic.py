"""The synthetic corpus: both digest formats, parseable, deterministic, drawn from the sample."""

from __future__ import annotations

import re
from pathlib import Path

from bench.synthetic import Vocabulary, add_papers, generate, main, paper_id
from index.parse.digest import parse_sources


def test_generates_papers_in_both_formats_that_parse_cleanly(tmp_path: Path) -> None:
    files = generate(tmp_path, 230, seed=3)
    result = parse_sources([tmp_path])
    assert result.files == files and result.issues == []
    assert len(result.papers) == 230
    assert len({p.id for p in result.papers}) == 230
    urls = {p.url.split("/")[2] for p in result.papers}
    assert urls == {"huggingface.co", "arxiv.org"}  # daily "Top 5" pages and front-matter posts
    daily = [p for p in result.papers if "huggingface" in p.url]
    posts = [p for p in result.papers if "arxiv" in p.url]
    assert all(p.upvotes is not None and p.summary and p.abstract and p.key_points for p in daily)
    assert all(p.summary and "Method" in p.sections for p in posts)
    assert all(re.search("[가-힣]", p.summary) for p in result.papers)
    assert len({p.date for p in result.papers}) == 3  # 100 papers a day


def test_text_is_drawn_from_the_sample_vocabulary(tmp_path: Path) -> None:
    v = Vocabulary.from_sample()
    generate(tmp_path, 20, seed=1, vocab=v)
    sample_words = set(v.korean.starts) | set(v.korean.nexts) | {w for ws in v.korean.nexts.values() for w in ws}
    paper = parse_sources([tmp_path]).papers[0]
    assert set(paper.summary.split()) <= sample_words


def test_same_seed_same_corpus_and_added_days_come_later(tmp_path: Path) -> None:
    generate(tmp_path / "a", 50, seed=7)
    generate(tmp_path / "b", 50, seed=7)
    texts_a = sorted(p.read_text(encoding="utf-8") for p in (tmp_path / "a").rglob("*.md"))
    texts_b = sorted(p.read_text(encoding="utf-8") for p in (tmp_path / "b").rglob("*.md"))
    assert texts_a == texts_b
    add_papers(tmp_path / "extra", 50, 10)
    base = parse_sources([tmp_path / "a"]).papers
    extra = parse_sources([tmp_path / "extra"]).papers
    assert len(extra) == 10
    assert {p.id for p in extra}.isdisjoint(p.id for p in base)
    assert min(p.date for p in extra) > max(p.date for p in base)  # type: ignore[operator]


def test_ids_are_unique_arxiv_like_across_a_million() -> None:
    ids = {paper_id(i) for i in range(0, 1_000_000, 997)} | {paper_id(999_999), paper_id(0)}
    assert all(re.fullmatch(r"\d{4}\.\d{5}", i) for i in ids)
    assert len({paper_id(i) for i in (0, 100_000, 200_000, 1_100_000)}) == 4


def test_cli(tmp_path: Path, capsys) -> None:
    main(["--papers", "12", "--out", str(tmp_path)])
    assert "wrote 12 papers" in capsys.readouterr().out
    assert len(parse_sources([tmp_path]).papers) == 12
