"""Everything that writes an index folder: write-then-rename, the build lock, staging,
publishing a build and cleaning up old ones. Used only by builds; the query side reads
through ``search.core.layout``, which owns the paths.

Files inside a staged build need no write-then-rename of their own (the whole folder is
published at once); the caches outlive builds and do. Writers go through :func:`atomic_file`
or :func:`atomic_path` either way, except bm25s, which saves its own files into the staged
build's ``bm25/`` folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from search.core.errors import BuildLocked, IndexCorrupt, IndexNotFound
from search.core.layout import (
    BUILDS_DIR,
    KEEP_BUILDS,
    NEXT_LINK_PREFIX,
    STAGING_PREFIX,
    BuildFiles,
    IndexLayout,
)
from search.core.manifest import Manifest


@contextlib.contextmanager
def atomic_file(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """Write-then-rename: the block writes a temporary file beside ``path``; on success it
    is fsynced and renamed over ``path``, on any error removed. A crash leaves either the
    old file or the new one, never a torn one. Every artifact writer goes through here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes files private; an index is meant to be read
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """:func:`atomic_file` for writers that want a path (``np.save``, ``faiss.write_index``):
    the block writes the temporary path it is given, which is then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_file(dst: IO[bytes], src_path: Path, start: int = 0) -> None:
    """Append ``src_path``'s bytes from offset ``start`` to the binary file ``dst``. In the
    kernel where it can (``copy_file_range``: 3-6x faster than a user-space copy for the
    150 MB of a served build's vectors, instant on file systems that share extents)."""
    dst.flush()
    pos = dst.tell()
    with open(src_path, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        off = start
        try:
            while off < size:
                n = os.copy_file_range(src.fileno(), dst.fileno(), size - off, off, pos)
                if n == 0:
                    break
                off, pos = off + n, pos + n
        except (AttributeError, OSError):  # not Linux, or not between these files
            src.seek(off)
            dst.seek(pos)
            shutil.copyfileobj(src, dst, 1 << 22)
            return
    dst.seek(pos)


def write_json(path: Path, data: Any, indent: int | None = 1) -> None:
    """``indent=None`` for large files: json's fast C encoder only runs without indent."""
    with atomic_file(path) as f:
        f.write(json.dumps(data, ensure_ascii=False, indent=indent))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with atomic_file(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


class BuildLock:
    """An exclusive ``flock`` on ``build.lock``: the kernel drops it when the holder dies,
    so a killed build (even ``kill -9``) never blocks the next one."""

    def __init__(self, layout: IndexLayout) -> None:
        self.layout = layout
        self._fd: int | None = None

    def __enter__(self) -> "BuildLock":
        import fcntl

        self.layout.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.layout.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise BuildLocked(
                f"another build is running on {self.layout.root} (pid {holder}); "
                "wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        import fcntl

        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class StagedBuild:
    """A new build written beside the served one, swapped in whole by :meth:`commit`.

    Use as a context manager: leaving the block without ``commit()`` (an exception, a
    failed gate) removes the staging folder and leaves the served index untouched.
    """

    def __init__(self, layout: IndexLayout) -> None:
        self.layout = layout
        now = time.time()
        # Sortable by name in build order (GC keeps the newest), unique by the random tail.
        self.build_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now))}.{int(now % 1 * 1e6):06d}-{uuid.uuid4().hex[:4]}"
        layout.builds_dir.mkdir(parents=True, exist_ok=True)
        # A dot-prefixed staging name: a crash leaves it behind, and the next build's
        # garbage collection removes it; readers never follow `current` into it.
        self.path = layout.builds_dir / f"{STAGING_PREFIX}{self.build_id}"
        self.path.mkdir()
        self.files = BuildFiles(self.path)
        self.committed = False

    def __enter__(self) -> "StagedBuild":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> Path:
        """Rename staging to its final name, then point ``current`` at it atomically."""
        final = self.layout.builds_dir / self.build_id
        _fsync_tree(self.path)
        os.rename(self.path, final)
        tmp_link = self.layout.root / f"{NEXT_LINK_PREFIX}{self.build_id}"
        os.symlink(Path(BUILDS_DIR) / self.build_id, tmp_link)
        os.replace(tmp_link, self.layout.current_link)
        _fsync_dir(self.layout.root)
        self.committed = True
        self.path = final
        self.files = BuildFiles(final)
        collect_garbage(self.layout)
        return final


def write_manifest(files: BuildFiles, manifest: Manifest) -> None:
    """The one writer of a manifest (``search/core/manifest.py`` reads it): atomically."""
    write_json(files.manifest, manifest.to_dict())


def republish(layout: IndexLayout, change: Callable[[Manifest], Manifest]) -> str:
    """The served build again as a new build whose manifest is ``change(manifest)``,
    swapped in like any build (a running server reloads it; the old one stays until GC).
    Every other file is hard-linked, not copied: a build's files are never written once
    it is committed, so sharing them is safe and costs no disk."""
    with BuildLock(layout), StagedBuild(layout) as stage:
        current = layout.current_build()
        stage.path.rmdir()
        shutil.copytree(current, stage.path, copy_function=_link_or_copy)
        manifest = change(BuildFiles(current).read_manifest())
        stage.files.manifest.unlink()  # a link to the served manifest: never write through it
        write_manifest(stage.files, manifest.with_build_id(stage.build_id))
        stage.commit()
        return stage.build_id


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a file system without hard links: the bytes, then
        shutil.copy2(src, dst)


def collect_garbage(layout: IndexLayout, keep: int = KEEP_BUILDS) -> None:
    """Drop leftover staging folders and all but the newest ``keep`` builds."""
    if not layout.builds_dir.is_dir():
        return
    try:
        served = layout.current_build().name
    except (IndexNotFound, IndexCorrupt):
        served = None
    for p in layout.builds_dir.iterdir():
        # Only a build holding the lock calls this, so any staging folder is a dead build's.
        if p.name.startswith(STAGING_PREFIX):
            shutil.rmtree(p, ignore_errors=True)
    builds = sorted(p for p in layout.builds_dir.iterdir() if not p.name.startswith("."))
    for old in builds[:-keep]:
        if old.name != served:
            shutil.rmtree(old, ignore_errors=True)
    for p in layout.root.glob(f"{NEXT_LINK_PREFIX}*"):
        p.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))
