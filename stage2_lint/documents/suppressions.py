"""Inline suppressions: ``# stage2-lint: disable=CODE[,CODE] [-- reason]`` at the end of a
line silences those codes on that line; ``disable-file=`` anywhere silences them file-wide."""
from __future__ import annotations

import re
from collections.abc import Iterable

from stage2_lint.core.lazy import LazyPattern
from stage2_lint.core.records import record, Violation

MARKER = "stage2-lint:"
_PATTERN = LazyPattern(r"#\s*stage2-lint:\s*(disable-file|disable)\s*=\s*([A-Za-z0-9_,\s]*?)\s*(?:--\s*(.*?))?\s*$")


@record
class Suppression:
    line: int
    col: int
    whole_file: bool
    codes: tuple[str, ...]
    reason: str = ""

    def covers(self, violation: Violation) -> bool:
        if not self.whole_file and violation.line != self.line:
            return False
        return any(violation.code.startswith(code) for code in self.codes)


def parse(text: str) -> list[Suppression]:
    """Suppressions written in YAML comments. Text that only looks like one, inside a quoted or
    block scalar, is a value and silences nothing."""
    if MARKER not in text:  # the common case costs one substring search
        return []
    found, spans, offset = [], None, 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        start, offset = offset, offset + len(line)
        if MARKER not in line:
            continue
        match = _PATTERN.search(line.rstrip("\r\n"))
        if match:
            spans = _scalar_spans(text) if spans is None else spans
            if spans is False or _inside(start + match.start(), spans):
                continue
            codes = tuple(code for code in re.split(r"[\s,]+", match.group(2).upper()) if code)
            found.append(Suppression(number, match.start() + 1, match.group(1) == "disable-file",
                                     codes, match.group(3) or ""))
    return found


def _scalar_spans(text: str):
    """(start, end) offsets of every scalar in ``text``, from PyYAML's scanner (the C one when
    libyaml is there); False when the text does not scan (then no comment can be trusted)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [(token.start_mark.index, token.end_mark.index) for token in yaml.scan(text, Loader=loader)
                if isinstance(token, yaml.ScalarToken)]
    except yaml.YAMLError:
        return False


def _inside(index: int, spans) -> bool:
    return any(start <= index < end for start, end in spans)


def apply(violations: Iterable[Violation], suppressions: list[Suppression]) -> tuple[list[Violation], set]:
    """The violations no suppression covers, and the suppressions that covered something."""
    kept, used = [], set()
    for violation in violations:
        covering = [s for s in suppressions if s.covers(violation)]
        if covering:
            used.update(covering)
        else:
            kept.append(violation)
    return kept, used


def unused(written: list[Suppression], used: set, selected: tuple[str, ...]) -> list[Suppression]:
    """Suppressions that silenced nothing, among those whose every code was checked this run
    (with --select S2L002, a suppression of S2L031 cannot be judged)."""
    return [s for s in written if s not in used
            and all(any(code.startswith(prefix) for code in selected) for prefix in s.codes)]
