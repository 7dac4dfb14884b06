"""Finding and reading digest files without trusting the folder they sit in.

A source folder may hold anything a feed or a user put there: a FIFO named ``x.md``
(opening it for reading would block the build forever), a symlink loop, a device, a
file too large to parse, text in UTF-16. Each is reported as a ``ParseIssue``, never
opened when it is not a regular file, and never stops the build.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from index.parse.digest_values import MAX_FILE_BYTES
from search.core.records import ParseIssue

DIGEST_SUFFIXES = (".md", ".markdown")

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class UnreadableDigest(Exception):
    """A digest file that could not be read as text; the message is the reported problem."""

    def __init__(self, reason: str, line: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _check_entry(path: Path) -> str | None:
    """Why ``path`` (named like a digest) cannot be read as one; None if it can."""
    try:
        st = os.stat(path)  # follows symlinks: a link to a regular file is fine
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop, not read"
        if e.errno == errno.ENOENT and os.path.islink(path):
            return "broken symlink, not read"
        return f"cannot read file: {e.strerror or e}"
    if stat.S_ISDIR(st.st_mode):
        return None  # a folder named like a digest: its contents are collected instead
    if not stat.S_ISREG(st.st_mode):
        return f"{_kind(st.st_mode)}, not a regular file: not read"
    if st.st_size > MAX_FILE_BYTES:
        return f"file of {st.st_size} bytes is over the {MAX_FILE_BYTES}-byte limit: not read"
    return None


def collect_digest_files(sources: Sequence[Path]) -> tuple[list[Path], list[ParseIssue]]:
    """Digest files under the given files/folders, in a stable order, and a problem for
    every digest-named entry that is not a readable regular file. Symlinked folders are
    not followed (a loop would never end); a file given by name is always tried."""
    files: list[Path] = []
    issues: list[ParseIssue] = []
    for src in map(Path, sources):
        if src.is_dir():
            found: list[Path] = []
            for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
                dirnames.sort()
                names = filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
                for name in sorted(names):
                    path = Path(dirpath, name)
                    if path.suffix.lower() not in DIGEST_SUFFIXES:
                        continue
                    reason = _check_entry(path)
                    if reason is not None:
                        issues.append(ParseIssue(str(path), 0, reason))
                    elif path.is_file():
                        found.append(path)
            files.extend(sorted(found))
            continue
        if not os.path.lexists(src):
            issues.append(ParseIssue(str(src), 0, "no such file or folder"))
            continue
        reason = _check_entry(src)
        if reason is not None:
            issues.append(ParseIssue(str(src), 0, reason))
        else:
            files.append(src)
    return list(dict.fromkeys(files)), issues


def read_digest_bytes(path: Path) -> bytes:
    """The file's bytes, read only if it is a regular file within the size limit.

    Opened non-blocking and checked on the open descriptor, so a FIFO swapped in after
    the folder was listed is refused instead of blocking the build."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnreadableDigest("symlink loop, not read") from None
        raise UnreadableDigest(f"cannot read file: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableDigest(f"{_kind(st.st_mode)}, not a regular file: not read")
        if st.st_size > MAX_FILE_BYTES:
            raise UnreadableDigest(f"file of {st.st_size} bytes is over the {MAX_FILE_BYTES}-byte limit: not read")
        try:
            raw = f.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise UnreadableDigest(f"cannot read file: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:  # grew after the stat
        raise UnreadableDigest(f"file is over the {MAX_FILE_BYTES}-byte limit: not read")
    return raw


def decode_digest(raw: bytes) -> str:
    """Text of a digest: UTF-8, or UTF-8/16/32 with a byte-order mark."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], name
            break
    if encoding == "utf-8" and b"\x00" in raw:
        raise UnreadableDigest("binary file, not a Markdown digest")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        if encoding == "utf-8":
            raise UnreadableDigest("not UTF-8 text (binary file?)", raw.count(b"\n", 0, e.start) + 1) from None
        raise UnreadableDigest(f"not valid {encoding.upper()} text despite its byte-order mark") from None
    if "\x00" in text:
        raise UnreadableDigest("binary file, not a Markdown digest")
    return text
