"""``papersearch``: a thin CLI over the library. Heavy imports happen inside commands so
``--help`` answers at once; domain errors become one-line messages and exit code 1.

This module is the group; each command lives in the module named for what it does
(``cli_index``, ``cli_query``, ``cli_serve``), their shared options in ``options``.
"""

from __future__ import annotations

import sys

import click

from papersearch.cli_index import index_group, tune_cmd
from papersearch.cli_query import (
    eval_cmd,
    info_cmd,
    models_cmd,
    search_cmd,
    similar_cmd,
)
from papersearch.cli_serve import serve_cmd, watch_cmd


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


for command in (index_group, search_cmd, similar_cmd, info_cmd, eval_cmd, tune_cmd, watch_cmd, models_cmd, serve_cmd):
    main.add_command(command)

if __name__ == "__main__":
    sys.exit(main())
