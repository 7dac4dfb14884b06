"""The click options more than one command takes, each defined once.

Each is a decorator (``@index_option``); the few whose help says something different in
one command (``serve``'s ``--model`` and ``--source`` are about a first build) take that
help as an argument instead of being copied.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from search.core.errors import InvalidQuery
from search.core.fusion_settings import parse_weights
from search.core.layout import default_index_root
from search.core.request import (
    DEFAULT_K,
    FUSIONS,
    MAX_K,
    MAX_OFFSET,
    MAX_RRF_K,
    MAX_UPVOTES,
    SORTS,
)

F = TypeVar("F", bound=Callable[..., Any])
ENGINES = ("local", "milvus")
MODE_HELP = "hybrid (BM25 + every dense leg), bm25, dense (every dense leg), or one leg: e5, use, ..."
MODEL_HELP = (
    "Embedding models, comma-separated: e5, use (bundled), a hub id or a local folder "
    "(default: $PAPERSEARCH_MODEL, else e5,use; at query time: the index's). See `papersearch models`."
)
SOURCE_HELP = "Digest file or folder; repeatable (default: $PAPERSEARCH_SOURCE, else data/digests)."

index_option = click.option(
    "--index",
    "index_root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Index folder (default: $PAPERSEARCH_INDEX, else ~/.local/share/papersearch/index).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def server_options(fn: F) -> F:
    """``--server URL`` and ``--local``: where ``search``/``similar``/``eval`` are answered
    (``papersearch/remote.py``)."""
    fn = click.option(
        "--local", is_flag=True,
        help="Open the index in this process even when a server on 127.0.0.1:8000 serves it.",
    )(fn)
    return click.option(
        "--server", envvar="PAPERSEARCH_SERVER", default=None, metavar="URL",
        help="Ask this running server ($PAPERSEARCH_SERVER; default: one on 127.0.0.1:8000 serving this index, if any).",
    )(fn)
no_dense_option = click.option("--no-dense", is_flag=True, help="Build BM25 only; do not load an embedding model.")
mode_option = click.option("--mode", default="hybrid", show_default=True, help=MODE_HELP)
fusion_option = click.option(
    "--fusion", type=click.Choice(FUSIONS), default=None,
    help="How the legs' rankings merge (default: the index's, see `papersearch info`; shipped: zscore).",
)
rrf_k_option = click.option("--rrf-k", type=click.IntRange(0, MAX_RRF_K), default=None, help="RRF constant k (default: the index's, 60).")
# Every limit below is the request model's (search/core/request.py), as the API's are.
offset_option = click.option("--offset", type=click.IntRange(0, MAX_OFFSET), default=0, help="Skip this many results (paging).")
sort_option = click.option(
    "--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
    help="Order of the matches: by relevance, newest first, or most upvoted first.",
)
min_upvotes_option = click.option(
    "--min-upvotes", type=click.IntRange(0, MAX_UPVOTES), default=None, help="Only papers with at least this many upvotes.",
)


def k_option(help: str | None = None) -> Callable[[F], F]:
    return click.option("--k", type=click.IntRange(1, MAX_K), default=DEFAULT_K, show_default=True, help=help)


def model_option(help: str = MODEL_HELP) -> Callable[[F], F]:
    return click.option("--model", default=None, help=help)


def source_option(help: str = SOURCE_HELP) -> Callable[[F], F]:
    return click.option("--source", "sources", multiple=True, type=click.Path(path_type=Path), help=help)


def reload_token_option(help: str) -> Callable[[F], F]:
    return click.option("--reload-token", envvar="PAPERSEARCH_RELOAD_TOKEN", default=None, help=help)


def engine_options(fn: F) -> F:
    """``--engine local|milvus`` and ``--milvus-uri``; see ``papersearch/engine_choice.py``."""
    fn = click.option(
        "--milvus-uri",
        "milvus_uri_",  # not milvus_uri: that name is engine_choice's function
        envvar="PAPERSEARCH_MILVUS_URI",
        default=None,
        help="With --engine milvus: a file path (Milvus Lite) or http://host:19530 ($PAPERSEARCH_MILVUS_URI).",
    )(fn)
    return click.option(
        "--engine",
        type=click.Choice(ENGINES),
        envvar="PAPERSEARCH_ENGINE",
        default="local",
        show_default=True,
        help="Where the index lives: local files, or a Milvus server/cluster/Lite file ($PAPERSEARCH_ENGINE).",
    )(fn)  # type: ignore[return-value]


def _weights(_ctx: Any, _param: Any, value: str | None) -> dict[str, float] | None:
    """``bm25=1,e5=1,use=0.5`` → per-leg fusion weights (the engine checks the leg names)."""
    if not value:
        return None
    try:
        return parse_weights(value)
    except InvalidQuery as e:
        raise click.BadParameter(str(e)) from None


weights_option = click.option(
    "--weights", callback=_weights, default=None,
    help="Per-leg fusion weights, e.g. bm25=1,e5=1,use=0.5 (a leg not named weighs 1; default: the index's).",
)


def resolve_root(given: Path | None) -> Path:
    """``--index``, else its default (``$PAPERSEARCH_INDEX``, else the user's data folder)."""
    return given or default_index_root()
