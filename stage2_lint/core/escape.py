"""Text from strangers, made safe to print.

Key names, values and file names come from files stage2-lint did not write. Before any of
them reaches a terminal, a CI log or a report they pass through here:

- ``printable`` escapes every character that could forge a line or drive a terminal: C0
  controls (CR, LF, ESC, ...), DEL, C1 controls, Unicode line/paragraph separators,
  bidirectional overrides, and lone surrogates (how Python carries a file name's undecodable
  bytes; they come out as ``\\xNN``, the byte itself);
- ``clip`` bounds how much of one key or value a message quotes, so a report grows at most
  linearly with the file it describes;
- ``shown`` and ``dotted`` combine the two for a quoted value and a key path.

The output formats call ``printable`` once more on every field, so nothing a rule forgets
to escape gets through raw.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from stage2_lint.core.lazy import LazyPattern

QUOTE_LIMIT = 120  # characters of one key or value a message quotes
MESSAGE_LIMIT = 2000  # characters of one whole message, the output layer's last bound

_UNSAFE = LazyPattern("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: "re.Match") -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: an undecodable byte of a file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, keep_tabs: bool = False) -> str:
    """``text`` with every line-forging or terminal-driving character escaped (tabs kept
    with ``keep_tabs``, for diffs that must still apply)."""
    if (text.isascii() and text.isprintable()) or _UNSAFE.search(text) is None:  # the first: C speed, and usual
        return text
    if keep_tabs:
        return "\t".join(_UNSAFE.sub(_escaped, part) for part in text.split("\t"))
    return _UNSAFE.sub(_escaped, text)


def printable_lines(text: str) -> str:
    """Like ``printable``, but the text's own line feeds stay line feeds: for a message
    that lists one finding a line, each already built from escaped parts."""
    return "\n".join(printable(part) for part in text.split("\n"))


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """At most ``limit`` characters of ``text``, saying how long the whole was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def shown(value) -> str:
    """A value as a message quotes it: ``repr``-style, escaped and bounded."""
    if isinstance(value, str):
        if len(value) > QUOTE_LIMIT:
            return printable(f"{value[:QUOTE_LIMIT]!r}... ({len(value)} characters)")
        return printable(repr(value))
    if isinstance(value, (dict, list, tuple)):
        import reprlib

        short = reprlib.Repr()
        short.maxstring = short.maxother = 40
        short.maxlevel, short.maxdict, short.maxlist = 2, 4, 4
        return printable(clip(short.repr(value)))
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 400:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    return printable(clip(repr(value)))


def dotted(keys: Iterable) -> str:
    """A key path as ``a.b.c``, each name escaped and bounded."""
    keys = tuple(keys)
    try:
        text = ".".join(keys)
    except TypeError:  # a name that is not a string (an integer key, a list index)
        text = None
    # Short printable ASCII, the usual path (a report of unknown keys spells thousands): no
    # name in it is long enough to clip, and nothing in it needs escaping.
    if text is not None and len(text) <= QUOTE_LIMIT and text.isascii() and text.isprintable():
        return text
    return ".".join(printable(clip(str(key))) for key in keys)


def markdown_literal(text: str) -> str:
    """``text`` as a markdown code span, escaped and safe in a table cell: inside a code span
    no HTML, link, autolink or emphasis is rendered, so a key named ``<img src=x>`` or
    ``[click](http://evil)`` shows as written; ``|`` is escaped so it cannot end the cell."""
    text = printable(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text.strip() else text
    return f"{fence}{padded}{fence}".replace("|", "\\|")


_SHELL_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def shell_word(text: str) -> str:
    """``text`` as one POSIX-shell word that a pasted command line passes on unchanged:
    bare when it is plain, in single quotes when it holds only printable characters, else
    in bash's ``$'...'`` with every control, separator and bidi character escaped, so the
    line can neither drive the terminal nor mean something else."""
    if _SHELL_PLAIN.fullmatch(text):
        return text
    if _UNSAFE.search(text) is None:
        return "'" + text.replace("'", "'\"'\"'") + "'"
    return "$'" + "".join(_ansi_c(char) for char in text) + "'"


def _ansi_c(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    if not _UNSAFE.match(char):
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"  # in bash, \\x80-\\xff are raw bytes


def shell_command(argv: Iterable[str], env: Iterable = ()) -> str:
    """``NAME=value ... argv...`` as one shell line (see ``shell_word``)."""
    return " ".join([f"{name}={shell_word(value)}" for name, value in env] + [shell_word(arg) for arg in argv])
