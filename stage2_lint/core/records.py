"""The bottom layer's records: what a check finds (Problem, Violation), what a run reports
(Report) and what one file may cost (Limits), and ``record``, which makes every record of the
package. Every other module may use them; they use nothing of stage2-lint but ``escape``."""
from __future__ import annotations

from collections import namedtuple
from enum import Enum

from stage2_lint.core.escape import MESSAGE_LIMIT, clip, printable

# What an annotated class body holds that is not one of its own names.
_CLASS_BOOKKEEPING = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "__annotations__"})


def record(cls: type) -> type:
    """The annotated class ``cls`` as a frozen, ordered value: a ``collections.namedtuple``
    with its fields (in order; a default makes a field optional) and its methods.

    It is what ``typing.NamedTuple`` does, without importing ``typing``: the pre-commit hook
    pays every import and every class built at start-up, and this costs 3 ms less a run and
    half as much a class. The annotations stay as they are written (postponed: never
    evaluated), so a record may say ``str | None`` on Python 3.9."""
    body = vars(cls)
    fields = tuple(body.get("__annotations__", {}))
    defaults = [body[name] for name in fields if name in body]
    if any(name not in body for name in fields[len(fields) - len(defaults):]):
        raise TypeError(f"{cls.__qualname__}: a field without a default follows one with a default")
    made = namedtuple(cls.__name__, fields, defaults=defaults, module=cls.__module__)
    for name, value in body.items():
        if name not in fields and name not in _CLASS_BOOKKEEPING:
            setattr(made, name, value)
    made.__qualname__ = cls.__qualname__
    made.__annotations__ = body.get("__annotations__", {})
    return made


ERROR = "error"
WARNING = "warning"


@record
class Violation:
    """One rule's finding, located in one file."""

    path: str
    line: int
    col: int
    code: str
    message: str
    key_path: str | None = None
    severity: str = ERROR
    fix: str | None = None

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


class SettingsError(ValueError):
    """A configuration file that cannot be used (exit code 2)."""


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


@record
class Problem:
    """What a detector found wrong, without a rule code: the rule that reports its kind gives
    the code, severity and fix."""

    kind: Kind
    line: int
    col: int
    message: str
    key_path: str | None = None
    fix: str | None = None  # this problem's own fix (the reporting rule's fix otherwise)


@record
class Finding:
    """What a contract says of a key path in a tree of keys, before it is located in a file."""

    kind: Kind  # REMOVED_KEY, UNKNOWN_KEY or VALUE_TYPE
    keys: tuple[str, ...]
    message: str
    fix: str | None = None  # this finding's own fix, where the rule's general one says less


@record
class Limits:
    """How one file is read: what it may cost (configs are a few KB and a few levels deep),
    and the top-level keys the repository spells two ways."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_nodes: int = 50_000  # nodes built, counting every alias expansion
    key_aliases: tuple[tuple[str, str], ...] = ()  # (alias, key): a top-level ``alias`` is read as ``key``


@record
class Report:
    violations: tuple[Violation, ...]
    files: tuple[str, ...]
    skipped: tuple[str, ...] = ()  # what a directory walk did not enter, and why
    empty: tuple[str, ...] = ()  # a named directory or a canonical surface that held no profile
    ungoverned: tuple[str, ...] = ()  # files no contract governs: the generic rules only
    cached: int = 0  # files whose verdict came from the result cache

    @property
    def errors(self) -> int:
        return sum(1 for v in self.violations if v.is_error)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors or self.empty else 0


@record
class Run:
    """One lint run: its report and the facts it computed that a report format may show, so
    that every format is a function of this object and none reads a file again."""

    report: Report
    settings: object = None  # what governed the run (a ``contracts.settings.Settings``)
    graph: object = None  # the extends graph of the files checked (a ``tree.graph.Graph``), when asked for


class UsageError(ValueError):
    """Bad paths or options: exit code 2."""


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, e.g. by the OOM killer): exit 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM during a parallel run: unwinds like Ctrl-C, so every worker is stopped."""
