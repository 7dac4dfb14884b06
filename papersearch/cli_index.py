"""``papersearch index build``: parse digests, build the index, swap it in (and publish
it to Milvus with ``--engine milvus``)."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from papersearch.cli_output import domain_errors, log, print_json
from papersearch.engine_choice import milvus_uri, publish
from papersearch.options import (
    engine_options,
    index_option,
    json_option,
    model_option,
    no_dense_option,
    resolve_root,
    source_option,
)
from search.core.errors import PaperSearchError


@click.group("index")
def index_group() -> None:
    """Build the search index from digest files.

    \b
    Example:
      papersearch index build --source data/digests --index /tmp/ps-index
      papersearch index build --json          # added/changed/removed/unchanged counts
    """


@index_group.command("build")
@source_option()
@index_option
@model_option()
@no_dense_option
@click.option("--require-dense", is_flag=True, help="Fail when any model cannot load, the bundled default ones too.")
@click.option(
    "--allow-bm25-only", is_flag=True,
    help="With --model or $PAPERSEARCH_MODEL: build without a named model that cannot load (BM25-only if none can) "
    "instead of failing.",
)
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a terminal).")
@click.option("--full", is_flag=True, help="Rebuild everything: ignore the token, embedding and parse caches.")
@click.option(
    "--progressive/--all-at-once", default=None,
    help="Publish the BM25 index before embedding (a running server answers at once), then the hybrid one "
    "(default: on for a first build with dense legs).",
)
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
    allow_bm25_only: bool,
    progress: bool | None,
    full: bool,
    progressive: bool | None,
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
    from index.build import BuildReport, build_index
    from index.progressive import build_progressively, pending_models
    from search.core.layout import IndexLayout
    from index.parse.digest import resolve_sources
    from index.publish.gate import QualityGate
    from search.evaluate import load_qrels

    from search.core.encoders import models_named

    if no_dense and require_dense:
        raise click.UsageError("--no-dense and --require-dense contradict each other")
    if require_dense and allow_bm25_only:
        raise click.UsageError("--require-dense and --allow-bm25-only contradict each other")
    srcs = resolve_sources(sources)
    # A named model must load (a typo would quietly build BM25-only); the bundled default
    # may fall back, with a notice, unless --require-dense.
    named = models_named(model) and not allow_bm25_only
    dense = "off" if no_dense else "required" if require_dense or named else "auto"
    if gate_qrels is None and (min_ndcg is not None or force):
        raise click.UsageError("--min-ndcg and --force need --gate QRELS")
    uri = milvus_uri(engine, milvus_uri_)
    root = resolve_root(index_root)
    try:
        if uri is not None:  # fail before the local build when Milvus cannot be reached
            from search.stores.milvus_client import connect

            connect(uri)
        gate = QualityGate(load_qrels(gate_qrels), root, min_ndcg, force, log) if gate_qrels else None
        layout = IndexLayout(root)
        # BM25 first where that is safe: not with a gate (one build is scored), not with
        # --require-dense (a model failing mid-way must leave no index), not for Milvus (one
        # collection). A named model is loaded before the BM25 step, so one that cannot
        # load fails the build before anything is published.
        can = dense != "off" and not require_dense and gate is None and uri is None and not full
        if progressive is None:
            progressive = can and (not layout.has_index() or bool(pending_models(layout)))
        first: list[BuildReport | None] = []
        if progressive and can:
            report = build_progressively(srcs, root, model=model, log=log, progress=progress, on_bm25=first.append, dense=dense)
        else:
            report = build_index(srcs, root, model=model, dense=dense, progress=progress, log=log, full=full, gate=gate)
    except PaperSearchError as e:
        _build_failed(e, as_json)
    if first and first[0] is not None:  # the changes are the BM25 step's: the dense step added none
        report.delta = first[0].delta
    # Milvus gets the local build's outputs (same tokens, BM25 weights and vectors).
    published = publish(uri, root, log) if uri is not None else None
    if as_json:
        print_json({**report.to_dict(), **({"milvus": published} if published else {})})
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
        print_json({"ok": False, "error": str(e), "code": e.code, "errors": [i.to_dict() for i in issues]})
    else:
        for issue in issues:
            click.echo(f"  {issue.file}:{issue.line}: {issue.reason}", err=True)
    raise click.ClickException(str(e)) from e


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@click.command("tune")
@click.argument("qrels", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@index_option
@click.option("--folds", type=click.IntRange(2, 100), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the folds' shuffle (same seed, same choice).")
@click.option("--dry-run", is_flag=True, help="Report what would be chosen; change nothing.")
@model_option()
@engine_options
@json_option
@domain_errors
def tune_cmd(
    qrels: Path, index_root: Path | None, folds: int, seed: int, dry_run: bool, model: str | None,
    engine: str, milvus_uri_: str | None, as_json: bool,
) -> None:
    """Choose the index's fusion and leg weights on a relevance set, by cross-validation.

    Every candidate (zscore, dbsf, weighted, rrf with several k; a weight per leg) is
    scored on each fold's held-out queries after being chosen on the others; the choice
    replaces the shipped default only when tuning wins on held-out queries. The result is
    recorded in the index (a new build, swapped in) and used by its searches;
    `papersearch info` shows it. With --engine milvus the local index is tuned and then
    published to Milvus, whose searches use the settings from then on.

    \b
    Example:
      papersearch tune tests/data/dev.json --dry-run
      papersearch tune my-qrels.json --folds 10 --json
    """
    from index.publish.tune import tune

    uri = milvus_uri(engine, milvus_uri_)
    root = resolve_root(index_root)
    report = tune(root, qrels, folds=folds, seed=seed, write=not dry_run, model=model, log=log)
    published = publish(uri, root, log) if uri is not None and report.build_id else None
    if as_json:
        print_json({**report.to_dict(), "milvus": published})
        return
    click.echo(f"{report.queries} queries, {report.candidates} candidate settings, {len(report.folds)} folds")
    click.echo(f"{'fold':>4} {'n':>3} {'tuned':>7} {'default':>8}  chosen on the other folds")
    for f in report.folds:
        c = f["chosen"]
        weights = ",".join(f"{k}={v:g}" for k, v in c["weights"].items()) or "equal"
        method = c["method"] + (f" k={c['rrf_k']}" if c["method"] == "rrf" else "")
        click.echo(f"{f['fold']:>4} {f['queries']:>3} {f['held_out_tuned']:7.4f} {f['held_out_default']:8.4f}  {method}, {weights}")
    held = report.held_out
    click.echo(f"held-out nDCG@10: tuned {held['tuned']:.4f}, shipped default {held['default']:.4f}")
    for kind, row in report.by_kind.items():
        click.echo(f"  {kind:14} tuned {row['tuned']:.4f}  default {row['default']:.4f}  (n={row['n']})")
    click.echo("each fusion untuned (equal weights, rrf k=60), nDCG@10 per fold and over all queries:")
    for method, row in report.fixed.items():
        click.echo(f"  {method:9} " + " ".join(f"{x:.4f}" for x in row["folds"]) + f"   all {row['all']:.4f}")
    verdict = "tuning wins: recorded" if report.replaced_default else "tuning does not beat the default on held-out queries: the default is kept"
    click.echo(f"{verdict}; fusion {report.chosen.describe()}")
    if report.match is not None:
        all_row = report.match.calibrated["folds"][-1]["fit"] if report.match.calibrated else {}
        cut = ", ".join(f"{m} cuts {c['cut']}/{c['relevant']}, lets {c['through']}/{c['offtopic']} off-topic through" for m, c in all_row.items())
        click.echo(f"match thresholds: {report.match.describe()}; on these queries {cut}")
    if report.build_id:
        click.echo(f"now serving build {report.build_id} (a running server: POST /api/reload)")
        if published is not None:
            click.echo(f"published to Milvus at {uri} (collection {published.get('collection')})")
    else:
        click.echo("dry run: nothing written")
