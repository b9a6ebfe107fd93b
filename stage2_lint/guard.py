"""The runtime guard: the loader and the trainer refuse a profile the CLI would reject."""
from __future__ import annotations

from typing import Optional, Tuple

from stage2_lint.engine import lint_paths
from stage2_lint.escape import printable
from stage2_lint.settings import Settings, settings_for
from stage2_lint.records import Violation


class ConfigContractError(ValueError):
    """A profile breaks the Stage-2 AB contract; the message lists every violation."""

    def __init__(self, path: str, violations: Tuple[Violation, ...]):
        self.path = path
        self.violations = violations
        lines = "\n".join(v.format() for v in violations)
        super().__init__(f"{printable(path)} breaks the Stage-2 AB config contract "
                         f"({len(violations)} violation(s)):\n{lines}")


def enforce(path: str, settings: Optional[Settings] = None, resolver=None) -> Tuple[Violation, ...]:
    """Lint ``path`` with every rule; raise ConfigContractError on any error, else return warnings.
    ``resolver`` (a stage2_lint.hierarchy.Resolver) lets a loader reuse the files parsed here."""
    settings = settings or (resolver.settings if resolver is not None else settings_for(path))
    report = lint_paths([path], settings, resolver=resolver)
    errors = tuple(v for v in report.violations if v.is_error)
    if errors:
        raise ConfigContractError(path, errors)
    return report.violations
