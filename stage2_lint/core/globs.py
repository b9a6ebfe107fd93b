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
from collections.abc import Iterator, Sequence

from stage2_lint.core import witness
from stage2_lint.core.records import UnreadableDirectory

_WILD = re.compile(r"[*?\[{]")
MAX_BRACE_DEPTH = 4
MAX_DFA_STATES = 4096  # cached states per pattern; past it, steps are computed (still linear)


def problem(pattern: str):
    """Why the matcher cannot read ``pattern`` (None when it can): settings refuse such a
    glob when they are read, so no glob silently matches nothing."""
    try:
        _items(pattern)
    except ValueError as error:
        return str(error)
    if not pattern or pattern.startswith("/"):
        return "globs are relative to the settings file's directory; do not start one with /"
    return None


# A glob is parsed into a sequence of items, then compiled into a small automaton that reads
# a name once, left to right (Thompson's construction, with its subsets cached as a DFA):
# time is linear in the name whatever the pattern, where a backtracking regex is exponential
# for some globs (``**/**/**/x``, ``*a*a*a*b``).
_LIT, _ANY, _SET, _STAR, _GUARD, _DIRS, _TAIL, _ALT = range(8)


@lru_cache(maxsize=None)
def _items(pattern: str) -> tuple:
    """The items of a whole pattern, parsed once: settings check each glob, then match with it."""
    return tuple(_parse(pattern, 0, 0, None)[0])


def _parse(pattern: str, i: int, depth: int, closer):
    """The items of ``pattern[i:]`` up to ``closer`` (inside braces), and where it stopped."""
    items = []
    while i < len(pattern):
        char = pattern[i]
        if closer and char in ",}":
            return items, i
        at_start = i == 0 or pattern[i - 1] == "/"
        guard = [(_GUARD,)] if at_start else []  # as in a shell, no wildcard matches a leading dot
        # ``**`` is special only as a whole path component, as in bash with globstar
        if pattern.startswith("**/", i) and at_start:
            items.append((_DIRS,))
            i += 3
        elif pattern.startswith("**", i) and at_start and _component_ends(pattern, i + 2, closer):
            items.append((_TAIL,))
            i += 2
        elif char == "*":
            items += guard + [(_STAR,)]
            i += 1
        elif char == "?":
            items += guard + [(_ANY,)]
            i += 1
        elif char == "[":
            item, i = _char_class(pattern, i)
            items += guard + [item]
        elif char == "{":
            item, i = _braces(pattern, i, depth)
            items.append(item)
        elif char in "]}":
            raise ValueError(f"unmatched {char!r} at character {i + 1} (write [{char}] for the character itself)")
        else:
            items.append((_LIT, char))
            i += 1
    if closer:
        raise ValueError("unclosed '{'")
    return items, i


def _component_ends(pattern: str, i: int, closer) -> bool:
    return i == len(pattern) or (bool(closer) and pattern[i] in ",}")


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
    return (_SET, frozenset(members), negated), end + 1


def _braces(pattern: str, i: int, depth: int):
    if depth >= MAX_BRACE_DEPTH:
        raise ValueError(f"braces nested deeper than {MAX_BRACE_DEPTH}")
    options, i = [], i + 1
    while True:
        items, i = _parse(pattern, i, depth + 1, "}")
        options.append(items)
        if pattern[i] == "}":
            break
        i += 1  # past the ','
    if len(options) < 2:
        raise ValueError("braces need at least two alternatives: {a,b}")
    return (_ALT, options), i + 1


