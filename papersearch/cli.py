"""``papersearch``: a thin CLI over the library. Heavy imports happen inside commands so
``--help`` answers at once; domain errors become one-line messages and exit code 1."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from search.engine_choice import engine_options, milvus_uri, open_engine, publish
from search.errors import PaperSearchError
from search.layout import default_index_root

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(fn: F) -> F:
    """Library exceptions become ``Error: <message>`` and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PaperSearchError as e:
            raise click.ClickException(str(e)) from e

    return wrapper  # type: ignore[return-value]


index_option = click.option(
    "--index",
    "index_root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Index folder (default: $PAPERSEARCH_INDEX, else ~/.local/share/papersearch/index).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
model_option = click.option(
    "--model",
    default=None,
    help="Embedding models, comma-separated: e5, use (bundled), a hub id or a local folder "
    "(default: $PAPERSEARCH_MODEL, else e5,use; at query time: the index's). See `papersearch models`.",
)
def _weights(_ctx: Any, _param: Any, value: str | None) -> dict[str, float] | None:
    """``bm25=1,e5=1,use=0.5`` → per-leg fusion weights."""
    if not value:
        return None
    out: dict[str, float] = {}
    for part in value.split(","):
        name, sep, num = part.partition("=")
        try:
            out[name.strip()] = float(num)
        except ValueError:
            raise click.BadParameter(f"{part!r}: use LEG=NUMBER, e.g. bm25=1,e5=1,use=0.5") from None
        if not sep or not name.strip() or not out[name.strip()] >= 0:
            raise click.BadParameter(f"{part!r}: use LEG=NUMBER with a number >= 0")
    return out


weights_option = click.option(
    "--weights", callback=_weights, default=None,
    help="Per-leg fusion weights, e.g. bm25=1,e5=1,use=0.5 (a leg not named weighs 1; default: the engine's).",
)
mode_help = "hybrid (BM25 + every dense leg), bm25, dense (every dense leg), or one leg: e5, use, ..."


def _root(index_root: Path | None) -> Path:
    return index_root or default_index_root()


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="papersearch")
def main() -> None:
    """Semantic search over Korean AI-paper digests (BM25 over Kiwi morphemes + embeddings).

    \b
    Example:
      papersearch index build --source data/digests
      papersearch search "다중 턴 강화학습" --k 5
      papersearch serve            # then open http://127.0.0.1:8000/
    """


@main.group("index")
def index_group() -> None:
    """Build the search index from digest files.

    \b
    Example:
      papersearch index build --source data/digests --index /tmp/ps-index
      papersearch index build --json          # added/changed/removed/unchanged counts
    """


@index_group.command("build")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Digest file or folder; repeatable (default: $PAPERSEARCH_SOURCE, else data/digests).",
)
@index_option
@model_option
@click.option("--no-dense", is_flag=True, help="Build BM25 only; do not load an embedding model.")
@click.option("--require-dense", is_flag=True, help="Fail instead of falling back to BM25 when the model cannot load.")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a terminal).")
@click.option("--full", is_flag=True, help="Rebuild everything: ignore the token, embedding and parse caches.")
@click.option(
    "--gate",
    "gate_qrels",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Relevance set (eval format): refuse to swap in a build scoring below the served one.",
)
@click.option("--min-ndcg", type=click.FloatRange(0, 1), default=None, help="With --gate: also refuse below this nDCG@10.")
@click.option("--force", is_flag=True, help="With --gate: swap in the new build even if it fails the gate.")
@engine_options
@json_option
@domain_errors
def build_cmd(
    sources: tuple[Path, ...],
    index_root: Path | None,
    model: str | None,
    no_dense: bool,
    require_dense: bool,
    progress: bool | None,
    full: bool,
    gate_qrels: Path | None,
    min_ndcg: float | None,
    force: bool,
    engine: str,
    milvus_uri_: str | None,
    as_json: bool,
) -> None:
    """Parse digests and build (or rebuild) the index; the new build is swapped in whole.

    \b
    Example:
      papersearch index build --source data/digests --index /tmp/ps-index
      papersearch index build --model e5 --json       # one bundled encoder
      papersearch index build --model BAAI/bge-m3      # a sentence-transformers model
      papersearch index build --gate tests/data/dev.json --min-ndcg 0.7
      papersearch index build --engine milvus --milvus-uri ./milvus.db
    """
    from index.build import build_index
    from index.digest import resolve_sources
    from index.gate import QualityGate
    from search.evaluate import load_qrels

    if no_dense and require_dense:
        raise click.UsageError("--no-dense and --require-dense contradict each other")
    srcs = resolve_sources(sources)
    dense = "off" if no_dense else "required" if require_dense else "auto"
    if gate_qrels is None and (min_ndcg is not None or force):
        raise click.UsageError("--min-ndcg and --force need --gate QRELS")
    log = lambda msg: click.echo(msg, err=True)  # noqa: E731
    uri = milvus_uri(engine, milvus_uri_)
    try:
        if uri is not None:  # fail before the local build when Milvus cannot be reached
            from search.milvus_store import connect

            connect(uri)
        gate = QualityGate(load_qrels(gate_qrels), _root(index_root), min_ndcg, force, log) if gate_qrels else None
        report = build_index(
            srcs,
            _root(index_root),
            model=model,
            dense=dense,
            progress=progress,
            log=log,
            full=full,
            gate=gate,
        )
    except PaperSearchError as e:
        _build_failed(e, as_json)
    # Milvus gets the local build's outputs (same tokens, BM25 weights and vectors).
    published = publish(uri, _root(index_root), log) if uri is not None else None
    if as_json:
        _print_json({**report.to_dict(), **({"milvus": published} if published else {})})
        return
    for issue in report.errors:
        click.echo(f"  {issue.file}:{issue.line}: {issue.reason}", err=True)  # the reason says what was skipped or cut
    dense_state = f"dense legs: {', '.join(report.legs)}" if report.dense else "dense: off (BM25 only)"
    click.echo(
        f"Indexed {report.papers} papers from {report.files} files into {report.index} "
        f"(build {report.build_id}); {_plural(len(report.errors), 'problem')}; {dense_state}."
    )
    d = report.delta
    if d:
        reused = "" if d["reused"] == d["unchanged"] else f" ({d['reused']} reused from caches)"
        click.echo(
            f"Changes: {d['added']} added, {d['changed']} changed, {d['removed']} removed, "
            f"{d['unchanged']} unchanged{reused}."
        )
    if published:
        click.echo(f"Milvus: alias {published['alias']!r} -> {published['collection']} at {published['uri']} ({published['seconds']:.1f} s).")


