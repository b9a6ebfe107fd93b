"""The one record every check produces, whatever runs it (CLI, guard, flake8)."""
from __future__ import annotations

from typing import NamedTuple, Optional

from stage2_lint.escape import MESSAGE_LIMIT, clip, printable

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
