"""``papersearch serve``: the web page and the HTTP API over one index.

Registered on the main CLI group in ``search/cli.py``. With ``--build-if-missing`` (the
default) a missing index is built from ``--source`` first, so one command takes a fresh
checkout to a working page.
"""

from __future__ import annotations

from pathlib import Path

import click

from search.engine_choice import engine_options, milvus_uri
from search.errors import PaperSearchError
from search.layout import default_index_root

# Not imported from search.cli: cli.py imports this module to register the command, and
# the options are two lines each.


@click.command("serve")
@click.option(
    "--index",
    "index_root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Index folder (default: $PAPERSEARCH_INDEX, else ~/.local/share/papersearch/index).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--model", default=None, help="Embedding model: hub id or local folder (default: the index's).")
@click.option(
    "--build-if-missing/--no-build-if-missing",
    default=True,
    show_default=True,
    help="Build the index from --source first when none exists.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Digests to build from when the index is missing (default: $PAPERSEARCH_SOURCE, else data/digests).",
)
@click.option(
    "--reload-token",
    envvar="PAPERSEARCH_RELOAD_TOKEN",
    default=None,
    help="Accept POST /api/reload from non-loopback clients sending this X-Reload-Token ($PAPERSEARCH_RELOAD_TOKEN).",
)
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@engine_options
def serve_cmd(
    index_root: Path | None,
    host: str,
    port: int,
    model: str | None,
    build_if_missing: bool,
    sources: tuple[Path, ...],
    reload_token: str | None,
    log_level: str,
    engine: str,
    milvus_uri_: str | None,
) -> None:
    """Serve the search page at / and the JSON API at /api (OpenAPI docs at /docs).

    \b
    Example:
      papersearch serve                       # builds data/digests first if needed
      papersearch serve --index /tmp/ps-index --port 8080
      papersearch serve --engine milvus --milvus-uri http://milvus:19530
      curl 'http://127.0.0.1:8000/api/search?q=다중%20턴%20강화학습&k=3'
    """
    uri = milvus_uri(engine, milvus_uri_)
    try:
        _serve(index_root or default_index_root(), host, port, model, build_if_missing, sources, reload_token, log_level, uri)
    except PaperSearchError as e:
        raise click.ClickException(str(e)) from e


def _serve(
    root: Path,
    host: str,
    port: int,
    model: str | None,
    build_if_missing: bool,
    sources: tuple[Path, ...],
    reload_token: str | None,
    log_level: str,
    uri: str | None = None,
) -> None:
    import uvicorn

    from search.api import create_app
    from search.engine_holder import EngineHolder
    from search.layout import IndexLayout

    holder: EngineHolder | None = None
    if uri is not None:
        from search.milvus_holder import MilvusHolder

        holder = MilvusHolder(uri, model=model)
    has_index = holder.has_index() if holder is not None else IndexLayout(root).has_index()
    if not has_index:
        if not build_if_missing:
            click.echo(f"note: no index at {root}; /api answers 503 until one is built and reloaded", err=True)
        else:
            from index.build import build_index

            from index.digest import resolve_sources

            srcs = resolve_sources(sources)
            click.echo(f"No index at {root}: building it from {', '.join(map(str, srcs))} ...", err=True)
            report = build_index(srcs, root, model=model, log=lambda msg: click.echo(msg, err=True))
            dense = f"dense: {report.model}" if report.dense else "dense: off (BM25 only)"
            click.echo(f"Indexed {report.papers} papers (build {report.build_id}); {dense}.", err=True)
            if uri is not None:
                from search.engine_choice import publish

                publish(uri, root, log=lambda msg: click.echo(msg, err=True))

    app = create_app(root, model=model, reload_token=reload_token, holder=holder)
    holder = app.state.holder
    # Load before listening: a bad model or an incompatible index fails here, as a
    # one-line error, instead of as a traceback inside the server's start-up.
    holder.load_if_present()
    if holder.loaded:
        engine = holder.current().engine
        state = "dense + BM25" if engine.dense_ready else f"BM25 only ({engine.model_notice})"
        click.echo(f"Serving {len(engine.ids)} papers from {app.state.holder.location} (build {engine.build_id}; {state})", err=True)
    click.echo(f"Open http://{_display_host(host)}:{port}/  (API docs: /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