def _build_failed(e: PaperSearchError, as_json: bool) -> NoReturn:
    """A failed build still answers scripts on stdout, and lists every problem it saw."""
    issues = getattr(e, "issues", [])
    if as_json:
        _print_json({"ok": False, "error": str(e), "errors": [i.to_dict() for i in issues]})
    else:
        for issue in issues:
            click.echo(f"  {issue.file}:{issue.line}: {issue.reason}", err=True)
    raise click.ClickException(str(e)) from e


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@main.command("search")
@click.argument("query")
@index_option
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True, help="Number of results.")
@click.option("--offset", type=click.IntRange(0, 1000), default=0, help="Skip this many results (paging).")
@click.option("--mode", default="hybrid", show_default=True, help=mode_help)
@click.option("--fusion", type=click.Choice(["rrf", "weighted"]), default="rrf", show_default=True)
@click.option("--rrf-k", type=click.IntRange(0, 10_000), default=60, show_default=True, help="RRF constant k.")
@weights_option
@click.option("--date-from", default=None, help="Only papers from this date (YYYY-MM-DD).")
@click.option("--date-to", default=None, help="Only papers up to this date (YYYY-MM-DD).")
@click.option("--min-upvotes", type=int, default=None, help="Only papers with at least this many upvotes.")
@click.option(
    "--sort", type=click.Choice(["relevance", "newest", "upvotes"]), default="relevance", show_default=True,
    help="Order of the matches: by relevance, newest first, or most upvoted first.",
)
@model_option
@engine_options
@json_option
@domain_errors
def search_cmd(
    query: str,
    index_root: Path | None,
    k: int,
    offset: int,
    mode: str,
    fusion: str,
    rrf_k: int,
    weights: dict[str, float] | None,
    date_from: str | None,
    date_to: str | None,
    min_upvotes: int | None,
    sort: str,
    model: str | None,
    engine: str,
    milvus_uri_: str | None,
    as_json: bool,
) -> None:
    """Search the index with a Korean, English or mixed query.

    \b
    Example:
      papersearch search "다중 턴 강화학습"
      papersearch search "GUI agent RL" --mode bm25 --k 5 --json
      papersearch search "강화학습" --date-from 2026-01-01 --sort newest
    """
    from search.engine import Filters
    from search.filters import parse_date

    filters = Filters(parse_date(date_from), parse_date(date_to), min_upvotes)
    engine = open_engine(engine, milvus_uri_, _root(index_root), model, load_model=mode != "bm25")
    resp = engine.search(
        query, k=k, mode=mode, offset=offset, fusion=fusion, rrf_k=rrf_k, weights=weights, filters=filters, sort=sort
    )
    if as_json:
        _print_json(resp.to_dict())
    else:
        _print_table(resp)


