"""The layering docs/architecture.md describes, checked: no module imports a higher layer,
no `_private` name is imported from another module, and stage2_lint never imports src."""
import ast
from pathlib import Path

import pytest

from conftest import REPO

LAYERS = {
    0: {"records", "escape", "paths", "reading", "ecma_regex", "source_import", "keypath", "globs", "safe_write", "textedit", "schema_export", "rules.shared_examples",
        ""},  # "": the package itself (its version)
    1: {"document", "settings", "layout", "schema", "contract_check", "suppressions"},
    2: {"hierarchy"},
    3: {"rule", "fix"},
    5: {"rules"},
    6: {"cache", "engine", "graph", "audit", "flatten"},
    7: {"guard", "output", "flake8_plugin"},
    8: {"commands"},
    9: {"cli", "__main__"},
}


def _layer(module: str) -> int:
    for layer, names in LAYERS.items():
        if module in names:
            return layer
    if module.startswith("rules.s2"):
        return 4
    raise AssertionError(f"stage2_lint.{module} has no layer in docs/architecture.md")


def _name(path: Path) -> str:
    parts = path.relative_to(REPO / "stage2_lint").with_suffix("").parts
    return ".".join(part for part in parts if part != "__init__")


def _imports(path: Path):
    """(module, imported names, line) for every import of stage2_lint or src in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno


SOURCES = sorted((REPO / "stage2_lint").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[_name(p) or "__init__" for p in SOURCES])
def test_no_module_imports_a_higher_layer(path):
    own = _layer(_name(path))
    for module, names, line in _imports(path):
        assert not module.startswith("src"), f"{path.name}:{line} imports the training code"
        if not module.startswith("stage2_lint"):
            continue
        targets = [module[len("stage2_lint."):]] if module != "stage2_lint" else \
            [name if (REPO / "stage2_lint" / f"{name}.py").exists() else "" for name in names]
        for target in targets:
            assert _layer(target) <= own, f"{_name(path)} (layer {own}) imports {target} (layer {_layer(target)})"


PYTHON = SOURCES + sorted((REPO / "src").rglob("*.py"))


@pytest.mark.parametrize("path", PYTHON, ids=[str(p.relative_to(REPO)) for p in PYTHON])
def test_no_private_name_is_imported_across_modules(path):
    for module, names, line in _imports(path):
        if module.startswith(("stage2_lint", "src")):
            private = [name for name in names if name.startswith("_") and name != "__version__"]
            assert not private, f"{path.relative_to(REPO)}:{line} imports {private} from {module}"
            assert not any(part.startswith("_") and part != "__main__" for part in module.split(".")), \
                f"{path.relative_to(REPO)}:{line} imports the private module {module}"


def test_the_document_names_every_module():
    text = (REPO / "docs" / "architecture.md").read_text()
    for path in SOURCES:
        name = _name(path)
        if name and not name.startswith("rules.s2"):  # the rule modules are named by pattern
            written = "rules/__init__" if name == "rules" else name.replace(".", "/")
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
