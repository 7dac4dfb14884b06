"""The long-running commands: ``serve`` (the web page and HTTP API over one index) and
``watch`` (rebuild on new digests). What ``serve`` runs is ``papersearch/serving.py``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from papersearch.cli_output import domain_errors, log, print_event
from papersearch.engine_choice import milvus_uri
from papersearch.options import (
    engine_options,
    index_option,
    json_option,
    model_option,
    no_dense_option,
    reload_token_option,
    resolve_root,
    source_option,
)


@click.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@model_option(help="Embedding models for a first build, comma-separated (default: e5,use, bundled); at query time the index's.")
@click.option(
    "--build-if-missing/--no-build-if-missing",
    default=True,
    show_default=True,
    help="Build the index from --source first when none exists.",
)
@source_option(help="Digests to build from when the index is missing (default: $PAPERSEARCH_SOURCE, else data/digests).")
@reload_token_option(
    help="Accept POST /api/reload from non-loopback clients sending this X-Reload-Token ($PAPERSEARCH_RELOAD_TOKEN)."
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
@json_option
@domain_errors
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
    as_json: bool,
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

    With --json, stdout gets one JSON object per line as things happen: "serving" (url,
    build, legs), "swapped" (a background or watched build went live), "built" (a watched
    build's report); the log stays on stderr.
    """
    from papersearch.serving import ServeConfig, serve

    uri = milvus_uri(engine, milvus_uri_)
    serve(ServeConfig(
        root=resolve_root(index_root), host=host, port=port, model=model, build_if_missing=build_if_missing,
        sources=sources or watch, reload_token=reload_token, log_level=log_level,
        forwarded_allow_ips=forwarded_allow_ips, workers=workers, watch=watch, uri=uri, as_json=as_json,
    ))


@click.command("watch")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@index_option
@model_option()
@no_dense_option
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True, help="Seconds between looks.")
@click.option(
    "--server",
    default=None,
    help="After each build, POST /api/reload to this running server (e.g. http://127.0.0.1:8000).",
)
@reload_token_option(help="X-Reload-Token for --server.")
@json_option
@domain_errors
def watch_cmd(
    folders: tuple[Path, ...],
    index_root: Path | None,
    model: str | None,
    no_dense: bool,
    interval: float,
    server: str | None,
    reload_token: str | None,
    as_json: bool,
) -> None:
    """Watch digest folders; on a new or changed digest, rebuild incrementally and swap it in.

    A digest with a problem is reported and not built: the served index stays as it was.
    To build and serve in one process use `papersearch serve --watch DIR`.

    \b
    Example:
      papersearch watch data/digests --index /tmp/ps-index
      papersearch watch data/digests --server http://127.0.0.1:8000

    With --json, stdout gets one JSON object per line: "watching", then "built" (each
    build's report) and "reloaded" (the server's answer); the log stays on stderr.
    """
    from index.watch import Watcher

    def on_built(report: Any) -> None:
        if as_json:
            print_event("built", **report.to_dict())
        if server:
            _notify_reload(server, reload_token, log, as_json)

    watcher = Watcher(
        list(folders), resolve_root(index_root), model=model, dense="off" if no_dense else "auto",
        interval=interval, on_built=on_built, log=log,
    )
    log(f"watching {', '.join(map(str, folders))} every {interval:g} s (Ctrl-C stops)")
    if as_json:
        print_event("watching", folders=[str(f) for f in folders], index=str(resolve_root(index_root)), interval=interval)
    try:
        watcher.run()
    except KeyboardInterrupt:
        log("stopped")


def _notify_reload(server: str, token: str | None, log: Callable[[str], None], as_json: bool = False) -> None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(server.rstrip("/") + "/api/reload", method="POST", headers={"X-Reload-Token": token or ""})
    try:
        with urllib.request.urlopen(req, timeout=120) as res:
            build_id = json.loads(res.read()).get("build_id")
        log(f"watch: server reloaded: {build_id}")
        if as_json:
            print_event("reloaded", server=server, build_id=build_id)
    except (urllib.error.URLError, OSError, ValueError) as e:
        log(f"watch: could not reload {server}: {e} (the build is on disk; POST /api/reload later)")
        if as_json:
            print_event("reload_failed", server=server, error=str(e))