@main.command("similar")
@click.argument("paper_id", required=False)
@click.option("--text", default=None, help="Find papers similar to this text (e.g. a pasted abstract).")
@index_option
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--mode", default="hybrid", show_default=True, help=mode_help)
@model_option
@engine_options
@json_option
@domain_errors
def similar_cmd(
    paper_id: str | None, text: str | None, index_root: Path | None, k: int, mode: str, model: str | None,
    engine: str, milvus_uri_: str | None, as_json: bool,
) -> None:
    """Papers similar to a paper in the index, or to a pasted text.

    \b
    Example:
      papersearch similar 2509.02544 --k 5
      papersearch similar --text "멀티턴 강화학습으로 GUI 에이전트를 학습한다"
    """
    if paper_id is None and text is None:
        raise click.UsageError("give a PAPER_ID (papers like it) or --text TEXT (papers like that text)")
    if paper_id is not None and text is not None:
        raise click.UsageError("give a PAPER_ID or --text, not both")
    needs_model = text is not None and mode != "bm25"
    engine = open_engine(engine, milvus_uri_, _root(index_root), model, load_model=needs_model)
    resp = engine.similar(paper_id=paper_id, text=text, k=k, mode=mode)
    if as_json:
        _print_json(resp.to_dict())
    else:
        _print_table(resp)


@main.command("info")
@index_option
@engine_options
@json_option
@domain_errors
def info_cmd(index_root: Path | None, engine: str, milvus_uri_: str | None, as_json: bool) -> None:
    """Describe the served index: papers, build time, tokenizer, model.

    \b
    Example:
      papersearch info --json
    """
    from search.layout import BuildFiles, IndexLayout

    uri = milvus_uri(engine, milvus_uri_)
    if uri is not None:
        from search.milvus_engine import MilvusEngine

        served = MilvusEngine(uri, load_model=False)
        data, manifest, where = served.info(), served.manifest, f"{uri} (collection {served.collection})"
    else:
        layout = IndexLayout(_root(index_root))
        build = layout.current_build()
        manifest = BuildFiles(build).read_manifest()
        data, where = {"engine": "local", "index": str(layout.root), "build": build.name, **manifest}, f"{layout.root} (build {build.name})"
    if as_json:
        _print_json(data)
        return
    legs = manifest.get("dense_legs") or []
    click.echo(f"engine:   {data['engine']}")
    click.echo(f"index:    {where}")
    click.echo(f"papers:   {manifest['papers']} from {manifest['files']} files ({manifest['errors']} problems)")
    click.echo(f"built at: {manifest['built_at']}")
    click.echo(f"bm25:     k1={manifest['bm25']['k1']} b={manifest['bm25']['b']}, {manifest['bm25']['vocabulary']} terms")
    for leg in legs:
        click.echo(f"dense:    {leg['name']}: {leg['model']} ({leg['backend']} {leg['version']}, {leg['dim']}-d, {leg['index']['type']})")
    if not legs:
        click.echo("dense:    off (BM25 only)")