# Automaton nodes: ("char", test, next), ("split", [next, ...]), ("guard", next), ("match",).
# A state is (node, guarded): guarded means the next character read must not be a dot.
class _Automaton:
    def __init__(self, items):
        self.nodes = [("match",)]
        self.start = self._sequence(items, 0)
        self._ids: dict = {}
        self._sets: list = []
        self._steps: dict = {}
        self.initial = self._state_id(self._closure([(self.start, False)]))

    def _add(self, node) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    def _sequence(self, items, after: int) -> int:
        """Compile ``items`` backwards, so each item knows the node that follows it."""
        for item in reversed(items):
            after = self._item(item, after)
        return after

    def _item(self, item, after: int) -> int:
        token = item[0]
        if token == _LIT:
            return self._add(("char", item[1], after))
        if token in (_ANY, _SET):
            return self._add(("char", item, after))
        if token == _GUARD:
            return self._add(("guard", after))
        if token == _STAR:
            return self._loop([(_ANY,)], after)
        if token == _DIRS:  # zero or more whole directories, none starting with a dot
            return self._loop([(_GUARD,), (_STAR,), (_LIT, "/")], after)
        if token == _TAIL:  # anything below, no component starting with a dot
            rest = self._loop([(_LIT, "/"), (_GUARD,), (_STAR,)], after)
            return self._add(("split", [self._sequence([(_GUARD,), (_STAR,)], rest), after]))
        return self._add(("split", [self._sequence(option, after) for option in item[1]]))

    def _loop(self, body, after: int) -> int:
        loop = self._add(None)
        self.nodes[loop] = ("split", [self._sequence(body, loop), after])
        return loop

    def _closure(self, states) -> frozenset:
        found, todo = set(), list(states)
        while todo:
            state = todo.pop()
            if state in found:
                continue
            found.add(state)
            node, guarded = self.nodes[state[0]], state[1]
            if node[0] == "split":
                todo.extend((out, guarded) for out in node[1])
            elif node[0] == "guard":
                todo.append((node[1], True))
        return frozenset(found)

    def _state_id(self, states: frozenset) -> int:
        """The number of a state set. Past the cache's bound, one overflow slot is reused:
        ``match`` reads a state before it asks for the next one, so memory stays bounded."""
        known = self._ids.get(states)
        if known is not None:
            return known
        if len(self._sets) < MAX_DFA_STATES:
            self._ids[states] = len(self._sets)
            self._sets.append(states)
            return len(self._sets) - 1
        if len(self._sets) == MAX_DFA_STATES:
            self._sets.append(states)
        self._sets[MAX_DFA_STATES] = states
        return MAX_DFA_STATES

    def _step(self, state: int, char: str) -> int:
        key = (state, char)
        known = self._steps.get(key)
        if known is not None:
            return known
        moved = [(node[2], False) for index, guarded in self._sets[state]
                 for node in (self.nodes[index],)
                 if node[0] == "char" and not (guarded and char == ".") and _accepts(node[1], char)]
        result = self._state_id(self._closure(moved))
        if result != MAX_DFA_STATES and state != MAX_DFA_STATES:
            self._steps[key] = result
        return result

    def match(self, name: str) -> bool:
        state = self.initial
        for char in name:
            state = self._step(state, char)
            if not self._sets[state]:
                return False
        return (0, False) in self._sets[state] or (0, True) in self._sets[state]


def _accepts(test, char: str) -> bool:
    if isinstance(test, str):
        return char == test
    if char == "/":
        return False
    if test[0] == _ANY:
        return True
    return (char in test[1]) != test[2]


class _Regex:
    """The fast path: the same items as a regular expression, run by ``re`` in C. Used only
    for patterns ``_is_tame`` accepts, where backtracking is bounded (at most one ``**`` and
    one ``*`` per component: every repository glob seen so far); the automaton runs the rest."""

    def __init__(self, items):
        self._regex = re.compile("".join(_regex_text(item) for item in items) + r"\Z")

    def match(self, name: str) -> bool:
        return self._regex.match(name) is not None


_ONE_NAME = r"(?!\.)[^/]*"  # a component that does not start with a dot


def _regex_text(item) -> str:
    token = item[0]
    if token == _LIT:
        return re.escape(item[1])
    if token == _ANY:
        return "[^/]"
    if token == _SET:
        members = "".join("\\" + char if char in "\\^[]-" else char for char in sorted(item[1]))
        return f"[^/{members}]" if item[2] else f"[{members}]"
    if token == _STAR:
        return "[^/]*"
    if token == _GUARD:
        return r"(?!\.)"
    if token == _DIRS:
        return rf"(?:{_ONE_NAME}/)*"
    if token == _TAIL:
        return rf"(?:{_ONE_NAME}(?:/{_ONE_NAME})*)?"
    return "(?:" + "|".join("".join(_regex_text(part) for part in option) for option in item[1]) + ")"


