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


# The stages inside the two libraries, each importing only from those listed (itself and
# what lies below it): the pipeline's picture in the README, kept true.
STAGES: dict[str, set[str]] = {
    "search.core": {"search.core"},
    "search.legs": {"search.core", "search.legs"},
    "search.pipeline": {"search.core", "search.legs", "search.pipeline"},
    "search.stores": {"search.core", "search.legs", "search.pipeline", "search.stores"},
    "index.storage": {"search.core"},
    "index.parse": {"search.core", "index.storage", "index.parse"},
    "index.artifacts": {"search.core", "search.legs", "index.storage", "index.parse", "index.artifacts"},
}


def _stage(module: str) -> str:
    """``search.legs.bm25`` → ``search.legs``; a top-level module is its own stage."""
    parts = module.split(".")
    if len(parts) == 1:
        return module
    if len(parts) > 2 or (REPO / parts[0] / parts[1]).is_dir():
        return ".".join(parts[:2])
    return module


def test_stage_names() -> None:
    assert _stage("search.legs.bm25") == "search.legs" and _stage("search.core") == "search.core"
    assert _stage("search.engine") == "search.engine" and _stage("index.storage") == "index.storage"
    assert _first_party_imports("from search.serve.snippets import x\nimport index.parse.digest\nimport os") == {
        "search.serve.snippets", "index.parse.digest"
    }


def _first_party_imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {n for n in names if n.split(".")[0] in ("search", "index")}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_stage_imports_only_the_stages_below_it(stage: str) -> None:
    folder = REPO.joinpath(*stage.split("."))
    modules = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
    assert modules and all(m.exists() for m in modules), stage
    wrong = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in modules
        for name in sorted(_first_party_imports(path.read_text(encoding="utf-8")))
        if _stage(name) not in STAGES[stage]
    ]
    assert not wrong, f"{stage} may import only {sorted(STAGES[stage])}: " + "; ".join(wrong)
