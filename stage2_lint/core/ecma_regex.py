"""A schema's ``pattern`` as JSON Schema means it (ECMA-262), run safely on Python's ``re``.

Two differences would otherwise let a value through that the schema's author refused, or
hang the run:

- **Meaning.** In ECMA-262 ``$`` matches only at the very end, where Python's also matches
  before a final line feed (so ``^https?://h:1$`` passed ``"http://h:1\\n"``); ``\\d`` and
  ``\\w`` are ASCII; a named group is ``(?<name>...)`` and its backreference ``\\k<name>``.
  ``translate`` rewrites those into Python's spelling.
- **Time.** Python's ``re`` backtracks: a quantifier over a group that itself repeats or
  alternates (``(a+)+``, ``(a|ab)*``) takes exponential time on a long value, and several
  unbounded quantifiers in a row take polynomial time of high degree. ``risk`` names such a
  pattern, and the schema is refused when it is loaded; values longer than
  ``SUBJECT_LIMIT`` are not matched at all (the caller reports them), which bounds the rest.
"""
from __future__ import annotations

import re
from functools import lru_cache

try:  # the parser behind re (its module name changed in Python 3.11)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.9 and 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]

SUBJECT_LIMIT = 1000  # characters of one value a pattern is matched against
MAX_UNBOUNDED = 2  # unbounded quantifiers one path through a pattern may hold
_WIDE = 16  # a repeat allowing more than this many copies counts as unbounded


def translate(pattern: str) -> str:
    """``pattern`` (ECMA-262) in Python's ``re`` syntax."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            named = re.match(r"\\k<([A-Za-z_][A-Za-z0-9_]*)>", pattern[i:])
            if named and not in_class:
                out.append(f"(?P={named.group(1)})")
                i += len(named.group())
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                raise ValueError("an empty or negated-empty character class ([] or [^]) has no Python spelling")
        elif char == "$":
            char = r"\Z"
        elif pattern.startswith("(?<", i) and pattern[i + 3:i + 4] not in ("=", "!"):
            char, i = "(?P<", i + 2
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> "re.Pattern":
    """The compiled pattern; raises ``re.error`` (or ValueError) when it is not valid."""
    return re.compile(translate(pattern), re.ASCII)


def problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used (invalid, or too slow to run safely), or None."""
    try:
        parsed = _sre_parse.parse(translate(pattern), re.ASCII)
        compiled(pattern)
    except (re.error, ValueError, RecursionError, OverflowError) as error:
        return f"is not a valid regular expression ({error})"
    try:
        degree = _degree(parsed)
    except _Nested:
        return ("repeats a group that itself repeats or alternates, which takes exponential time on a long "
                "value; write it without the nesting (a character class, or one quantifier)")
    if degree > MAX_UNBOUNDED:
        return (f"holds {degree} unbounded quantifiers in a row, which takes polynomial time of that degree "
                f"on a long value; stage2-lint runs patterns with at most {MAX_UNBOUNDED}")
    return None


class _Nested(Exception):
    pass


_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _repeats(high) -> bool:
    return high is _sre_parse.MAXREPEAT or high > 1


def _degree(items) -> int:
    """How many unbounded quantifiers one path through ``items`` can hold (sequences add,
    alternatives take the largest); raises ``_Nested`` for an ambiguous repeat."""
    total = 0
    for op, value in items:
        name = str(op)
        if name in _REPEATS:
            _, high, body = value
            if _repeats(high) and _is_complex(body):
                raise _Nested()
            total += _degree(body) + (1 if high is _sre_parse.MAXREPEAT or high > _WIDE else 0)
        elif name == "SUBPATTERN":
            total += _degree(value[-1])
        elif name == "BRANCH":
            total += max(_degree(branch) for branch in value[1])
        elif name in ("ASSERT", "ASSERT_NOT"):
            total += _degree(value[1])
        elif name == "ATOMIC_GROUP":
            total += _degree(value)
    return total


def _is_complex(items) -> bool:
    """Does a repeated body hold what makes the repeat ambiguous: another repeat, or an
    alternative of more than one character?"""
    for op, value in items:
        name = str(op)
        if name in _REPEATS and (_repeats(value[1]) or _is_complex(value[2])):
            return True
        if name == "SUBPATTERN" and _is_complex(value[-1]):
            return True
        if name == "BRANCH" and any(len(branch) != 1 or _is_complex(branch) for branch in value[1]):
            return True
    return False
