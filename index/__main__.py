"""``python -m index`` is ``papersearch index build``."""

from search.cli import build_cmd

build_cmd()
