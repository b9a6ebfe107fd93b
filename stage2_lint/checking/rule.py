"""What a rule is, and what it sees of the file it checks."""
from __future__ import annotations

from enum import Enum
from functools import cached_property
from types import MappingProxyType
from collections.abc import Callable, Iterable, Mapping

from stage2_lint.contracts.contract_check import contract_findings
from stage2_lint.documents.document import Document
from stage2_lint.core.escape import dotted
from stage2_lint.tree.merge import Origin, Resolved
from stage2_lint.tree.resolver import Resolver
from stage2_lint.tree.layout import RETIRED, Place
from stage2_lint.tree import layout
from stage2_lint.contracts.settings import Contract, Settings
from stage2_lint.documents.keypath import nearest_mark, value_mark
from stage2_lint.core.records import ERROR, Finding, Kind, Problem, record, Violation


@record
class Example:
    """A file tree a rule must pass or fail. ``text`` is the file under test at ``path``;
    ``files`` are the other files around it (parents). ``marks`` are the ``line:col`` of
    the violations a failing example must produce, in order; ``fixed`` is the same file
    repaired (ruff's "use instead"), which must pass. Examples run under the example
    contract of ``rules/shared_examples.py``."""

    text: str
    path: str = "configs/recipes/example.yaml"
    files: Mapping[str, str] = MappingProxyType({})
    marks: tuple[str, ...] = ()
    fixed: str | None = None
    fixed_path: str | None = None  # where the fixed file lives, when the fix moves it
    fixed_files: Mapping[str, str] | None = None  # the other files, when the fix changes them

    def repaired(self) -> "Example":
        """The fixed form as an example of its own (it must pass)."""
        return Example(self.text if self.fixed is None else self.fixed, self.fixed_path or self.path,
                       self.files if self.fixed_files is None else self.fixed_files)


class Target(Enum):
    """What a rule checks."""

    PROFILE = "profile"  # YAML profiles: the CLI, the hook, the runtime guard
    SOURCE = "source"  # Python source: the flake8 plugin


@record
class Rule:
    """One contract rule: its identity and docs, its detection, and examples that are tests.

    A rule detects in ``check``, or reports the problems of kind ``reports`` that a detector
    below it found (the parser, the extends graph, the schema), or both."""

    code: str
    name: str
    summary: str
    rationale: str
    fix: str
    check: Callable[["FileContext"], Iterable[Violation]] | None = None
    passing: tuple[Example, ...] = ()
    failing: tuple[Example, ...] = ()
    severity: str = ERROR
    after_suppressions: bool = False  # runs once suppressions are applied (S2L070)
    target: Target = Target.PROFILE
    settings: tuple[str, ...] = ()  # the settings that say what it looks for (``stage2-lint explain`` shows them)
    reports: Kind | None = None  # the kind of problem this rule turns into its violations
    asks_surface: bool = False  # asks which canonical-surface files extend a file (parallel workers pool that)

    def run(self, ctx) -> Iterable[Violation]:
        """This rule's violations in one file: the reported problems first, then its own."""
        if self.reports is not None:
            yield from ctx.reported(self)
        if self.check is not None:
            yield from self.check(ctx)

    def violation(self, ctx: "FileContext", mark, message: str, key_path: str | None = None,
                  fix: str | None = None) -> Violation:
        line, col = mark
        return Violation(ctx.path, line, col, self.code, message, key_path=key_path,
                         severity=self.severity, fix=fix or self.fix)

    def reported(self, path: str, problem: Problem) -> Violation:
        """A detector's problem of the kind this rule reports, as this rule's violation."""
        return Violation(path, problem.line, problem.col, self.code, problem.message, key_path=problem.key_path,
                         severity=self.severity, fix=problem.fix or self.fix)


class FileContext:
    """One file under check, with lazy access to its chain and its place in the tree."""

    def __init__(self, path: str, resolver: Resolver):
        self.path = path
        self.resolver = resolver
        self.settings: Settings = resolver.settings
        self.unused_suppressions: list = []  # set by the engine before after-suppression rules

    @cached_property
    def document(self) -> Document:
        return self.resolver.documents.get(self.path)

    @cached_property
    def place(self) -> Place:
        """Where this file stands: its contract, role, required parent and config root."""
        return self.resolver.layout.of(self.path)

    @property
    def contract(self) -> Contract | None:
        """The contract whose scope holds this file (None: the generic rules only)."""
        return self.place.contract

    @property
    def moves(self):
        """The moved prefixes this file obeys (the repository's and its contract's)."""
        return self.settings.moves_for(self.contract)

    @property
    def removals(self):
        """The removed keys this file obeys: (old, what to use instead)."""
        return self.settings.removals_for(self.contract)

    @property
    def is_canonical(self) -> bool:
        return self.place.on_surface

    def is_retired(self, path: str) -> bool:
        """Is ``path`` (this file, or a parent it names) retired by this file's contract?"""
        if path == self.path:
            return self.place.role == RETIRED
        return self.contract is not None and layout.matches(self.settings, path, self.contract.retired_parents)

    @property
    def is_leaf(self) -> bool:
        """A profile on the canonical surface (a retired parent there is no leaf: S2L050)."""
        return self.place.is_leaf

    @cached_property
    def in_schema_scope(self) -> bool:
        return self.contract is not None and self.contract.schema is not None

    @cached_property
    def resolved(self) -> Resolved | None:
        return self.resolver.merge.resolve(self.path)

    @cached_property
    def resolvable(self) -> bool:
        return self.resolver.merge.resolvable(self.path)

    def origin(self, keys: tuple) -> Origin | None:
        """Which file of this file's chain sets ``keys`` in its resolved config (None: none,
        or the chain is broken), without merging the rest."""
        return self.resolver.merge.origin(self.path, keys)

    @cached_property
    def problems(self) -> list[Problem]:
        """What the detectors found wrong with this file, without codes yet: the parser, the
        extends graph, and what its contract says of its own keys."""
        if not self.document.usable:
            return list(self.document.problems)
        return (self.document.problems + self.resolver.extends.lineage_problems(self.path)
                + [self._located(finding) for finding in contract_findings(self.document.root, self.contract,
                                                                           self.settings)])

    def _located(self, finding: Finding) -> Problem:
        """A finding at its place in this file: a value of the wrong type where the value is
        written, a key where the key is (or its nearest ancestor, for a key not set here)."""
        root = self.document.root
        mark = value_mark if finding.kind is Kind.VALUE_TYPE else nearest_mark
        line, col = mark(root, finding.keys)
        return Problem(finding.kind, line, col, finding.message, dotted(finding.keys), finding.fix)

    @cached_property
    def _problems_by_kind(self) -> Mapping[Kind, list[Problem]]:
        grouped: dict = {}
        for problem in self.problems:
            grouped.setdefault(problem.kind, []).append(problem)
        return grouped

    def reported(self, rule: Rule) -> list[Violation]:
        """This file's problems of the kind ``rule`` reports, as ``rule``'s violations."""
        return [rule.reported(self.path, problem) for problem in self._problems_by_kind.get(rule.reports, ())]

    def canonical_children(self) -> list[str]:
        """Other canonical-surface files that name this file as a parent."""
        return self.resolver.extends.canonical_children(self.path)
