"""The runtime guard: the loader and the trainer refuse a profile the CLI would reject."""
from __future__ import annotations

from typing import Optional, Tuple

from stage2_lint.engine import lint_paths
from stage2_lint.settings import Settings, find_settings
from stage2_lint.violation import Violation


class ConfigContractError(ValueError):
    """A profile breaks the Stage-2 AB contract; the message lists every violation."""

    def __init__(self, path: str, violations: Tuple[Violation, ...]):
        self.path = path
        self.violations = violations
        lines = "\n".join(v.format() for v in violations)
        super().__init__(f"{path} breaks the Stage-2 AB config contract ({len(violations)} violation(s)):\n{lines}")


def enforce(path: str, settings: Optional[Settings] = None) -> Tuple[Violation, ...]:
    """Lint ``path`` with every rule; raise ConfigContractError on any error, else return warnings."""
    report = lint_paths([path], settings or find_settings())
    errors = tuple(v for v in report.violations if v.is_error)
    if errors:
        raise ConfigContractError(path, errors)
    return report.violations
