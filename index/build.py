"""Build an index: parse digests, tokenize, BM25, embed, write, swap in atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.artifacts.bm25_build import BM25Params, write_bm25
from index.artifacts.bm25_documents import bm25_documents
from index.artifacts.dense_build import DenseMode, load_encoders, write_leg
from index.artifacts.glossary_update import build_glossary
from index.artifacts.incremental import (
    ServedBuild,
    compare,
    read_served,
    served_order_first,
    served_records,
    write_papers,
)
from index.artifacts.kiwi_prefetch import KiwiPrefetch
from index.artifacts.no_op import builder_fingerprint, nothing_to_build
from index.artifacts.progress import progress_enabled
from index.artifacts.snippet_build import write_snippet_spans
from index.parse.corpus import Corpus, Texts
from index.parse.parse_cache import parse_sources_cached
from index.storage import BuildLock, StagedBuild, collect_garbage, write_json, write_manifest
from search.core.encoders import PASSAGE_FIELDS
from search.core.encoders.base import Encoder
from search.core.errors import NoPapersFound, SourceNotFound
from search.core.fusion_settings import FusionSettings
from search.core.layout import IndexLayout
from search.core.manifest import DenseLegSpec, Manifest
from search.core.records import Paper, ParseIssue
from search.core.tokenizer import KiwiTokenizer

# Called with the staged (not yet served) build folder; raising stops the swap.
Gate = Callable[[Path], None]


@dataclass
class BuildReport:
    papers: int
    files: int
    errors: list[ParseIssue]
    index: str
    build_id: str
    dense: bool
    legs: list[str]  # the dense legs built, e.g. ["e5", "use"]; empty for BM25 only
    notice: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # added / changed / removed / reused papers against the previously served build
    delta: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "papers": self.papers,
            "files": self.files,
            "errors": [e.to_dict() for e in self.errors],
            "index": self.index,
            "build_id": self.build_id,
            "dense": self.dense,
            "legs": self.legs,
            "notice": self.notice,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            **self.delta,
        }


def build_index(
    sources: Sequence[Path],
    index_root: Path,
    *,
    model: str | Sequence[str] | None = None,
    dense: DenseMode = "auto",
    params: BM25Params = BM25Params(),
    progress: bool | None = None,
    gate: Gate | None = None,
    log: Callable[[str], None] = lambda _msg: None,
    full: bool = False,
    passage_fields: Sequence[str] = PASSAGE_FIELDS,
    pending_legs: Sequence[str] = (),
    on_embed: Callable[[str, int, int], None] | None = None,
    loaded: tuple[dict[str, Encoder], str | None] | None = None,
) -> BuildReport:
    """Build and swap in a new index. Incremental unless ``full``: parsed files, Kiwi tokens
    and embeddings are reused from ``ROOT/cache`` for unchanged text. ``model``: encoder
    names (``"e5,use"``, a hub id, a folder; see ``search.core.encoders``), one dense leg each;
    None means the bundled default. ``pending_legs``: the models a BM25-only build will be
    followed by (``index/progressive.py``), recorded so that searches and ``watch`` know.
    ``on_embed(leg, embedded, to_embed)``: after every chunk of passages a leg embeds.
    ``loaded``: what ``load_encoders(model, dense)`` returned, when the caller loaded them."""
    # A typo in a source path would otherwise drop that source's papers from the index.
    missing = [str(s) for s in sources if not Path(s).exists()]
    if missing:
        raise SourceNotFound(
            f"source {', '.join(missing)} does not exist (no such file or folder); nothing was built"
        )
    show = progress_enabled(progress)
    layout = IndexLayout(index_root)
    timings = Timings()
    with BuildLock(layout), contextlib.ExitStack() as stack:
        local = KiwiTokenizer()
        # An incremental build tokenizes few texts: Kiwi loads in a helper meanwhile.
        prefetch = stack.enter_context(KiwiPrefetch.start(local)) if not full and layout.current_link.exists() else None
        tokenizer = KiwiTokenizer(local.settings, kiwi=prefetch)
        with timings.step("parse"):
            # A paper several digests describe keeps its served text: another digest
            # cannot take it over or rewrite it (index/parse/digest_merge.py).
            parsed = parse_sources_cached(
                list(sources), layout.cache_dir, enabled=not full, incumbent=lambda ids: served_records(layout, ids)
            )
        corpus = parsed.papers  # records decoded only where a step needs them
        assert isinstance(corpus, Corpus)  # what parse_sources_cached gives
        if not corpus:
            raise NoPapersFound(
                f"no papers found in {', '.join(map(str, sources))} "
                f"({_count(len(parsed.issues), 'problem')}); the served index was left as it was",
                parsed.issues,
            )
        with timings.step("compare"):
            served = read_served(layout)
            delta = compare(corpus.ids, corpus.hashes, served, full=full)
            if not full:
                corpus, delta = served_order_first(corpus, delta, served)
        if not full and gate is None and not pending_legs and nothing_to_build(
            served, delta, corpus_hash(corpus.ids, corpus.hashes), [str(s) for s in sources], model=model, dense=dense,
            params=params, tokenizer=tokenizer.settings.to_dict(), passage_fields=passage_fields,
        ):
            assert served is not None
            collect_garbage(layout)  # a dead build's staging folder goes all the same
            log(f"nothing changed since build {served.manifest.build_id}: the served index stands")
            return BuildReport(
                papers=len(corpus), files=parsed.files, errors=parsed.issues, index=str(layout.root),
                build_id=served.manifest.build_id, dense=bool(served.manifest.dense_legs),
                legs=[leg.name for leg in served.manifest.dense_legs], timings=dict(timings), delta=delta.to_dict(),
            )
        # The model loads before tokenizing: Kiwi loads in its helper meanwhile.
        with timings.step("load_model"):
            encoders, notice = loaded if loaded is not None else load_encoders(model, dense)
        if notice:
            log(notice)

        with StagedBuild(layout) as stage:
            files = stage.files
            with timings.step("write_papers"):
                write_papers(files, corpus, delta, served)  # copies the served rows when only appending
            legs_built: list[DenseLegSpec] = []
            if encoders:  # needs no tokens: before them, giving Kiwi's helper time
                with timings.step("embed"):
                    for leg, encoder in encoders.items():
                        meta, seconds = write_leg(
                            leg, corpus, encoder, files, show, layout.cache_dir, delta, served, tuple(passage_fields), not full,
                            on_progress=(lambda done, total, leg=leg: on_embed(leg, done, total)) if on_embed else None,
                        )
                        legs_built.append(meta)
                        timings.add("encode", seconds)  # the models alone: what benchmarks leave out
            # Each snippet field's morphemes with their offsets, so the server highlights
            # without Kiwi (index/artifacts/snippet_build.py); they are also the bodies BM25 indexes.
            with timings.step("snippets"):
                snippet_meta, spans = write_snippet_spans(corpus, tokenizer, files, served, full=full, progress=show)
            with timings.step("tokenize"):
                docs = bm25_documents(corpus, spans, tokenizer, layout.cache_dir, params, show, use_cache=not full)
            del spans
            with timings.step("bm25"):
                bm25_meta = write_bm25(docs, files.bm25, params)
            with timings.step("glossary"):
                # The term bridge for query expansion; reuses the BM25 token lists for counts.
                # A small change is mined alone and merged into the served glossary (then only
                # the new papers' texts are made).
                glossary = build_glossary(
                    Texts(corpus, Paper.search_text), docs, tokenizer, fresh=delta.fresh, full=full,
                    changed=delta.added + delta.changed + delta.removed,
                    served=served.files.glossary if served is not None else None,
                )
                write_json(files.glossary, glossary)
            if prefetch is not None:
                prefetch.close()  # Kiwi's last use
            manifest = Manifest(
                build_id=stage.build_id,
                built_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                papers=len(corpus),
                files=parsed.files,
                errors=len(parsed.issues),
                sources=tuple(str(s) for s in sources),
                corpus_hash=corpus_hash(corpus.ids, corpus.hashes),
                tokenizer=tokenizer.settings.to_dict(),
                bm25=bm25_meta,
                dense_legs=tuple(legs_built),
                snippets=snippet_meta,
                fusion=carried_fusion(served, ["bm25", *(leg.name for leg in legs_built)], log),
                # Thresholds are per leg: a leg this build lacks is simply not asked for its.
                match=served.manifest.match if served is not None else None,
                pending_legs=tuple(pending_legs),
                builder=builder_fingerprint(),
            )
            write_manifest(files, manifest)
            if gate is not None:
                gate(stage.path)
            stage.commit()
        return BuildReport(
            papers=len(corpus),
            files=parsed.files,
            errors=parsed.issues,
            index=str(layout.root),
            build_id=stage.build_id,
            dense=bool(legs_built),
            legs=[leg.name for leg in legs_built],
            notice=notice,
            timings=dict(timings),
            delta=delta.to_dict(),
        )


class Timings(dict[str, float]):
    """Seconds per named build step, in the order the steps ran (the report's timings)."""

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self[name] = self.get(name, 0.0) + seconds


def carried_fusion(served: ServedBuild | None, legs: Sequence[str], log: Callable[[str], None]) -> FusionSettings | None:
    """The served build's recorded fusion settings (``papersearch tune``), kept by every
    rebuild, incremental, full or from ``watch``, as long as the legs they weigh are still
    there; otherwise dropped, saying so (tune again)."""
    fusion = served.manifest.fusion if served is not None else None
    if fusion is None:
        return None
    gone = [leg for leg in fusion.weights if leg not in legs]
    if gone:
        log(f"the tuned fusion settings weigh leg(s) {', '.join(gone)} this build does not have: "
            "dropped, the shipped default applies (run `papersearch tune` again)")
        return None
    return fusion


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def corpus_hash(ids: Sequence[str], hashes: Sequence[str]) -> str:
    """Order-independent: the paper hashes sorted by paper id."""
    h = hashlib.sha256()
    for _, ph in sorted(zip(ids, hashes)):
        h.update(ph.encode())
    return h.hexdigest()
