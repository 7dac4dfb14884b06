"""Entry points of papersearch: the ``papersearch`` CLI, ``serve`` and the FastAPI app.

They sit above the two libraries and import both: ``index/`` (build time: parse digests,
write index builds) and ``search/`` (query time: read a build, answer queries). Neither
library imports this package, and ``search/`` never imports ``index/``
(``tests/test_architecture.py``).
"""
