"""flake8 plugin (codes S2P): the registry's Python-source rules, reported through flake8 so
that ``# noqa: S2P001`` and flake8's own selection work as flake8 users expect."""
from __future__ import annotations

import ast
from typing import Dict, Iterator, Tuple

from stage2_lint import __version__
from stage2_lint.rules import PYTHON_RULES


class PythonContext:
    """What a Python-source rule sees: the path, the tree, and each node's parent."""

    def __init__(self, path: str, tree: ast.AST):
        self.path, self.tree = path, tree
        self.parents: Dict[ast.AST, ast.AST] = {
            child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def check_source(path: str, tree: ast.AST):
    ctx = PythonContext(path, tree)
    for rule in PYTHON_RULES:
        yield from rule.check(ctx)


class Plugin:
    name = "stage2-lint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "<unknown>"):
        self.tree, self.filename = tree, filename

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        for violation in check_source(self.filename, self.tree):
            yield violation.line, violation.col - 1, f"{violation.code} {violation.message}", type(self)