@main.command("eval")
@click.argument("qrels", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@index_option
@click.option("--mode", default="hybrid", show_default=True, help=mode_help)
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--fusion", type=click.Choice(["rrf", "weighted"]), default="rrf", show_default=True)
@click.option("--rrf-k", type=click.IntRange(0, 10_000), default=60, show_default=True, help="RRF constant k.")
@weights_option
@click.option("--similar-mode", default=None, help="Mode for the similar-papers items (default: the engine's).")
@model_option
@json_option
@domain_errors
def eval_cmd(
    qrels: Path, index_root: Path | None, mode: str, k: int, fusion: str, rrf_k: int,
    weights: dict[str, float] | None, similar_mode: str | None, model: str | None, as_json: bool,
) -> None:
    """Score the index on a relevance set: nDCG@10, MRR@10, Recall@10 by kind and language.

    \b
    Example:
      papersearch eval tests/data/dev.json --mode bm25 --json
    """
    from search.engine import SearchEngine
    from search.evaluate import evaluate, load_qrels

    engine = SearchEngine.open(_root(index_root), model=model, load_model=mode != "bm25")
    report = evaluate(engine, load_qrels(qrels), mode=mode, k=k, fusion=fusion, rrf_k=rrf_k, weights=weights, similar_mode=similar_mode)
    if as_json:
        _print_json(report)
        return
    click.echo(f"mode {report['mode']} (answered by {report['answered_mode']}), {report['queries']} queries")
    rows = [("overall", report["overall"])]
    rows += [(f"kind={g}", m) for g, m in report["by_kind"].items()]
    rows += [(f"lang={g}", m) for g, m in report["by_lang"].items()]
    click.echo(f"{'':22} {'nDCG@10':>8} {'MRR@10':>8} {'R@10':>8} {'n':>4}")
    for name, m in rows:
        click.echo(f"{name:22} {m['ndcg@10']:8.4f} {m['mrr@10']:8.4f} {m['recall@10']:8.4f} {m['n']:4d}")
    sim = report["similar"]
    click.echo(f"{'similar (' + sim['mode'] + ')':22} {sim['ndcg@10']:8.4f} {'':8} {'':8} {sim['items']:4d}")


@main.command("watch")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@index_option
@model_option
@click.option("--no-dense", is_flag=True, help="Build BM25 only; do not load an embedding model.")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True, help="Seconds between looks.")
@click.option(
    "--server",
    default=None,
    help="After each build, POST /api/reload to this running server (e.g. http://127.0.0.1:8000).",
)
@click.option("--reload-token", envvar="PAPERSEARCH_RELOAD_TOKEN", default=None, help="X-Reload-Token for --server.")
@domain_errors
def watch_cmd(
    folders: tuple[Path, ...],
    index_root: Path | None,
    model: str | None,
    no_dense: bool,
    interval: float,
    server: str | None,
    reload_token: str | None,
) -> None:
    """Watch digest folders; on a new or changed digest, rebuild incrementally and swap it in.

    A digest with a problem is reported and not built: the served index stays as it was.
    To build and serve in one process use `papersearch serve --watch DIR`.

    \b
    Example:
      papersearch watch data/digests --index /tmp/ps-index
      papersearch watch data/digests --server http://127.0.0.1:8000
    """
    from index.watch import Watcher

    log = lambda msg: click.echo(msg, err=True)  # noqa: E731
    on_built = (lambda _report: _notify_reload(server, reload_token, log)) if server else (lambda _report: None)
    watcher = Watcher(
        list(folders), _root(index_root), model=model, dense="off" if no_dense else "auto",
        interval=interval, on_built=on_built, log=log,
    )
    log(f"watching {', '.join(map(str, folders))} every {interval:g} s (Ctrl-C stops)")
    try:
        watcher.run()
    except KeyboardInterrupt:
        log("stopped")


def _notify_reload(server: str, token: str | None, log: Callable[[str], None]) -> None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(server.rstrip("/") + "/api/reload", method="POST", headers={"X-Reload-Token": token or ""})
    try:
        with urllib.request.urlopen(req, timeout=120) as res:
            log(f"watch: server reloaded: {json.loads(res.read()).get('build_id')}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        log(f"watch: could not reload {server}: {e} (the build is on disk; POST /api/reload later)")


def _print_table(resp: Any) -> None:
    if resp.notice:
        click.echo(f"note: {resp.notice}", err=True)
    if not resp.results:
        if resp.offset and resp.total:
            click.echo(
                f"No results on this page: {resp.total} matches for {resp.query!r}, "
                f"and --offset {resp.offset} is past the end (use an offset below {resp.total})."
            )
        else:
            click.echo(f"No results for {resp.query!r}.")
        return
    click.echo(f"{resp.total} matches for {resp.query[:60]!r} (mode {resp.mode})")
    for h in resp.results:
        legs = [f"{name} #{leg.rank}" if leg else f"{name} -" for name, leg in h.legs.items()]
        click.echo(f"{h.rank:3d}. {h.paper.title[:80]}")
        click.echo(f"     {h.paper.id}  {h.paper.date or '':10}  score {h.score:.4f}  [{', '.join(legs)}]  {h.paper.url}")


@main.command("models")
@json_option
def models_cmd(as_json: bool) -> None:
    """List the embedding encoders: which load on this machine, their size and cost.

    \b
    Example:
      papersearch models
      papersearch index build --model e5        # build with one of them
    """
    from search.encoders import catalogue

    rows = catalogue()
    if as_json:
        _print_json(rows)
        return
    click.echo(f"{'name':20} {'backend':22} {'dim':>4}  {'usable':7} notes")
    for r in rows:
        usable = "yes" if r["usable"] else "no"
        notes = r["about"] + (" [default]" if r["default"] else "") + (f" ({r['why_not']})" if r["why_not"] else "")
        click.echo(f"{r['name']:20} {r['backend']:22} {str(r['dim'] or '-'):>4}  {usable:7} {notes}")
        click.echo(f"{'':20} {'':22} {'':>4}  {'':7} cost: {r['cost']}")


# Registered here rather than defined here: the server command has its own module.
from search.serve_cli import serve_cmd  # noqa: E402

main.add_command(serve_cmd, "serve")

if __name__ == "__main__":
    sys.exit(main())
