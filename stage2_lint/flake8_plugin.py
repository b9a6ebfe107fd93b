"""flake8 plugin (codes S2P): the registry's Python-source rules, reported through flake8 so
that ``# noqa: S2P001`` and flake8's own selection work as flake8 users expect."""
from __future__ import annotations

import ast
import os
from functools import lru_cache
from collections.abc import Iterator

from stage2_lint.core.records import record
from stage2_lint import __version__
from stage2_lint.core import paths
from stage2_lint.checking.rules import PYTHON_RULES


@record
class SourceContract:
    """What the Python-source rules look for, taken from the settings that govern a file:
    every contract's and the repository's, since code reads profiles of any family."""

    moves: tuple = ()  # settings.Move: key prefixes that moved (S2P001)
    not_sized_from: tuple[tuple[str, str], ...] = ()  # (knob, other key): S2P002


class PythonContext:
    """What a Python-source rule sees: the path, the tree, each node's parent, and what the
    contracts that govern the file say (``SourceContract``)."""

    def __init__(self, path: str, tree: ast.AST, contract: SourceContract = SourceContract()):
        self.path, self.tree, self.contract = path, tree, contract
        self.moves = contract.moves
        self.parents: dict[ast.AST, ast.AST] = {
            child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


@lru_cache(maxsize=256)
def source_contract_near(directory: str) -> SourceContract:
    """The ``SourceContract`` of the settings found from ``directory``."""
    from stage2_lint.contracts.settings import find_settings

    settings = find_settings(directory)
    moves = settings.moves_for(None) + tuple(move for contract in settings.contracts for move in contract.moves)
    sized = tuple(pair for contract in settings.contracts for pair in contract.not_sized_from)
    return SourceContract(tuple(dict.fromkeys(moves)), tuple(dict.fromkeys(sized)))


def check_source(path: str, tree: ast.AST, contract: SourceContract | None = None):
    if contract is None:
        contract = source_contract_near(os.path.dirname(paths.canonical(path)))
    ctx = PythonContext(path, tree, contract)
    for rule in PYTHON_RULES:
        yield from rule.run(ctx)


class Plugin:
    name = "stage2-lint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "<unknown>"):
        self.tree, self.filename = tree, filename

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for violation in check_source(self.filename, self.tree):
            yield violation.line, violation.col - 1, f"{violation.code} {violation.message}", type(self)
