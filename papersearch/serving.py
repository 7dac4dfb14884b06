"""What ``papersearch serve`` runs: uvicorn over the FastAPI app, in one process or in
several worker processes, with an optional watcher that builds new digests while serving.

The command itself (its options) is in ``papersearch/cli_serve.py``. With
``build_if_missing`` (the default) a missing index is built from ``sources`` first, so one
command takes a fresh checkout to a working page.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from papersearch.cli_output import print_event
from search.core.errors import PaperSearchError


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``serve`` was asked for, in one value instead of a dozen parameters."""

    root: Path
    host: str = "127.0.0.1"
    port: int = 8000
    model: str | None = None
    build_if_missing: bool = True
    sources: tuple[Path, ...] = ()  # to build from when the index is missing
    reload_token: str | None = None
    log_level: str = "info"
    forwarded_allow_ips: str | None = None
    workers: int = 1
    watch: tuple[Path, ...] = ()
    uri: str | None = None  # the Milvus engine's; None: the local index
    as_json: bool = False  # events as JSON lines on stdout (papersearch/cli_output.print_event)


def serve(cfg: ServeConfig) -> None:
    """Build the index if it is missing and wanted, then serve until stopped."""
    import uvicorn

    from papersearch.api import create_app
    from search.core.layout import IndexLayout
    from search.serve.holder import EngineHolder

    root, host, port, model, uri, watch = cfg.root, cfg.host, cfg.port, cfg.model, cfg.uri, cfg.watch

    if watch and uri is not None:
        raise click.UsageError("--watch rebuilds the local index only; with --engine milvus run `papersearch index build --engine milvus` for new digests")
    holder: EngineHolder | None = None
    if uri is not None:
        from search.serve.milvus_holder import MilvusHolder

        holder = MilvusHolder(uri, model=model)
    # The port first: a busy one fails in a second, before the index and model load (and
    # before the banner says where to open the page).
    check_port(host, port)
    has_index = holder.has_index() if holder is not None else IndexLayout(root).has_index()
    background = None
    if uri is None and cfg.build_if_missing:
        background = _progressive_build(cfg, has_index)
    elif not has_index:
        if not cfg.build_if_missing:
            click.echo(f"note: no index at {root}; /api answers 503 until one is built and reloaded", err=True)
        else:  # Milvus: built and published whole (a collection is written once)
            from index.build import build_index
            from index.parse.digest import resolve_sources

            srcs = resolve_sources(cfg.sources)
            click.echo(f"No index at {root}: building it from {', '.join(map(str, srcs))} ...", err=True)
            report = build_index(srcs, root, model=model, log=lambda msg: click.echo(msg, err=True))
            dense = f"dense legs: {', '.join(report.legs)}" if report.dense else "dense: off (BM25 only)"
            click.echo(f"Indexed {report.papers} papers (build {report.build_id}); {dense}.", err=True)
            from papersearch.engine_choice import publish

            publish(uri, root, log=lambda msg: click.echo(msg, err=True))
    # uvicorn trusts X-Forwarded-For from loopback by default, which would let any local
    # process (or a proxy) choose the client address the reload check sees: off unless
    # the proxy is named. The reload check also refuses loopback requests that carry
    # forwarding headers (papersearch/api.py, _reload_allowed).
    proxy = {"proxy_headers": True, "forwarded_allow_ips": cfg.forwarded_allow_ips} if cfg.forwarded_allow_ips else {"proxy_headers": False}
    if cfg.workers > 1:
        if watch:
            raise PaperSearchError("--watch needs one worker; with several, run `papersearch watch DIR --server URL` beside the server")
        if uri is not None:
            raise click.UsageError("--workers above 1 serves the local engine only; run one `serve` per core with --engine milvus")
        if background is not None:  # uvicorn's supervisor replaces the workers on SIGHUP
            background.when_built(lambda: os.kill(os.getpid(), signal.SIGHUP))
        if cfg.as_json:
            print_event("serving", url=f"http://{_display_host(host)}:{port}/", index=str(root), workers=cfg.workers)
        _serve_workers(cfg, proxy)
        return
    app = create_app(root, model=model, reload_token=cfg.reload_token, holder=holder)
    holder = app.state.holder
    # Load before listening: a bad model or an incompatible index fails here, as a
    # one-line error, instead of as a traceback inside the server's start-up.
    holder.load_if_present()
    if holder.loaded:
        engine = holder.current().engine
        state = f"legs: bm25, {', '.join(engine.ready_legs)}" if engine.dense_ready else f"BM25 only: {engine.model_notice}"
        click.echo(f"Serving {len(engine.ids)} papers from {holder.location}, build {engine.build_id}; {state}", err=True)
    if background is not None:
        background.when_built(lambda: _swap_in(holder, cfg.as_json))
    if watch:
        start_watching(holder, list(watch), root, model, cfg.as_json)
    click.echo(f"Open http://{_display_host(host)}:{port}/ (API docs: /docs)", err=True)
    if cfg.as_json:
        engine = holder.current().engine if holder.loaded else None
        print_event(
            "serving", url=f"http://{_display_host(host)}:{port}/", index=str(holder.location), workers=1,
            papers=len(engine.ids) if engine else 0, build_id=engine.build_id if engine else None,
            legs=["bm25", *engine.ready_legs] if engine else [], embedding=background is not None,
        )
    uvicorn.run(app, host=host, port=port, log_level=cfg.log_level, **proxy)


