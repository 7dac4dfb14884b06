"""``--engine local|milvus`` and ``--milvus-uri``: what the commands do with the choice.

The commands take the two options (``papersearch/options.py``) and call :func:`open_engine`
(or :func:`publish` after a build); nothing else in them changes with the engine. The
local engine stays the default; Milvus is an optional extra.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def milvus_uri(engine: str, uri: str | None) -> str | None:
    """The Milvus URI when the Milvus engine is chosen (it must be given), else None."""
    if engine != "milvus":
        return None
    if not uri:
        raise click.UsageError("--engine milvus needs --milvus-uri (or $PAPERSEARCH_MILVUS_URI)")
    return uri


def open_engine(engine: str, uri: str | None, index_root: Path, model: str | None, load_model: bool) -> Any:
    """A loaded engine: ``SearchEngine`` on the local index, or ``MilvusEngine`` on the URI."""
    uri = milvus_uri(engine, uri)
    if uri is None:
        from search.engine import SearchEngine

        return SearchEngine.open(index_root, model=model, load_model=load_model)
    from search.milvus_engine import MilvusEngine

    return MilvusEngine(uri, model=model, load_model=load_model)


def publish(uri: str, index_root: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Send the local index's served build to Milvus and move the alias to it."""
    from index.publish.milvus_build import publish_build
    from search.core.layout import IndexLayout

    report = publish_build(IndexLayout(index_root).current_build(), uri, log=log)
    return report.to_dict()
