"""The layering docs/architecture.md describes, checked: no module imports a higher layer,
no `_private` name is imported from another module, and stage2_lint never imports src."""
import ast
from pathlib import Path

import pytest

from conftest import REPO

# The folders of the package, lowest first: a module imports only from its own folder or a
# lower one. The package root (the front ends: cli, commands, guard, flake8_plugin) is the top.
FOLDERS = ("core", "documents", "contracts", "tree", "checking", "reporting", "editing", "")


def _name(path: Path) -> str:
    parts = path.relative_to(REPO / "stage2_lint").with_suffix("").parts
    return ".".join(part for part in parts if part != "__init__")


def _folder(module: str) -> str:
    first = module.split(".")[0]
    return first if first in FOLDERS[:-1] else ""


def _rank(module: str) -> int:
    return FOLDERS.index(_folder(module))


def _imports(path: Path):
    """(module, imported names, line) for every import of stage2_lint or src in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno


def _targets(module: str, names):
    """The stage2_lint modules an import statement reaches (a folder's modules by name)."""
    if module == "stage2_lint":
        return [name if (REPO / "stage2_lint" / f"{name}.py").exists() else "" for name in names]
    inner = module[len("stage2_lint."):]
    if (REPO / "stage2_lint" / inner.replace(".", "/")).is_dir() and inner in FOLDERS:
        return [f"{inner}.{name}" for name in names]
    return [inner]


SOURCES = sorted((REPO / "stage2_lint").rglob("*.py"))


def test_every_module_lives_in_a_folder_of_the_layering():
    top = {path.name for path in (REPO / "stage2_lint").iterdir() if path.suffix == ".py"}
    assert top == {"__init__.py", "__main__.py", "cli.py", "commands.py", "guard.py", "flake8_plugin.py"}
    folders = {path.name for path in (REPO / "stage2_lint").iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == set(FOLDERS[:-1])


@pytest.mark.parametrize("path", SOURCES, ids=[_name(p) or "__init__" for p in SOURCES])
def test_no_module_imports_a_higher_folder(path):
    own = _rank(_name(path))
    for module, names, line in _imports(path):
        assert not module.startswith("src"), f"{path.name}:{line} imports the training code"
        if not module.startswith("stage2_lint"):
            continue
        for target in _targets(module, names):
            if target == "":
                continue  # the package itself: its version
            assert _rank(target) <= own, \
                f"{_name(path)} ({FOLDERS[own] or 'root'}) imports {target} ({FOLDERS[_rank(target)] or 'root'})"


def test_no_import_cycle_between_modules():
    """Module-level imports form no cycle (an import inside a function, for start-up, is free)."""
    graph = {}
    for path in SOURCES:
        name = _name(path)
        tree = ast.parse(path.read_text())
        graph[name] = {target for node in tree.body if isinstance(node, ast.ImportFrom) and node.module
                       and node.module.startswith("stage2_lint") for target in
                       _targets(node.module, [alias.name for alias in node.names]) if target and target != name}
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", " -> ".join(trail + [node])
        state[node] = "open"
        for nxt in graph.get(node, ()):
            visit(nxt, trail + [node])
        state[node] = "done"

    for node in graph:
        visit(node, [])


PYTHON = SOURCES + sorted((REPO / "src").rglob("*.py"))


@pytest.mark.parametrize("path", PYTHON, ids=[str(p.relative_to(REPO)) for p in PYTHON])
def test_no_private_name_is_imported_across_modules(path):
    for module, names, line in _imports(path):
        if module.startswith(("stage2_lint", "src")):
            private = [name for name in names if name.startswith("_") and name != "__version__"]
            assert not private, f"{path.relative_to(REPO)}:{line} imports {private} from {module}"
            assert not any(part.startswith("_") and part != "__main__" for part in module.split(".")), \
                f"{path.relative_to(REPO)}:{line} imports the private module {module}"


def test_the_document_names_every_folder_and_module():
    text = (REPO / "docs" / "architecture.md").read_text()
    for folder in FOLDERS[:-1]:
        assert f"`{folder}/`" in text, folder
    for path in SOURCES:
        name = _name(path)
        if name and name not in FOLDERS and not name.startswith("checking.rules.s2"):  # rules: by pattern
            written = "checking/rules/__init__" if name == "checking.rules" else name.replace(".", "/")
            assert f"`{written}`" in text, name


def test_the_package_names_no_contract_of_its_own():
    """Every word of this repository's contract (Stage-2, rollout) comes from its settings:
    the package's own text names none, apart from the tool's own name."""
    import re

    contract_words = re.compile(r"stage2|stage-2|rollout", re.IGNORECASE)
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
             for path in sorted((REPO / "stage2_lint").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if contract_words.search(re.sub(r"stage2[_-]lint", "", line, flags=re.IGNORECASE))]
    assert found == []
