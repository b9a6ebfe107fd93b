"""The one glob matcher: contract globs decide both which files exist on a surface
(``expand``) and whether a file belongs to one (``matches``), so the two never disagree.

``**/`` spans directories, ``*`` and ``?`` stay inside one path component, and, as in a
shell, no wildcard matches a name that starts with a dot (``prod/.hidden.yaml`` is on no
surface).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Iterator, Sequence

_WILD = re.compile(r"[*?]")
_NAME = r"(?!\.)[^/]*"  # one path component that does not start with a dot


@lru_cache(maxsize=None)
def pattern_regex(pattern: str) -> "re.Pattern":
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append(rf"(?:{_NAME}/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(rf"(?:{_NAME}(?:/{_NAME})*)?")
            i += 2
        elif pattern[i] == "*":
            out.append(_NAME if i == 0 or pattern[i - 1] == "/" else "[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("(?!\\.)[^/]" if i == 0 or pattern[i - 1] == "/" else "[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


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
    depth = None if "**" in pattern else len(parts) - fixed - 1
    regex = pattern_regex(pattern)
    for directory, subdirs, names in os.walk(base):
        level = 0 if directory == base else os.path.relpath(directory, base).count(os.sep) + 1
        if depth is not None and level >= depth:
            subdirs[:] = []
        for name in names:
            path = os.path.join(directory, name)
            if regex.match(os.path.relpath(path, anchor).replace(os.sep, "/")):
                yield path
