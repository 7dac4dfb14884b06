"""``python -m papersearch`` is the ``papersearch`` command."""

from papersearch.cli import main

main()
