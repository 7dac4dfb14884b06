"""``papersearch serve``: the web page and the HTTP API over one index.

Registered on the main CLI group in ``search/cli.py``. With ``--build-if-missing`` (the
default) a missing index is built from ``--source`` first, so one command takes a fresh
checkout to a working page.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
from pathlib import Path
from typing import Any

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
@click.option("--model", default=None, help="Embedding models for a first build, comma-separated (default: e5,use, bundled); at query time the index's.")
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
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Behind a reverse proxy: its address(es), comma-separated; X-Forwarded-For from them is trusted "
    "for logs and client addresses. Default: no proxy headers trusted (a proxied request needs --reload-token).",
    show_default=True,
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    envvar="PAPERSEARCH_WORKERS",
    default=1,
    show_default=True,
    help="Server processes answering in parallel ($PAPERSEARCH_WORKERS); they share the memory-mapped index. "
    "About one per core.",
)
@click.option(
    "--watch",
    "watch",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Digest folder to watch: new or changed digests are built and swapped in while serving (repeatable).",
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
    forwarded_allow_ips: str | None,
    workers: int,
    watch: tuple[Path, ...],
    log_level: str,
    engine: str,
    milvus_uri_: str | None,
) -> None:
    """Serve the search page at / and the JSON API at /api (OpenAPI docs at /docs).

    \b
    Example:
      papersearch serve                       # builds data/digests first if needed
      papersearch serve --index /tmp/ps-index --port 8080
      papersearch serve --workers 2           # one process per core
      papersearch serve --watch data/digests  # daily ingest: new digests go live
      papersearch serve --engine milvus --milvus-uri http://milvus:19530
      curl 'http://127.0.0.1:8000/api/search?q=다중%20턴%20강화학습&k=3'
    """
    uri = milvus_uri(engine, milvus_uri_)
    try:
        _serve(
            index_root or default_index_root(), host, port, model, build_if_missing, sources or watch, reload_token,
            log_level, forwarded_allow_ips, workers, watch, uri,
        )
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
    forwarded_allow_ips: str | None = None,
    workers: int = 1,
    watch: tuple[Path, ...] = (),
    uri: str | None = None,
) -> None:
    import uvicorn

    from search.api import create_app
    from search.engine_holder import EngineHolder
    from search.layout import IndexLayout

    if watch and uri is not None:
        raise click.UsageError("--watch rebuilds the local index only; with --engine milvus run `papersearch index build --engine milvus` for new digests")
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
            dense = f"dense legs: {', '.join(report.legs)}" if report.dense else "dense: off (BM25 only)"
            click.echo(f"Indexed {report.papers} papers (build {report.build_id}); {dense}.", err=True)
            if uri is not None:
                from search.engine_choice import publish

                publish(uri, root, log=lambda msg: click.echo(msg, err=True))

    # The port first: a busy one fails in a second, before the index and model load (and
    # before the banner says where to open the page).
    check_port(host, port)
    # uvicorn trusts X-Forwarded-For from loopback by default, which would let any local
    # process (or a proxy) choose the client address the reload check sees: off unless
    # the proxy is named. The reload check also refuses loopback requests that carry
    # forwarding headers (search/api.py, _reload_allowed).
    proxy = {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips} if forwarded_allow_ips else {"proxy_headers": False}
    if workers > 1:
        if watch:
            raise PaperSearchError("--watch needs one worker; with several, run `papersearch watch DIR --server URL` beside the server")
        if uri is not None:
            raise click.UsageError("--workers above 1 serves the local engine only; run one `serve` per core with --engine milvus")
        _serve_workers(root, host, port, model, reload_token, log_level, workers, proxy)
        return
    app = create_app(root, model=model, reload_token=reload_token, holder=holder)
    holder = app.state.holder
    # Load before listening: a bad model or an incompatible index fails here, as a
    # one-line error, instead of as a traceback inside the server's start-up.
    holder.load_if_present()
    if holder.loaded:
        engine = holder.current().engine
        state = f"legs: bm25, {', '.join(engine.ready_legs)}" if engine.dense_ready else f"BM25 only: {engine.model_notice}"
        click.echo(f"Serving {len(engine.ids)} papers from {holder.location}, build {engine.build_id}; {state}", err=True)
    if watch:
        start_watching(holder, list(watch), root, model)
    click.echo(f"Open http://{_display_host(host)}:{port}/ (API docs: /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, **proxy)


def _serve_workers(
    root: Path, host: str, port: int, model: str | None, reload_token: str | None, log_level: str, workers: int,
    proxy: dict[str, Any],
) -> None:
    """Several processes: each imports the app by name and loads the index itself; the
    memory-mapped files (BM25, snippet morphemes, vectors) are shared through the page
    cache. This process only supervises, so it checks the index without loading it."""
    import uvicorn

    from search.errors import IndexCorrupt, IndexNotFound
    from search.layout import BuildFiles, IndexLayout
    from search.tokenizer import KiwiTokenizer

    try:
        files = BuildFiles(IndexLayout(root).current_build())
        manifest = files.read_manifest()
        KiwiTokenizer().check_compatible(manifest["tokenizer"])
        click.echo(f"Serving {manifest['papers']} papers from {root} (build {manifest['build_id']})", err=True)
    except (IndexNotFound, IndexCorrupt) as e:
        click.echo(f"note: {e}; /api answers 503 until one is built and reloaded", err=True)
    os.environ.update({ENV_ROOT: str(root), ENV_MODEL: model or "", ENV_TOKEN: reload_token or ""})
    click.echo(f"Open http://{_display_host(host)}:{port}/ (API docs: /docs)", err=True)
    click.echo(f"{workers} worker processes; `kill -HUP {os.getpid()}` or POST /api/reload reloads them all", err=True)
    uvicorn.run(
        f"{__name__}:worker_app", factory=True, workers=workers, host=host, port=port, log_level=log_level,
        # A worker is "ready" once it has loaded the index (seconds at 100k papers); a
        # restarting worker is retired only when its replacement is, so wait that long.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        http="search.http_protocol:NoDelayHTTPProtocol",  # see that module: ~40 ms stalls otherwise
        **proxy,
    )


WORKER_START_SECONDS = 300
# How the supervising ``serve`` process tells its worker processes what to serve.
ENV_ROOT, ENV_MODEL, ENV_TOKEN = "PAPERSEARCH_SERVE_INDEX", "PAPERSEARCH_SERVE_MODEL", "PAPERSEARCH_SERVE_RELOAD_TOKEN"


def worker_app() -> Any:
    """The app of one worker process (uvicorn's ``factory``), configured from the
    environment ``serve --workers N`` set. A reload in one worker restarts them all on
    the new build: uvicorn's supervisor replaces workers one at a time on SIGHUP, each
    replacement ready before the old one stops, so requests keep being answered."""
    from search.api import create_app

    app = create_app(os.environ[ENV_ROOT], model=os.environ.get(ENV_MODEL) or None, reload_token=os.environ.get(ENV_TOKEN) or None)
    parent = os.getppid()
    app.state.holder.after_reload = lambda: os.kill(parent, signal.SIGHUP)
    return app


def start_watching(holder: Any, folders: list[Path], root: Path, model: str | None) -> Any:
    """Build on new digests in a background thread and swap each build into ``holder``;
    requests keep being answered by the old build until the new one is loaded."""
    from index.watch import Watcher

    def swap(_report: Any) -> None:
        result = holder.reload()
        click.echo(f"watch: now serving build {result['build_id']}", err=True)

    watcher = Watcher(folders, root, model=model, on_built=swap, log=lambda msg: click.echo(msg, err=True))
    watcher.start()
    click.echo(f"Watching {', '.join(map(str, folders))} for new or changed digests", err=True)
    return watcher


def check_port(host: str, port: int) -> None:
    """A one-line error when host:port cannot be listened on (mostly: taken). The probe
    socket is closed again for uvicorn to bind; a process taking the port in between
    still gets uvicorn's own error, but the common case, a server already running, is
    told at once instead of after loading the index."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is fine
        try:
            sock.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use (another papersearch serve?); pick another with --port"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
