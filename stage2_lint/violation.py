"""The one record every check produces, whatever runs it (CLI, guard, flake8)."""
from __future__ import annotations

from typing import NamedTuple, Optional

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
        """The CLI's text line: ``path:line:col: CODE message``."""
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR
