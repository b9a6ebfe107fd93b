"""The usual command line read without argparse.

Importing argparse (with the gettext and locale it pulls in) and building a command's parser
costs every commit's hook about 3 ms, more than the rest of the command line's work. The
command declares its arguments once, as it does to argparse; ``Declarations`` records them,
and ``parse`` reads an argument list with them when every token is of the plain kinds below.
For anything else (``-h``, an abbreviated or unknown option, ``-qj2``, ``--``, a bad value,
a second run of paths) it answers None and the caller asks argparse, which then says what it
always says. ``tests/test_argv.py`` holds the two to the same answer.

Plain kinds: a ``store_true`` flag, an option with one value (``--x V`` or ``--x=V``; a
``type`` and ``choices`` are applied), an ``extend`` option with a ``type``, and one
``nargs="*"`` positional whose values come in one run."""
from __future__ import annotations

from types import SimpleNamespace


class Declarations:
    """Stands where an ``argparse.ArgumentParser`` would, and keeps what is declared to it."""

    def __init__(self):
        self.arguments: list[tuple[tuple[str, ...], dict]] = []
        self.defaults: dict[str, object] = {}

    def add_argument(self, *flags: str, **options) -> None:
        self.arguments.append((flags, options))

    def set_defaults(self, **defaults) -> None:
        self.defaults.update(defaults)


class _Option:
    """One option as ``parse`` reads it: a flag (``store_true``) takes no value; an ``extend``
    option adds its converted value to a list; any other sets its value."""

    __slots__ = ("dest", "is_flag", "extends", "convert", "choices")

    def __init__(self, dest: str, action: str | None, convert, choices):
        self.dest, self.convert, self.choices = dest, convert, choices
        self.is_flag, self.extends = action == "store_true", action == "extend"


_ACTIONS = (None, "store_true", "extend")  # the argparse actions ``parse`` reads
_READ_KEYWORDS = {"default", "help", "metavar", "dest", "type", "choices", "action", "nargs"}


def _options(declared: Declarations):
    """(options by spelling, the positional's dest, every dest's default), or None when a
    declaration is of a kind ``parse`` does not read."""
    options, positional, defaults = {}, None, dict(declared.defaults)
    for flags, spec in declared.arguments:
        action = spec.get("action")
        if set(spec) - _READ_KEYWORDS or action not in _ACTIONS or (action == "extend" and "type" not in spec):
            return None
        if not flags[0].startswith("-"):
            if positional is not None or spec.get("nargs") != "*" or action is not None or "type" in spec:
                return None
            positional = spec.get("dest", flags[0])
            defaults[positional] = spec.get("default", [])
            continue
        if "nargs" in spec:
            return None
        longs = [flag for flag in flags if flag.startswith("--")]
        dest = spec.get("dest") or (longs[0] if longs else flags[0]).lstrip("-").replace("-", "_")
        default = spec.get("default", False if action == "store_true" else None)
        if isinstance(default, str) and "type" in spec:  # argparse converts a string default
            default = spec["type"](default)
        defaults[dest] = default
        option = _Option(dest, action, spec.get("type"), spec.get("choices"))
        options.update((flag, option) for flag in flags)
    return options, positional, defaults


def parse(declared: Declarations, argv: list[str]) -> SimpleNamespace | None:
    """What argparse would make of ``argv`` with these declarations, or None: argparse must
    read it (it may also refuse it)."""
    read = _options(declared)
    if read is None:
        return None
    options, positional, values = read
    paths, paths_ended = [], False  # argparse reads one run of positionals; a second is its to refuse
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "-" or not token.startswith("-"):
            if paths_ended or positional is None:
                return None
            paths.append(token)
            continue
        if token == "--":
            return None
        paths_ended = bool(paths)
        name, equals, value = token.partition("=") if token.startswith("--") else (token, "", "")
        option = options.get(name)
        if option is None:
            return None
        if option.is_flag:
            if equals:
                return None
            values[option.dest] = True
            continue
        if not equals:
            if index == len(argv):
                return None
            value, index = argv[index], index + 1
        if not value or (value.startswith("-") and value != "-"):
            return None
        try:
            converted = option.convert(value) if option.convert else value
        except Exception:  # argparse's to say what was wrong with the value
            return None
        if option.choices is not None and converted not in option.choices:
            return None
        if option.extends:  # onto a copy of the default, as argparse's extend action does
            values[option.dest] = [*(values[option.dest] or ()), *converted]
        else:
            values[option.dest] = converted
    if positional is not None:
        values[positional] = paths if paths else values[positional]
    return SimpleNamespace(**values)
