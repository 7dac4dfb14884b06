"""Imports point down: ``papersearch/`` (the entry points) may import ``search/`` and
``index/``; ``index/`` (build time) may import ``search/``; ``search/`` (query time)
imports neither. Read from the source with ``ast``, so an import inside a function counts
as much as one at the top of a module."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

# package -> the first-party packages it must not import
FORBIDDEN = {"search": {"index", "papersearch"}, "index": {"papersearch"}}


def imported_packages(source: str) -> set[str]:
    """Top-level packages named by every ``import`` and absolute ``from ... import``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_imported_packages_sees_every_kind_of_import() -> None:
    source = (
        "import index\nimport os.path, index.build as b\nfrom papersearch.cli import main\n"
        "def f():\n    from index import gate\n    import search.engine\nfrom . import sibling\n"
    )
    assert imported_packages(source) == {"index", "os", "papersearch", "search"}
    assert imported_packages("def f():\n    from index.build import build_index\n") == {"index"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down(package: str) -> None:
    modules = sorted((REPO / package).rglob("*.py"))
    assert modules, f"no modules under {package}/"
    wrong = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in modules
        for name in sorted(imported_packages(path.read_text(encoding="utf-8")) & FORBIDDEN[package])
    ]
    assert not wrong, "imports must point down (papersearch -> index -> search): " + "; ".join(wrong)


def test_the_entry_points_are_one_package_above_both() -> None:
    """Nothing runs the CLI from inside a library (``python -m search`` once did)."""
    assert not (REPO / "search" / "__main__.py").exists()
    assert not (REPO / "index" / "__main__.py").exists()
    assert {"index", "search"} <= imported_packages(
        "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "papersearch").glob("*.py"))
    )
