"""flake8 plugin (codes S2P): the registry's Python-source rules, reported through flake8 so
that ``# noqa: S2P001`` and flake8's own selection work as flake8 users expect."""
from __future__ import annotations

import ast
import os
from functools import lru_cache
from typing import Dict, Iterator, Optional, Tuple

from stage2_lint import __version__, paths
from stage2_lint.rules import PYTHON_RULES


class PythonContext:
    """What a Python-source rule sees: the path, the tree, each node's parent, and the moved
    key prefixes of the contracts in the settings that govern the file."""

    def __init__(self, path: str, tree: ast.AST, moves: Tuple = ()):
        self.path, self.tree, self.moves = path, tree, moves
        self.parents: Dict[ast.AST, ast.AST] = {
            child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


@lru_cache(maxsize=256)
def moves_near(directory: str) -> Tuple:
    """Every moved prefix, the repository's and every contract's, in the settings found
    from ``directory``."""
    from stage2_lint.settings import find_settings

    settings = find_settings(directory)
    moves = settings.moves_for(None) + tuple(move for contract in settings.contracts for move in contract.moves)
    return tuple(dict.fromkeys(moves))


def check_source(path: str, tree: ast.AST, moves: Optional[Tuple] = None):
    if moves is None:
        moves = moves_near(os.path.dirname(paths.canonical(path)))
    ctx = PythonContext(path, tree, moves)
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
