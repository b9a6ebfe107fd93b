"""The bottom layer's records: what a check finds (Problem, Violation), what a run reports
(Report) and what one file may cost (Limits). Every other module may use them; they use
nothing of stage2-lint but ``escape``."""
from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple, Optional, Tuple

from stage2_lint.core.escape import MESSAGE_LIMIT, clip, printable

ERROR = "error"
WARNING = "warning"


class Violation(NamedTuple):
    """Frozen and cheap: a NamedTuple, because the pre-commit hook pays every import."""

    path: str
    line: int
    col: int
    code: str
    message: str
    key_path: Optional[str] = None
    severity: str = ERROR
    fix: Optional[str] = None

    def sort_key(self):
        return (self.path, self.line, self.col, self.code, self.message)

    def format(self) -> str:
        """The CLI's text line: ``path:line:col: CODE message``, one line whatever the
        path and message hold (see ``printable``)."""
        return f"{printable(self.path)}:{self.line}:{self.col}: {self.code} {self.printable_message}"

    @property
    def printable_message(self) -> str:
        return printable(clip(self.message, MESSAGE_LIMIT))

    def printable(self) -> "Violation":
        """This violation with every text field escaped and bounded, for the report formats."""
        return self._replace(path=printable(self.path), message=self.printable_message,
                             key_path=None if self.key_path is None else printable(clip(self.key_path, MESSAGE_LIMIT)),
                             fix=None if self.fix is None else printable(clip(self.fix, MESSAGE_LIMIT)))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


class SchemaError(ValueError):
    """A schema file that cannot be read or is not a JSON Schema object (exit code 2)."""


class UnreadableDirectory(ValueError):
    """A directory a walk had to enter could not be read: nothing below it was checked, so
    the run must not report "no violations" (exit 2)."""


class Kind(Enum):
    """What a detector below the rules found (the parser, the extends graph, the schema).
    Each kind is reported by exactly one rule, whose ``Rule.reports`` names it and whose name
    is its value; the registry refuses to import when a kind has no rule or two."""

    YAML_SYNTAX = "yaml-syntax"
    DUPLICATE_KEY = "duplicate-key"
    ROOT_NOT_MAPPING = "root-not-mapping"
    UNSAFE_YAML = "unsafe-yaml"
    EXTENDS_MALFORMED = "extends-malformed"
    EXTENDS_UNRESOLVABLE = "extends-unresolvable"
    REMOVED_KEY = "removed-key"
    VALUE_TYPE = "value-type"
    UNKNOWN_KEY = "unknown-key"


class Problem(NamedTuple):
    """What a detector found wrong, without a rule code: the rule that reports its kind gives
    the code, severity and fix."""

    kind: Kind
    line: int
    col: int
    message: str
    key_path: Optional[str] = None
    fix: Optional[str] = None  # this problem's own fix (the reporting rule's fix otherwise)


class Finding(NamedTuple):
    """What a contract says of a key path in a tree of keys, before it is located in a file."""

    kind: Kind  # REMOVED_KEY, UNKNOWN_KEY or VALUE_TYPE
    keys: Tuple[str, ...]
    message: str
    fix: Optional[str] = None  # this finding's own fix, where the rule's general one says less


class Limits(NamedTuple):
    """How one file is read: what it may cost (configs are a few KB and a few levels deep),
    and the top-level keys the repository spells two ways."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_nodes: int = 50_000  # nodes built, counting every alias expansion
    key_aliases: Tuple[Tuple[str, str], ...] = ()  # (alias, key): a top-level ``alias`` is read as ``key``


class Report(NamedTuple):
    violations: Tuple[Violation, ...]
    files: Tuple[str, ...]
    skipped: Tuple[str, ...] = ()  # what a directory walk did not enter, and why
    empty: Tuple[str, ...] = ()  # a named directory or a canonical surface that held no profile
    ungoverned: Tuple[str, ...] = ()  # files no contract governs: the generic rules only
    cached: int = 0  # files whose verdict came from the result cache

    @property
    def errors(self) -> int:
        return sum(1 for v in self.violations if v.is_error)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors or self.empty else 0


class Run(NamedTuple):
    """One lint run: its report and the facts it computed that a report format may show, so
    that every format is a function of this object and none reads a file again."""

    report: Report
    settings: Any = None  # what governed the run (a ``contracts.settings.Settings``)
    graph: Any = None  # the extends graph of the files checked (a ``tree.graph.Graph``), when asked for


class UsageError(ValueError):
    """Bad paths or options: exit code 2."""


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, e.g. by the OOM killer): exit 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM during a parallel run: unwinds like Ctrl-C, so every worker is stopped."""
