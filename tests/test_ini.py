"""``core.ini`` reads plain setup.cfg files without configparser; configparser is its oracle.
For every text it accepts it must give configparser's sections, keys and values; every other
text goes to configparser, which reads or refuses it as it always did."""
from __future__ import annotations

import configparser
import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from stage2_lint.core.ini import plain_sections

REPO = Path(__file__).resolve().parent.parent


def _configparser(text: str):
    """configparser's reading as {section: {key: value}}, or None when it refuses the text."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _same_as_configparser(text: str) -> bool:
    """True when the plain reader accepted ``text``; either way, what it made of it is
    configparser's reading."""
    plain = plain_sections(text)
    if plain is None:
        return False
    assert plain == _configparser(text), text
    assert [list(keys) for keys in plain.values()] == [list(keys) for keys in _configparser(text).values()]
    return True


# Settings files as repositories write them: none may pay for configparser.
USUAL = {
    "this repository's setup.cfg": (REPO / "setup.cfg").read_text(),
    "the benchmark's contract": (REPO / "bench" / "contract.cfg").read_text(),
    "a value over lines, with a blank line and comments inside": (
        "[metadata]\nname = x\n\n[stage2_lint.contract.c]\nscope =\n    configs/a/*.yaml\n\n"
        "    configs/b/*.yaml\n    # configs/old/*.yaml\n    ; configs/older/*.yaml\nschema: schemas/c.json\n"),
    "colons, equals signs and percent signs in values": (
        "[stage2_lint]\nper_file_ignores = configs/x.yaml: S2L031\nurl = http://a/b?c=d&e=%(x)s\n"),
    "mixed-case keys and an empty value": "[S]\nMaxBytes = 5\nempty =\n",
    "no trailing newline": "[s]\na = 1",
    "no section at all": "",
    "a comment before the first section": "# top\n; also\n\n[s]\na = 1\n",
}


@pytest.mark.parametrize("name", sorted(USUAL))
def test_the_usual_settings_files_are_read_without_configparser_as_configparser_reads_them(name):
    assert _same_as_configparser(USUAL[name])


# What configparser reads in a way of its own, or refuses: left to it.
UNUSUAL = {
    "a DEFAULT section": "[DEFAULT]\na = 1\n[s]\nb = 2\n",
    "a repeated section": "[s]\na = 1\n[s]\nb = 2\n",
    "a repeated key, in other case": "[s]\na = 1\nA = 2\n",
    "a key before any section": "a = 1\n[s]\n",
    "a line without a delimiter": "[s]\na\n",
    "a line that starts with a delimiter": "[s]\n= 1\n",
    "an indented key after a header": "[s]\n  a = 1\n",
    "an indented header": "[s]\na = 1\n[t]\n  [u]\n",
    "text after a header": "[s] junk\na = 1\n",
    "a nested bracket": "[[s]]\na = 1\n",
    "an empty header": "[]\na = 1\n",
    "an unclosed header": "[s\na = 1\n",
    "a carriage return": "[s]\r\na = 1\r\n",
    "a byte-order mark": "\ufeff[s]\na = 1\n",
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_the_unusual_files_are_left_to_configparser(name):
    assert plain_sections(UNUSUAL[name]) is None


# Pieces of lines, to be put together every way: headers, keys, delimiters, values, comments,
# indentation, blank lines and the whitespace str.strip and configparser's \S might disagree on.
_SPACE = st.sampled_from(["", " ", "  ", "\t", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2028", "\u3000"])
_WORD = st.sampled_from(["a", "A", "b", "scope", "DEFAULT", "x y", "k[0]", "é", "a#b", "a;b", ""])
_INDENT = st.sampled_from([" ", "    ", "\t", "\u3000"])
_TEXT = st.sampled_from(["", "1", "v", "a = b", "x: y", "%(a)s", "[s]", "# c", "; c", "http://h:1/p", "é"])


@st.composite
def _line(draw):
    kind = draw(st.sampled_from(["header", "option", "continuation", "blank", "comment", "junk"]))
    lead, space = draw(_SPACE), draw(_SPACE)
    if kind == "header":
        return f"{lead}[{draw(_WORD)}]{draw(st.sampled_from(['', ']', ' x', ' ']))}"
    if kind == "option":
        delimiter = draw(st.sampled_from(["=", ":", " = ", ": ", " :", "==", "=:"]))
        return f"{lead}{draw(_WORD)}{delimiter}{space}{draw(_TEXT)}{draw(_SPACE)}"
    if kind == "continuation":
        return f"{draw(_INDENT)}{draw(_TEXT)}{space}"
    if kind == "blank":
        return lead + space
    if kind == "comment":
        return f"{lead}{draw(st.sampled_from(['#', ';']))}{draw(_TEXT)}"
    return draw(st.sampled_from(["[", "]", "=", "[a", "a]", "\r", "x", "\ufeff[s]"]))


_FILES = st.lists(_line(), max_size=12).map(lambda lines: "\n".join(lines)) | \
    st.lists(_line(), max_size=12).map(lambda lines: "".join(line + "\n" for line in lines))


@settings(max_examples=1500, deadline=None, derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))
@given(_FILES)
def test_any_text_it_accepts_is_read_as_configparser_reads_it(text):
    _same_as_configparser(text)


@st.composite
def _plain_file(draw):
    """Files of the plain kind: headers, keys at the margin, indented continuations."""
    lines = []
    for section in range(draw(st.integers(1, 3))):
        lines.append(f"[s{section}]")
        for key in range(draw(st.integers(0, 4))):
            lines.append(f"{draw(st.sampled_from(['k', 'K', 'key']))}{key}{draw(st.sampled_from(['=', ' = ', ': ']))}"
                         f"{draw(_TEXT)}")
            for _ in range(draw(st.integers(0, 3))):
                lines.append(draw(st.sampled_from(["", "  # c", "    more", "\t", "  ", "\u3000x"])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=400, deadline=None, derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))
@given(_plain_file())
def test_files_of_the_plain_kind_are_accepted_and_read_as_configparser_reads_them(text):
    assert _same_as_configparser(text), text


def test_settings_files_of_either_kind_govern_alike_and_configparsers_refusals_stand(tmp_path):
    """The settings reader takes a plain file from ``core.ini`` and any other from configparser:
    a ``[DEFAULT]`` value still reaches the contract, a repeated section is still refused."""
    from stage2_lint.contracts.settings import SettingsError, read_settings_file

    contract = "[stage2_lint.contract.c]\nscope = configs/**/*.yaml\nrequired_keys = a\n"
    plain, unusual, refused = (tmp_path / name for name in ("plain", "unusual", "refused"))
    for directory, text in ((plain, contract + "required_parent = ../base.yaml\n"),
                            (unusual, "[DEFAULT]\nrequired_parent = ../base.yaml\n" + contract),
                            (refused, contract + contract)):
        directory.mkdir()
        (directory / "setup.cfg").write_text(text)
    assert plain_sections((plain / "setup.cfg").read_text()) is not None
    assert plain_sections((unusual / "setup.cfg").read_text()) is None
    read = [read_settings_file(str(directory / "setup.cfg")).contracts[0] for directory in (plain, unusual)]
    assert read[0].required_parent == read[1].required_parent == "../base.yaml"
    assert read[0] == read[1]
    with pytest.raises(SettingsError, match=r"section 'stage2_lint.contract.c' already exists"):
        read_settings_file(str(refused / "setup.cfg"))
