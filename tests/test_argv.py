"""``core.argv`` reads the usual command lines without argparse; argparse is its oracle. For
every argument list it accepts, it must give argparse's namespace; for every other list the
command line goes to argparse, which says what it says (help, errors, abbreviations)."""
from __future__ import annotations

import contextlib
import io
import os

import pytest
from hypothesis import given, settings, strategies as st

from stage2_lint import cli


def _argparse(command: str, argv: list[str]):
    """argparse's namespace as a dict, or None when it refuses (or prints help)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return vars(cli.command_parser(command).parse_args(argv))
        except SystemExit:
            return None


def _same_as_argparse(command: str, argv: list[str]) -> bool:
    """True when the plain reader accepted ``argv``; either way, what it made of it is
    argparse's namespace."""
    plain = cli.plain_command_line(command, argv)
    if plain is None:
        return False
    assert vars(plain) == _argparse(command, argv), argv
    return True


# The command lines the hook, CI, the README and the benchmark run: none may pay for argparse.
USUAL = [
    [],
    ["configs/stage2_ab"],
    ["--with-dependents", "--with-surface", "configs/stage2_ab/prod/a.yaml", "configs/stage2_ab/base.yaml"],
    ["-q", "--no-cache", "--config", "contract.cfg", "configs"],
    ["--format", "json", "configs/stage2_ab"],
    ["--output-format=sarif", "--select", "S2L03", "--ignore", "S2L031,S2L070", "configs"],
    ["--statistics", "--strict", "configs"],
    ["-", "--stdin-filename", "configs/stage2_ab/prod/new.yaml"],
    ["--fix", "configs/stage2_ab"],
    ["-j", "1", "configs", "--exit-zero"],
]


@pytest.mark.parametrize("argv", USUAL, ids=" ".join)
def test_the_usual_check_command_lines_are_read_without_argparse_as_argparse_reads_them(argv):
    assert _same_as_argparse("check", argv)


@pytest.mark.parametrize("command, argv", [("rules", []), ("fix", ["--diff", "configs"]),
                                           ("graph", ["--format", "dot", "configs"])])
def test_other_commands_of_plain_kinds_are_read_the_same_way(command, argv):
    assert _same_as_argparse(command, argv)


@pytest.mark.parametrize("command, argv", [
    ("check", ["-h"]), ("check", ["--with-dep", "x"]), ("check", ["-qj2", "x"]), ("check", ["-j2"]),
    ("check", ["--", "diff"]), ("check", ["a", "--strict", "b"]), ("check", ["--format", "nope"]),
    ("check", ["-j", "two"]), ("check", ["--config"]), ("check", ["--config", "--strict"]),
    ("check", ["--strict=yes"]), ("check", ["-j", "-1"]), ("resolve", ["a.yaml"]), ("explain", ["S2L001"]),
])
def test_what_the_plain_reader_does_not_read_goes_to_argparse(command, argv):
    assert cli.plain_command_line(command, argv) is None


OPTIONS = ["--format", "--output-format", "--stdin-filename", "--exit-zero", "--strict", "--statistics",
           "--select", "--ignore", "--with-dependents", "--with-surface", "--config", "--isolated",
           "--show-settings", "--fix", "--diff", "--list-rules", "--explain", "-j", "--jobs", "--no-cache",
           "-q", "--quiet", "-h", "--help", "--contract", "--onto"]
VALUES = ["json", "text", "dot", "nope", "", "-", "3", "0", "-1", "x", "S2L0,S2L1", " S2L03 , ", "a b", "-a b",
          "configs", "configs/x.yaml", "--", "-x", "-qj2", "-j2", "--with-dep", "--no-c", "=", "export"]
PATHS = st.sampled_from(["configs", "configs/x.yaml", "-", "a b", "", "export", "check"])
# Groups of tokens, mostly of the shapes a person types (an option and a value, a flag, a path),
# with strangers among them; each list is several groups, flattened.
GROUP = st.one_of(
    st.tuples(st.sampled_from(OPTIONS)), st.tuples(st.sampled_from(OPTIONS), st.sampled_from(VALUES)),
    st.tuples(st.builds("{}={}".format, st.sampled_from(OPTIONS), st.sampled_from(VALUES))),
    st.tuples(PATHS), st.tuples(PATHS, PATHS), st.tuples(st.text(alphabet="-=a,j1 ", max_size=6)))


@settings(max_examples=600, deadline=None, derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))
@given(st.sampled_from(sorted(cli.BUILDERS)), st.lists(GROUP, max_size=5))
def test_any_argument_list_the_plain_reader_accepts_is_what_argparse_makes_of_it(command, groups):
    _same_as_argparse(command, [token for group in groups for token in group])


FLAGS = ["--exit-zero", "--strict", "--statistics", "--with-dependents", "--with-surface", "--isolated",
         "--show-settings", "--fix", "--diff", "--list-rules", "--no-cache", "-q", "--quiet"]
VALUED = st.one_of(st.tuples(st.sampled_from(["--format", "--output-format"]), st.sampled_from(["json", "github"])),
                   st.tuples(st.sampled_from(["--select", "--ignore"]), st.sampled_from(["S2L0", "S2L031,S2L070"])),
                   st.tuples(st.sampled_from(["-j", "--jobs"]), st.sampled_from(["1", "2", "+3"])),
                   st.tuples(st.sampled_from(["--config", "--stdin-filename", "--explain"]), PATHS))
PLAIN_GROUP = st.one_of(st.tuples(st.sampled_from(FLAGS)), VALUED, VALUED.map(lambda pair: ("=".join(pair),)),
                        st.tuples(PATHS))


@settings(max_examples=300, deadline=None, derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))
@given(st.lists(PLAIN_GROUP, max_size=6))
def test_check_command_lines_of_plain_shapes_are_read_as_argparse_reads_them(groups):
    """Most of these are accepted (all but a second run of paths and an empty value), so the
    namespaces themselves are compared, not only the refusals."""
    _same_as_argparse("check", [token for group in groups for token in group])


def test_declarations_of_any_command_read_the_same_by_both():
    """Beyond this CLI's own: an ``extend`` option without a default, a ``type`` that raises
    something else than ValueError, a string default with a type."""
    import argparse

    from stage2_lint.core import argv as plain_argv

    def strict_number(text: str) -> int:
        if not text.isdigit():
            raise argparse.ArgumentTypeError("digits only")
        return int(text)

    def declare(parser):
        parser.add_argument("names", nargs="*")
        parser.add_argument("--tag", action="extend", type=cli._codes)
        parser.add_argument("--level", type=strict_number, default="3")

    for argv in ([], ["a", "--tag", "x,y", "--tag=z"], ["--level", "7", "b"], ["--level", "x7"], ["--tag"]):
        declared, parser = plain_argv.Declarations(), argparse.ArgumentParser()
        declare(declared)
        declare(parser)
        plain = plain_argv.parse(declared, argv)
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                expected = vars(parser.parse_args(argv))
            except SystemExit:
                expected = None
        assert plain is None or vars(plain) == expected, argv
        assert (plain is None) == (expected is None), argv