def _is_tame(items) -> bool:
    """At most one ``**`` in all, at most one ``*`` in each component, and braces holding no
    wildcard: a backtracking regex then takes time at most quadratic in the name."""
    spans = sum(1 for item in items if item[0] in (_DIRS, _TAIL))
    stars = 0
    for item in items:
        if item[0] == _LIT and item[1] == "/":
            stars = 0
        elif item[0] == _STAR:
            stars += 1
        elif item[0] == _ALT and not all(part[0] in (_LIT, _ANY, _SET) for option in item[1] for part in option):
            return False
        if stars > 1:
            return False
    return spans <= 1


class _Literal:
    """A pattern without a wildcard (a required parent, a retired file): one name, compared
    as a string. Every run meets several, and compiling each as a regex cost 30 us."""

    def __init__(self, items):
        self._name = "".join(item[1] for item in items)

    def match(self, name: str) -> bool:
        return name == self._name


@lru_cache(maxsize=None)
def compiled(pattern: str):
    """``**/`` spans directories, ``*`` and ``?`` stay in one component, ``[abc]``/``[!abc]``
    match one character of a set, ``{a,b}`` one of the alternatives. A pattern of literal
    characters is compared as a string, a tame pattern runs as a regex, any other as the
    automaton: all read the same items, and tests hold them equal."""
    items = _items(pattern)
    if all(item[0] == _LIT for item in items):
        return _Literal(items)
    return _Regex(items) if _is_tame(items) else _Automaton(items)


def matches(relative: str, patterns: Sequence[str]) -> bool:
    """Does the posix path ``relative`` match one of ``patterns``?"""
    return any(compiled(pattern).match(relative) for pattern in patterns)


def _unreadable(error: OSError) -> None:
    """os.walk skips a directory it cannot list; a surface with a hole is not a surface."""
    if not isinstance(error, FileNotFoundError):  # a base that does not exist is simply empty
        raise UnreadableDirectory(f"cannot read directory {error.filename}: {error.strerror}; "
                                  f"nothing below it was checked")


def expand(anchor: str, pattern: str) -> Iterator[str]:
    """Every file below ``anchor`` whose path relative to it matches ``pattern``: walks only
    the pattern's fixed leading directories, and no deeper than it can reach."""
    return expand_all(anchor, (pattern,))


def expand_all(anchor: str, patterns: Sequence[str]) -> Iterator[str]:
    """Every file below ``anchor`` that matches one of ``patterns``, each once; patterns
    with the same fixed leading directories share one walk."""
    walks: dict = {}
    for pattern in patterns:
        parts = pattern.split("/")
        fixed = 0
        while fixed < len(parts) - 1 and not _WILD.search(parts[fixed]):
            fixed += 1
        depth = None if "**" in pattern or "{" in pattern else len(parts) - fixed - 1
        base = os.path.join(anchor, *parts[:fixed])
        walk = walks.setdefault(base, [0, []])
        walk[0] = None if depth is None or walk[0] is None else max(walk[0], depth)
        walk[1].append(compiled(pattern))
    for base, (depth, automata) in walks.items():
        yield from _walk(anchor, base, depth, automata)


def _walk(anchor: str, base: str, depth: int | None, automata) -> Iterator[str]:
    # os.walk builds every directory path by joining onto ``base``; when both are normalized
    # and ``base`` is below ``anchor``, a path relative to the anchor is a slice of it (relpath
    # would normalize both sides again for every file)
    sliced = os.path.normpath(anchor) == anchor and os.path.normpath(base) == base and \
        (base == anchor or base.startswith(anchor.rstrip(os.sep) + os.sep))
    start = len(anchor.rstrip(os.sep)) + 1
    witness.saw(base)  # a base that does not exist yet matters too
    for directory, subdirs, names in os.walk(base, onerror=_unreadable):
        witness.saw(directory)
        if depth is not None:
            level = 0 if directory == base else directory[len(base):].strip(os.sep).count(os.sep) + 1
            if level >= depth:
                subdirs[:] = []
        if sliced:
            below = directory[start:] if directory != anchor else ""
            prefix = below.replace(os.sep, "/") + "/" if below else ""
        for name in names:
            if sliced:
                relative = prefix + name
            else:
                relative = os.path.relpath(os.path.join(directory, name), anchor).replace(os.sep, "/")
            if any(automaton.match(relative) for automaton in automata):
                yield os.path.join(directory, name)
