"""A synthetic digest corpus for scale tests and benchmarks: 10k to 1M papers.

Text is drawn from the sample corpus (``data/digests``) with a word-bigram chain, so
Kiwi sees real Korean eojeol and English terms in realistic proportions, and the term
frequencies keep the sample's long tail. Files come in both real formats: each day has
one daily "Top 5" page and front-matter posts for the rest of its papers, in
``OUT/YYYY-MM/`` folders so no folder holds more than a few thousand files.

Run ``python -m bench.synthetic --papers 100000 --out /tmp/synthetic`` (deterministic
for a given ``--seed``). Papers are kept short on purpose: Kiwi, not parsing, bounds a
build, and a bench that takes hours measures nothing more than one that takes minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from index.parse.digest import parse_sources

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "digests"
PAPERS_PER_DAY = 100
DAILY_TOP = 5
POST_SIZE = 19  # papers per front-matter post: 5 + 5 × 19 = 100 a day
START = dt.date(2020, 1, 1)
_WORD = re.compile(r"\S+")


@dataclass
class Chain:
    """Word bigrams: a next-word list per word (repeats keep the sample's frequencies)."""

    starts: list[str]
    nexts: dict[str, list[str]]

    @classmethod
    def from_texts(cls, texts: list[str]) -> "Chain":
        starts: list[str] = []
        nexts: dict[str, list[str]] = defaultdict(list)
        for text in texts:
            for line in text.splitlines():
                words = _WORD.findall(line.replace("[", "").replace("]", ""))
                if len(words) < 2:
                    continue
                starts.append(words[0])
                for a, b in zip(words, words[1:]):
                    nexts[a].append(b)
        return cls(starts, dict(nexts))

    def sentence(self, rng: random.Random, n_words: int) -> str:
        word = rng.choice(self.starts)
        out = [word]
        while len(out) < n_words:
            options = self.nexts.get(word)
            word = rng.choice(options) if options else rng.choice(self.starts)
            out.append(word)
        return " ".join(out)


@dataclass
class Vocabulary:
    korean: Chain
    titles: Chain

    @classmethod
    def from_sample(cls, sample: Path = SAMPLE) -> "Vocabulary":
        papers = parse_sources([sample]).papers
        if not papers:
            raise ValueError(f"no papers in {sample} to draw a vocabulary from")
        korean = [t for p in papers for t in (p.summary, p.abstract, *p.key_points, *p.sections.values()) if t]
        return cls(Chain.from_texts(korean), Chain.from_texts([p.title for p in papers]))


def paper_id(i: int) -> str:
    """Unique arXiv-like ids (``YYMM.NNNNN``) for i < 1.2M."""
    return f"{25 + i // 1_200_000:02d}{(i // 100_000) % 12 + 1:02d}.{i % 100_000:05d}"


def _title(v: Vocabulary, rng: random.Random) -> str:
    return v.titles.sentence(rng, rng.randint(4, 9)).rstrip(":,") or "Untitled"


def _daily_block(n: int, i: int, v: Vocabulary, rng: random.Random) -> str:
    return (
        f"## {n}. [{_title(v, rng)}](https://huggingface.co/papers/{paper_id(i)})\n"
        f"**Upvotes**: {rng.randint(0, 200)}\n\n"
        f"### 📌 요약\n{v.korean.sentence(rng, 12)}\n\n"
        f"### 🔑 핵심 포인트\n- {v.korean.sentence(rng, 8)}\n- {v.korean.sentence(rng, 8)}\n\n"
        f"### 📝 초록 (번역)\n{v.korean.sentence(rng, 18)}\n\n---\n\n"
    )


def _post_block(n: int, i: int, v: Vocabulary, rng: random.Random) -> str:
    return (
        f"# {n}. [{_title(v, rng)}](https://arxiv.org/abs/{paper_id(i)})\n\n"
        "## Introduction\n\n"
        f"- Goal: {v.korean.sentence(rng, 10)}\n"
        f"- Motivation: {v.korean.sentence(rng, 8)}\n"
        f"- Contribution: {v.korean.sentence(rng, 10)}\n\n"
        f"## Method\n\n{v.korean.sentence(rng, 14)}\n\n"
        f"## Results\n\n{v.korean.sentence(rng, 8)}\n\n"
    )


def day_files(day: dt.date, first: int, count: int, v: Vocabulary, rng: random.Random) -> dict[str, str]:
    """File name → text for ``count`` papers (ids from ``first``) published on ``day``."""
    files: dict[str, str] = {}
    top = min(DAILY_TOP, count)
    text = f"# {day} Daily Papers (Top 5)\n\n"
    text += "".join(_daily_block(n + 1, first + n, v, rng) for n in range(top))
    files[f"{day}.md"] = text
    i, part = first + top, 1
    while i < first + count:
        size = min(POST_SIZE, first + count - i)
        head = (
            f'---\nlayout: post\ntitle: Daily Papers — {day} ({part})"\ndate: {day} 08:15:00\n'
            "tags: [papers, hugginface]\ncategories: []\n---\n\n"
        )
        files[f"{day}-post-{part}.md"] = head + "".join(_post_block(n + 1, i + n, v, rng) for n in range(size))
        i, part = i + size, part + 1
    return files


def generate(out: Path, papers: int, seed: int = 0, first: int = 0, start: dt.date = START, vocab: Vocabulary | None = None) -> int:
    """Write ``papers`` papers (ids ``first``…) as digests under ``out``; returns files written."""
    v = vocab or Vocabulary.from_sample()
    rng = random.Random(seed)
    written = 0
    day, i = start, first
    while i < first + papers:
        count = min(PAPERS_PER_DAY, first + papers - i)
        folder = out / f"{day:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in day_files(day, i, count, v, rng).items():
            (folder / name).write_text(text, encoding="utf-8")
            written += 1
        day += dt.timedelta(days=1)
        i += count
    return written


def last_day(papers: int, start: dt.date = START) -> dt.date:
    return start + dt.timedelta(days=max(0, -(-papers // PAPERS_PER_DAY) - 1))


def add_papers(out: Path, existing: int, extra: int, seed: int = 1) -> int:
    """Append a later day's digests with ``extra`` new papers to a corpus of ``existing``:
    the day-to-day case an incremental build is for."""
    day = last_day(existing) + dt.timedelta(days=1)
    return generate(out, extra, seed=seed, first=existing, start=day)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, required=True, help="number of papers (10k to 1M)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the digest files")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.papers < 1 or args.papers >= 1_200_000:
        ap.error("--papers must be between 1 and 1,199,999")
    files = generate(args.out, args.papers, seed=args.seed)
    print(f"wrote {args.papers} papers in {files} digest files under {args.out}")


if __name__ == "__main__":
    main()