def _progressive_build(cfg: ServeConfig, has_index: bool) -> Any:
    """No index yet, or one whose dense legs are still to embed: the BM25 index first
    (this returns once it serves), the dense legs in the background. None when the index
    is complete."""
    from index.parse.digest import resolve_sources
    from index.progressive import pending_models
    from papersearch.background_build import BackgroundBuild
    from search.core.layout import BuildFiles, IndexLayout

    layout = IndexLayout(cfg.root)
    pending = pending_models(layout) if has_index else []
    if has_index and not pending:
        return None
    sources = list(cfg.sources)
    if not sources and has_index:  # resuming: the sources the BM25 build was made from
        sources = [Path(s) for s in BuildFiles(layout.current_build()).read_manifest().sources]
    srcs = resolve_sources(sources)
    say = lambda msg: click.echo(msg, err=True)  # noqa: E731
    if pending:
        say(f"The index at {cfg.root} is waiting for dense legs {', '.join(pending)}: embedding them in the background")
    else:
        say(f"No index at {cfg.root}: building it from {', '.join(map(str, srcs))} (BM25 first, then the dense legs) ...")
    background = BackgroundBuild(srcs, cfg.root, cfg.model, say)
    background.start()
    return background


def _swap_in(holder: Any, as_json: bool = False) -> None:
    result = holder.start_reload().result()
    click.echo(f"now serving build {result['build_id']}", err=True)
    if as_json:
        print_event("swapped", build_id=result["build_id"])


def _serve_workers(cfg: ServeConfig, proxy: dict[str, Any]) -> None:
    """Several processes: each imports the app by name and loads the index itself; the
    memory-mapped files (BM25, snippet morphemes, vectors) are shared through the page
    cache. This process only supervises, so it checks the index without loading it."""
    import uvicorn

    from search.core.errors import IndexCorrupt, IndexNotFound
    from search.core.layout import BuildFiles, IndexLayout
    from search.core.tokenizer import KiwiTokenizer

    root = cfg.root
    try:
        files = BuildFiles(IndexLayout(root).current_build())
        manifest = files.read_manifest()
        KiwiTokenizer().check_compatible(manifest.tokenizer)
        click.echo(f"Serving {manifest.papers} papers from {root} (build {manifest.build_id})", err=True)
    except (IndexNotFound, IndexCorrupt) as e:
        click.echo(f"note: {e}; /api answers 503 until one is built and reloaded", err=True)
    os.environ.update({ENV_ROOT: str(root), ENV_MODEL: cfg.model or "", ENV_TOKEN: cfg.reload_token or ""})
    click.echo(f"Open http://{_display_host(cfg.host)}:{cfg.port}/ (API docs: /docs)", err=True)
    click.echo(f"{cfg.workers} worker processes; `kill -HUP {os.getpid()}` or POST /api/reload reloads them all", err=True)
    uvicorn.run(
        f"{__name__}:worker_app", factory=True, workers=cfg.workers, host=cfg.host, port=cfg.port, log_level=cfg.log_level,
        # A worker is "ready" once it has loaded the index (seconds at 100k papers); a
        # restarting worker is retired only when its replacement is, so wait that long.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        http=HTTP_PROTOCOL,
        **proxy,
    )


# TCP_NODELAY on every connection (~40 ms stalls otherwise): see that module.
HTTP_PROTOCOL = "papersearch.http_protocol:NoDelayHTTPProtocol"
WORKER_START_SECONDS = 300
# How the supervising ``serve`` process tells its worker processes what to serve.
ENV_ROOT, ENV_MODEL, ENV_TOKEN = "PAPERSEARCH_SERVE_INDEX", "PAPERSEARCH_SERVE_MODEL", "PAPERSEARCH_SERVE_RELOAD_TOKEN"


def worker_app() -> Any:
    """The app of one worker process (uvicorn's ``factory``), configured from the
    environment ``serve --workers N`` set. A reload in one worker restarts them all on
    the new build: uvicorn's supervisor replaces workers one at a time on SIGHUP, each
    replacement ready before the old one stops, so requests keep being answered."""
    from papersearch.api import create_app

    app = create_app(os.environ[ENV_ROOT], model=os.environ.get(ENV_MODEL) or None, reload_token=os.environ.get(ENV_TOKEN) or None)
    parent = os.getppid()
    app.state.holder.after_reload = lambda: os.kill(parent, signal.SIGHUP)
    return app


def start_watching(holder: Any, folders: list[Path], root: Path, model: str | None, as_json: bool = False) -> Any:
    """Build on new digests in a background thread and swap each build into ``holder``;
    requests keep being answered by the old build until the new one is loaded."""
    from index.watch import Watcher

    def swap(report: Any) -> None:
        result = holder.reload()
        click.echo(f"watch: now serving build {result['build_id']}", err=True)
        if as_json:
            print_event("built", **report.to_dict())

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
