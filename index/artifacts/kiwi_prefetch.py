"""Kiwi loaded in a helper process while an incremental build parses and compares.

Kiwi spends ~2 s loading its model before its first sentence, and holds the GIL while it
does, so a thread cannot hide it. A daily build sends Kiwi a few dozen texts (the new
papers and their gloss windows) yet paid that whole load after parsing; on a machine
with two or more cores a child process now loads Kiwi at the start of the build, and
those texts go to it once the build knows which they are.

Only small batches go to the child: a big one (a first or ``--full`` build tokenizes
every paper) is tokenized in this process on Kiwi's own workers, where shipping tokens
back through a pipe would cost more than the load. If the child cannot start, dies, or
does not answer within a generous deadline, it is killed and the texts are tokenized in
this process.
Tokens are the same either way (same Kiwi, same options; ``tests/test_incremental.py``).

The protocol is one JSON line each way: a list of texts in, a list of token lists out,
each token ``[form, tag, start, len]``.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, NamedTuple

from search.core.tokenizer import KiwiTokenizer, TokenizerSettings

# Batches larger than this are tokenized in-process (see the module docstring).
MAX_REMOTE_TEXTS = 2000
# Seconds an answer may take beyond Kiwi's slowest pace here: its model load, with room.
ANSWER_SECONDS = 30.0


class RawToken(NamedTuple):
    """The fields of a Kiwi token the tokenizer and the glossary miner read."""

    form: str
    tag: str
    start: int
    len: int


class KiwiPrefetch:
    """A Kiwi-like ``tokenize`` backed by a child process, falling back to ``local``."""

    def __init__(self, local: KiwiTokenizer, proc: subprocess.Popen[bytes] | None):
        self._local = local
        self._proc = proc
        self.remote_texts = 0  # texts the child tokenized, for tests and reports

    @classmethod
    def start(cls, local: KiwiTokenizer) -> "KiwiPrefetch":
        """Start loading Kiwi in a child, when there is a spare core for it and this
        process has not loaded Kiwi already (a server that built before, a test run)."""
        proc = None
        wanted = os.environ.get("PAPERSEARCH_KIWI_PREFETCH", "1") != "0" and not local.local_kiwi_loaded
        if wanted and (os.cpu_count() or 1) >= 2:
            s = local.settings
            spec = {"model_type": s.model_type, "typo": s.kiwi_typo_dict, "multi": s.kiwi_multi_dict,
                    "num_workers": local.num_workers, "kiwi_version": s.kiwi_version}
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "index.artifacts.kiwi_prefetch", json.dumps(spec)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                )
            except OSError:
                proc = None
        return cls(local, proc)

    def tokenize(self, text: str | Iterable[str]) -> Any:
        if isinstance(text, str):
            return next(iter(self._tokenize([text])))
        return iter(self._tokenize(list(text)))

    def _tokenize(self, texts: list[str]) -> Iterable[list[Any]]:
        if not texts:
            return []
        if self._proc is not None and len(texts) <= MAX_REMOTE_TEXTS:
            got = self._ask(texts)
            if got is not None:
                self.remote_texts += len(texts)
                return got
        self.close()  # a big batch or a failed child: this process's Kiwi from now on
        return self._local.local_kiwi.tokenize(iter(texts))

    def _ask(self, texts: list[str]) -> list[list[RawToken]] | None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        # Kiwi's load plus its slowest pace here (~50k characters a second), with room.
        deadline = time.monotonic() + ANSWER_SECONDS + sum(map(len, texts)) / 20_000
        try:
            _write_all(proc.stdin.fileno(), json.dumps(texts, ensure_ascii=False).encode() + b"\n", deadline)
            rows = json.loads(_read_line(proc.stdout.fileno(), deadline))
            if not isinstance(rows, list) or len(rows) != len(texts):
                return None
            return [[RawToken(*t) for t in row] for row in rows]
        except (OSError, ValueError, TypeError):
            return None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # The child keeps nothing worth a graceful exit, and may still be loading.
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # unsent input to a child that is gone
                    pass

    def __enter__(self) -> "KiwiPrefetch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    """Write to a pipe without blocking past ``deadline`` (a child not reading would
    otherwise stall a write bigger than the pipe's buffer)."""
    os.set_blocking(fd, False)
    view = memoryview(data)
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_WRITE)
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise ValueError("Kiwi helper did not read in time")
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue


def _read_line(fd: int, deadline: float) -> bytes:
    """One line from ``fd``, or ValueError at end of input or past ``deadline`` (a child
    that hangs must not hang the build, which holds the build lock)."""
    buf = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise ValueError("Kiwi helper did not answer in time")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise ValueError("Kiwi helper exited")
            buf += chunk
    return bytes(buf)


def _serve(spec: dict[str, Any], stdin: IO[bytes], stdout: IO[bytes]) -> None:
    from search.core.tokenizer import make_kiwi

    settings = TokenizerSettings(
        kiwi_version=spec["kiwi_version"], model_type=spec["model_type"],
        kiwi_typo_dict=spec["typo"], kiwi_multi_dict=spec["multi"],
    )
    kiwi = make_kiwi(settings, int(spec["num_workers"]))
    kiwi.tokenize("준비")  # the model loads on the first sentence: do it before one is asked for
    for line in _lines(stdin):
        texts = json.loads(line)
        rows = [[[t.form, t.tag, t.start, t.len] for t in toks] for toks in kiwi.tokenize(iter(texts))]
        stdout.write(json.dumps(rows, ensure_ascii=False).encode() + b"\n")
        stdout.flush()


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    while line := stream.readline():
        yield line


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
