"""The commands that read an index: ``search``, ``similar``, ``info``, ``eval``, and
``models`` (the encoders an index can be built with)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from papersearch.cli_output import domain_errors, print_json
from papersearch.engine_choice import milvus_uri, open_engine
from papersearch.options import (
    engine_options,
    fusion_option,
    index_option,
    json_option,
    k_option,
    min_upvotes_option,
    mode_option,
    model_option,
    offset_option,
    resolve_root,
    rrf_k_option,
    server_options,
    sort_option,
    weights_option,
)


@click.command("search")
@click.argument("query")
@index_option
@k_option(help="Number of results.")
@offset_option
@mode_option
@fusion_option
@rrf_k_option
@weights_option
@click.option("--date-from", default=None, help="Only papers from this date (YYYY-MM-DD).")
@click.option("--date-to", default=None, help="Only papers up to this date (YYYY-MM-DD).")
@min_upvotes_option
@sort_option
@model_option()
@engine_options
@server_options
@json_option
@domain_errors
def search_cmd(
    query: str,
    index_root: Path | None,
    k: int,
    offset: int,
    mode: str,
    fusion: str | None,
    rrf_k: int | None,
    weights: dict[str, float] | None,
    date_from: str | None,
    date_to: str | None,
    min_upvotes: int | None,
    sort: str,
    model: str | None,
    engine: str,
    milvus_uri_: str | None,
    server: str | None,
    local: bool,
    as_json: bool,
) -> None:
    """Search the index with a Korean, English or mixed query.

    Answered by a running server when one serves this index (no models to load),
    else in this process; see --server and --local.

    \b
    Example:
      papersearch search "다중 턴 강화학습"
      papersearch search "GUI agent RL" --mode bm25 --k 5 --json
      papersearch search "강화학습" --date-from 2026-01-01 --sort newest
    """
    from search.core.filters import Filters, parse_date

    filters = Filters(parse_date(date_from), parse_date(date_to), min_upvotes)
    opened = _engine(engine, milvus_uri_, index_root, model, mode != "bm25", server, local)
    resp = opened.search(
        query, k=k, mode=mode, offset=offset, fusion=fusion, rrf_k=rrf_k, weights=weights, filters=filters, sort=sort
    )
    if as_json:
        print_json(resp.to_dict())
    else:
        _print_table(resp)


@click.command("similar")
@click.argument("paper_id", required=False)
@click.option("--text", default=None, help="Find papers similar to this text (e.g. a pasted abstract).")
@index_option
@k_option()
@mode_option
@model_option()
@engine_options
@server_options
@json_option
@domain_errors
def similar_cmd(
    paper_id: str | None, text: str | None, index_root: Path | None, k: int, mode: str, model: str | None,
    engine: str, milvus_uri_: str | None, server: str | None, local: bool, as_json: bool,
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
    opened = _engine(engine, milvus_uri_, index_root, model, needs_model, server, local)
    resp = opened.similar(paper_id=paper_id, text=text, k=k, mode=mode)
    if as_json:
        print_json(resp.to_dict())
    else:
        _print_table(resp)


@click.command("info")
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
    from search.core.layout import BuildFiles, IndexLayout

    uri = milvus_uri(engine, milvus_uri_)
    if uri is not None:
        from search.milvus_engine import MilvusEngine

        served = MilvusEngine(uri, load_model=False)
        data, manifest, where = served.info(), served.manifest, f"{uri} (collection {served.collection})"
    else:
        layout = IndexLayout(resolve_root(index_root))
        build = layout.current_build()
        manifest = BuildFiles(build).read_manifest()
        data, where = {"engine": "local", "index": str(layout.root), "build": build.name, **manifest.to_dict()}, f"{layout.root} (build {build.name})"
    fusion = manifest.fusion_settings
    data["fusion"] = fusion.to_dict()  # the settings searches use (the shipped default when none are recorded)
    data["match"] = manifest.match_thresholds.to_dict()  # when a hit counts as a match
    if as_json:
        print_json(data)
        return
    legs = manifest.dense_legs
    click.echo(f"engine:   {data['engine']}")
    click.echo(f"index:    {where}")
    click.echo(f"papers:   {manifest.papers} from {manifest.files} files ({manifest.errors} problems)")
    click.echo(f"built at: {manifest.built_at}")
    click.echo(f"sources:  {', '.join(manifest.sources) or '-'}")
    click.echo(f"bm25:     k1={manifest.bm25.k1} b={manifest.bm25.b}, {manifest.bm25.vocabulary} terms")
    for leg in legs:
        click.echo(f"dense:    {leg.name}: {leg.model} ({leg.backend} {leg.version}, {leg.dim}-d, {leg.ann_type})")
    if not legs:
        click.echo("dense:    off (BM25 only)")
    click.echo(f"fusion:   {fusion.describe()}")
    click.echo(f"matches:  {manifest.match_thresholds.describe()}")


@click.command("eval")
@click.argument("qrels", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@index_option
@mode_option
@k_option()
@fusion_option
@rrf_k_option
@weights_option
@click.option("--similar-mode", default=None, help="Mode for the similar-papers items (default: the engine's).")
@model_option()
@server_options
@json_option
@domain_errors
def eval_cmd(
    qrels: Path, index_root: Path | None, mode: str, k: int, fusion: str | None, rrf_k: int | None,
    weights: dict[str, float] | None, similar_mode: str | None, model: str | None, server: str | None, local: bool,
    as_json: bool,
) -> None:
    """Score the index on a relevance set: nDCG@10, MRR@10, Recall@10 by kind and language.

    \b
    Example:
      papersearch eval tests/data/dev.json --mode bm25 --json
    """
    from search.evaluate import evaluate, load_qrels

    engine = _engine("local", None, index_root, model, mode != "bm25", server, local)
    report = evaluate(engine, load_qrels(qrels), mode=mode, k=k, fusion=fusion, rrf_k=rrf_k, weights=weights, similar_mode=similar_mode)
    if report["unknown_ids"]:
        ids = report["unknown_ids"]
        shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        click.echo(f"warning: {len(ids)} paper id(s) of {qrels} are not in this index and count as misses: {shown}", err=True)
    if as_json:
        print_json(report)
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


@click.command("models")
@json_option
def models_cmd(as_json: bool) -> None:
    """List the embedding encoders: which load on this machine, their size and cost.

    \b
    Example:
      papersearch models
      papersearch index build --model e5        # build with one of them
    """
    from search.core.encoders import catalogue

    rows = catalogue()
    if as_json:
        print_json(rows)
        return
    click.echo(f"{'name':20} {'backend':22} {'dim':>4}  {'usable':7} notes")
    for r in rows:
        usable = "yes" if r["usable"] else "no"
        notes = r["about"] + (" [default]" if r["default"] else "") + (f" ({r['why_not']})" if r["why_not"] else "")
        click.echo(f"{r['name']:20} {r['backend']:22} {str(r['dim'] or '-'):>4}  {usable:7} {notes}")
        click.echo(f"{'':20} {'':22} {'':>4}  {'':7} cost: {r['cost']}")


def _engine(
    engine: str, uri: str | None, index_root: Path | None, model: str | None, load_model: bool, server: str | None, local: bool,
) -> Any:
    """A running server's answers when ``--server`` names one, or when one on the default
    address serves this very index (``papersearch/remote.py``); else the index opened here."""
    from papersearch.remote import RemoteEngine, find_server

    if server and local:
        raise click.UsageError("--server and --local contradict each other")
    if server and model:
        raise click.UsageError("--model chooses the encoders of an index opened here; a server uses its own")
    root = resolve_root(index_root)
    # Auto only for the local engine as asked (no query-time --model): the server must
    # answer exactly as this process would.
    url = find_server(server, root, auto=not local and engine == "local" and model is None)
    if url is not None:
        return RemoteEngine(url)
    return open_engine(engine, uri, root, model, load_model=load_model)


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
    if getattr(resp, "no_match", False):
        click.echo(f"No good match for {resp.query[:60]!r} (mode {resp.mode}); the nearest papers:")
    else:
        click.echo(f"{resp.total} matches for {resp.query[:60]!r} (mode {resp.mode})")
    for h in resp.results:
        legs = [f"{name} #{leg.rank}" if leg else f"{name} -" for name, leg in h.legs.items()]
        click.echo(f"{h.rank:3d}. {h.paper.title[:80]}")
        click.echo(f"     {h.paper.id}  {h.paper.date or '':10}  score {round(h.score, 6):.4f}  [{', '.join(legs)}]  {h.paper.url}")
