"""The one glob matcher: contract globs decide both which files exist on a surface
(``expand``) and whether a file belongs to one (``matches``), so the two never disagree.

``**/`` spans directories, ``*`` and ``?`` stay inside one path component, ``[abc]`` and
``{yaml,yml}`` work as in a shell, and, as in a shell, no wildcard matches a name that starts
with a dot (``prod/.hidden.yaml`` is on no surface). Every glob setting (scope, canonical,
retired parents, per-file ignores, exclude) goes through this one matcher, relative to the
settings file's directory.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Iterator, Sequence

_WILD = re.compile(r"[*?\[{]")
_NAME = r"(?!\.)[^/]*"  # one path component that does not start with a dot
MAX_BRACE_DEPTH = 4


def problem(pattern: str):
    """Why the matcher cannot read ``pattern`` (None when it can): settings refuse such a
    glob when they are read, so no glob silently matches nothing."""
    try:
        _translate(pattern, 0, 0, None)
    except ValueError as error:
        return str(error)
    if not pattern or pattern.startswith("/"):
        return "globs are relative to the settings file's directory; do not start one with /"
    return None


@lru_cache(maxsize=None)
def pattern_regex(pattern: str) -> "re.Pattern":
    """``**/`` spans directories, ``*`` and ``?`` stay in one component, ``[abc]``/``[!abc]``
    match one character of a set, ``{a,b}`` one of the alternatives."""
    body, _ = _translate(pattern, 0, 0, None)
    return re.compile(body + r"\Z")


def _translate(pattern: str, i: int, depth: int, closer):
    """Regex text for ``pattern[i:]`` up to ``closer`` (``,`` or ``}`` inside braces), and
    where it stopped."""
    out = []
    while i < len(pattern):
        char = pattern[i]
        if closer and char in ",}":
            return "".join(out), i
        at_start = i == 0 or pattern[i - 1] == "/"
        if pattern.startswith("**/", i) and at_start:
            out.append(rf"(?:{_NAME}/)*")
            i += 3
        elif pattern.startswith("**", i) and at_start:
            out.append(rf"(?:{_NAME}(?:/{_NAME})*)?")
            i += 2
        elif char == "*":
            out.append(_NAME if at_start else "[^/]*")
            i += 1
        elif char == "?":
            out.append("(?!\\.)[^/]" if at_start else "[^/]")
            i += 1
        elif char == "[":
            text, i = _char_class(pattern, i)
            out.append(text)
        elif char == "{":
            text, i = _braces(pattern, i, depth)
            out.append(text)
        elif char in "]}":
            raise ValueError(f"unmatched {char!r} at character {i + 1} (write [{char}] for the character itself)")
        else:
            out.append(re.escape(char))
            i += 1
    if closer:
        raise ValueError("unclosed '{'")
    return "".join(out), i


def _char_class(pattern: str, i: int):
    end = pattern.find("]", i + 2)  # a ']' right after '[' or '[!' belongs to the set
    if pattern.startswith("[!", i):
        end = pattern.find("]", i + 3)
    if end < 0:
        raise ValueError(f"unclosed '[' at character {i + 1}")
    members = pattern[i + 1:end]
    negated = members.startswith("!")
    members = members[1:] if negated else members
    if "/" in members:
        raise ValueError("a character set cannot hold '/'")
    escaped = "".join("\\" + c if c in "\\^[]" else c for c in members)
    return (f"[^/{escaped}]" if negated else f"[{escaped}]"), end + 1


def _braces(pattern: str, i: int, depth: int):
    if depth >= MAX_BRACE_DEPTH:
        raise ValueError(f"braces nested deeper than {MAX_BRACE_DEPTH}")
    options, i = [], i + 1
    while True:
        text, i = _translate(pattern, i, depth + 1, "}")
        options.append(text)
        if pattern[i] == "}":
            break
        i += 1  # past the ','
    if len(options) < 2:
        raise ValueError("braces need at least two alternatives: {a,b}")
    return "(?:" + "|".join(options) + ")", i + 1


def matches(relative: str, patterns: Sequence[str]) -> bool:
    """Does the posix path ``relative`` match one of ``patterns``?"""
    return any(pattern_regex(pattern).match(relative) for pattern in patterns)


def expand(anchor: str, pattern: str) -> Iterator[str]:
    """Every file below ``anchor`` whose path relative to it matches ``pattern``: walks only
    the pattern's fixed leading directories, and no deeper than it can reach."""
    parts = pattern.split("/")
    fixed = 0
    while fixed < len(parts) - 1 and not _WILD.search(parts[fixed]):
        fixed += 1
    base = os.path.join(anchor, *parts[:fixed])
    depth = None if "**" in pattern or "{" in pattern else len(parts) - fixed - 1
    regex = pattern_regex(pattern)
    for directory, subdirs, names in os.walk(base):
        level = 0 if directory == base else os.path.relpath(directory, base).count(os.sep) + 1
        if depth is not None and level >= depth:
            subdirs[:] = []
        for name in names:
            path = os.path.join(directory, name)
            if regex.match(os.path.relpath(path, anchor).replace(os.sep, "/")):
                yield path
