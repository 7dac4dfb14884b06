"""Daily ingest: watch digest folders, rebuild incrementally when a digest appears or
changes, and hand each new build to whoever serves it.

Polling (stat of every digest file, every ``interval`` seconds) rather than inotify: it
works the same on network folders and in containers, and a stat per file is cheap next
to a build. A change is acted on only once two polls agree, so a digest still being
written is not built half-way.

A new or changed digest with any parse problem is held back whole: its problems are
logged, nothing is built, and the served index stays as it was until the file changes
again. A digest that only partly parsed would otherwise go live with papers missing and
no one looking at the log would notice. A build that fails (another build holds the
lock, the model cannot load) is logged and retried at the next poll.

This module builds; it does not serve. ``on_built`` is how the server (``serve
--watch``) swaps the build in, or how ``papersearch watch --server URL`` asks a running
server to reload.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.build import BuildReport, build_index
from index.parse.digest import collect_digest_files, parse_file
from search.core.errors import PaperSearchError
from search.core.layout import BuildFiles, IndexLayout
from search.core.records import ParseIssue

Snapshot = dict[str, tuple[int, int]]  # path -> (mtime_ns, size)
DEFAULT_INTERVAL = 2.0


def snapshot(sources: Sequence[Path]) -> Snapshot:
    files, _issues = collect_digest_files(list(sources))
    out: Snapshot = {}
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue  # removed between listing and stat: the next poll sees it gone
        out[str(f)] = (st.st_mtime_ns, st.st_size)
    return out


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in (("new", self.added), ("changed", self.changed), ("removed", self.removed)) if v]
        names = [Path(p).name for p in self.added + self.changed + self.removed]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return f"{', '.join(parts)} digest file(s): {shown}"


def diff(old: Snapshot, new: Snapshot) -> Changes:
    return Changes(
        added=sorted(p for p in new if p not in old),
        changed=sorted(p for p in new if p in old and new[p] != old[p]),
        removed=sorted(p for p in old if p not in new),
    )


class Watcher:
    """Polls ``sources`` and builds ``index_root`` when they change; ``on_built`` gets
    every build report that was swapped in."""

    def __init__(
        self,
        sources: Sequence[Path],
        index_root: Path,
        *,
        model: str | None = None,
        dense: str = "auto",
        interval: float = DEFAULT_INTERVAL,
        on_built: Callable[[BuildReport], None] = lambda _r: None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.sources = [Path(s) for s in sources]
        self.index_root = Path(index_root)
        self.model = model
        self.dense = dense
        self.interval = interval
        self.on_built = on_built
        self.log = log
        self._stop = threading.Event()
        # What the served index was built from; the first poll compares against it.
        self.built: Snapshot = snapshot(self.sources)
        self._pending: Snapshot | None = None
        self.held: dict[str, tuple[int, int]] = {}  # broken files, until they change again
        self._gone: list[Path] = []  # recorded sources found missing (said once)

    def poll(self) -> BuildReport | None:
        """One look at the folders; builds when a change has settled. Returns the report
        of a build swapped in, else None."""
        now = snapshot(self.sources)
        if now == self.built:
            self._pending = None
            return None
        if now != self._pending:
            self._pending = now  # seen once: build when the next poll agrees
            return None
        self._pending = None
        changes = diff(self.built, now)
        fresh = [p for p in changes.added + changes.changed if self.held.get(p) != now[p]]
        if not fresh and not changes.removed:
            return None  # only held-back files, unchanged since they were reported
        self.log(f"watch: {changes.describe()}")
        problems = self._problems(changes.added + changes.changed, now)
        if problems:
            for issue in problems:
                self.log(f"watch: problem in {issue.file}:{issue.line}: {issue.reason}")
            self.log("watch: not built; the served index is unchanged until the file(s) are fixed")
            return None
        sources, gone = self._inputs()
        if gone:
            if gone != self._gone:
                self.log(
                    f"watch: not built: the index's recorded source(s) {', '.join(map(str, gone))} no longer exist, "
                    "and building without them would drop their papers; restore them, or run "
                    "`papersearch index build --source ...` to rebuild from what is there"
                )
            self._gone = gone
            return None
        self._gone = []
        model, dense, fields = self._settings()
        try:
            report = build_index(
                sources, self.index_root, model=model, dense=dense, progress=False,  # type: ignore[arg-type]
                log=self.log, **({"passage_fields": fields} if fields else {}),
            )
        except PaperSearchError as e:
            self.log(f"watch: build failed, the served index is unchanged: {e}")
            return None  # retried at the next change (or poll, for a held lock)
        self.built = now
        self.held = {}
        d = report.delta
        self.log(
            f"watch: build {report.build_id}: {report.papers} papers; "
            f"{d.get('added', 0)} added, {d.get('changed', 0)} changed, {d.get('removed', 0)} removed"
        )
        # What the merge refused from the new files (another digest's text for a served
        # paper, say): built without it, and said so.
        touched = set(changes.added + changes.changed)
        for issue in report.errors:
            if issue.file in touched:
                self.log(f"watch: problem in {issue.file}:{issue.line}: {issue.reason}")
        self.on_built(report)
        return report

    def _inputs(self) -> tuple[list[Path], list[Path]]:
        """What a watched build reads: the served build's recorded sources (those outside the
        watched folders) first, then the watched folders; and the recorded ones gone from
        disk. A paper keeps the digest it was built from (a byte-for-byte copy in a
        watched folder is read once, from there: index/parse/parse_cache.py), and a paper
        whose file is simply not in the watched folders is not dropped."""
        try:
            recorded = BuildFiles(IndexLayout(self.index_root).current_build()).read_manifest().sources
        except PaperSearchError:
            return list(self.sources), []  # no served build yet
        watched = [w.resolve() for w in self.sources]

        def watched_already(p: Path) -> bool:
            rp = p.resolve()
            return any(rp == w or w in rp.parents for w in watched)

        extra = [Path(s) for s in recorded if not watched_already(Path(s))]
        gone = [p for p in extra if not p.exists()]
        return [*extra, *self.sources], gone

    def _settings(self) -> tuple[str | None, str, list[str] | None]:
        """The models, dense setting and passage fields of the served build unless given: a daily build
        must not switch a BM25-only index to dense, or its dense legs to other models (each
        leg's manifest entry names what built it: ``e5``, ``use``, a hub id or a folder)."""
        if self.model is not None or self.dense != "auto":
            return self.model, self.dense, None
        try:
            manifest = BuildFiles(IndexLayout(self.index_root).current_build()).read_manifest()
        except PaperSearchError:
            return None, "auto", None  # no served build yet: the build's own defaults
        legs = manifest.dense_legs
        if not legs and manifest.pending_legs:  # a progressive build's BM25 step: its legs come next
            return ",".join(manifest.pending_legs), "auto", None
        if not legs:
            return None, "off", None
        # "required": a leg whose model no longer loads fails the daily build (logged,
        # retried) instead of quietly publishing an index without that leg. The legs'
        # passage text too: another text would re-embed every paper.
        models = ",".join(leg.source for leg in legs)
        return models, "required", list(legs[0].text_fields) or None

    def _problems(self, paths: list[str], now: Snapshot) -> list[ParseIssue]:
        issues: list[ParseIssue] = []
        for p in paths:
            _papers, file_issues = parse_file(Path(p))
            held = [i for i in file_issues if not i.notice]  # a notice loses nothing a reader sees
            if held:
                self.held[p] = now[p]
                issues.extend(held)
        return issues

    def run(self) -> None:
        """Poll until ``stop()``; an unexpected error in one poll is logged, not fatal."""
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as e:  # noqa: BLE001 - a watcher must outlive one bad poll
                self.log(f"watch: error: {e!r}")
            self._stop.wait(self.interval)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="papersearch-watch", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
