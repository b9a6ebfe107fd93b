"""The plain INI files a setup.cfg is, read as ``configparser.ConfigParser(interpolation=None)``
reads them, without importing configparser (1.7 ms of every run's start-up).

``plain_sections`` reads only the plain kind of file, where configparser's answer is
plain too: lines that are blank, a whole-line comment (``#`` or ``;``), a ``[section]``
header or a ``key = value`` / ``key: value`` line at the left margin, and indented lines
that continue a value. It gives up (None) on anything else: an indented header or key, a
``DEFAULT`` section, a repeated section or key, a line configparser would refuse or read
in a surprising way (``[a]junk``, ``[[a]]``, a key before any section, a carriage return).
The caller then asks configparser itself, which reads what it always read and refuses
what it always refused. ``tests/test_ini.py`` holds the two readers to the same answers."""
from __future__ import annotations

COMMENT_PREFIXES = ("#", ";")
DEFAULT_SECTION = "DEFAULT"


def plain_sections(text: str) -> dict[str, dict[str, str]] | None:
    """Each section's keys (lower-cased, as configparser's ``optionxform``) and values (a
    multi-line value joined by newlines, trailing blank lines dropped), in file order; None
    when the text is not of the plain kind."""
    if "\r" in text or "[" + DEFAULT_SECTION + "]" in text:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the text's last newline ends a line; it does not start one
    sections: dict[str, dict[str, list[str]]] = {}
    section = value = None  # the current section's keys, the current key's lines
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            if not stripped and value is not None:
                value.append("")  # a blank line inside a value is kept (configparser's default)
            continue
        if line[0].isspace():  # indented: continues the current value, or is not plain
            if value is None:
                return None
            value.append(stripped)
            continue
        if line[0] == "[":
            name = _header(stripped)
            if name is None or name in sections:
                return None
            section, value = sections.setdefault(name, {}), None
            continue
        key, rest = _option(stripped)
        if section is None or key is None or key in section:
            return None
        section[key] = value = [rest]
    return {name: {key: "\n".join(parts).rstrip() for key, parts in keys.items()}
            for name, keys in sections.items()}


def _header(stripped: str) -> str | None:
    """The name in ``[name]``; None for what configparser reads some other way."""
    name = stripped[1:-1]
    if not stripped.endswith("]") or not name or "[" in name or "]" in name:
        return None
    return name


def _option(stripped: str) -> tuple[str | None, str]:
    """(key, value) of ``key = value`` or ``key: value``: the first ``=`` or ``:`` divides
    them, as configparser's pattern does; (None, "") when there is no key."""
    cut = min((index for index in (stripped.find("="), stripped.find(":")) if index >= 0), default=-1)
    key = stripped[:cut].rstrip() if cut > 0 else ""
    if not key:
        return None, ""
    return key.lower(), stripped[cut + 1:].strip()
