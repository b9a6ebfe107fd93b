"""``stage2-lint [COMMAND] ...``: exit 0 clean, 1 violations, 2 usage or internal error,
130 interrupted. With no command, or a path or an option first, the command is ``check``:
``stage2-lint configs/recipes`` lints, and so does ``stage2-lint ./diff`` or
``stage2-lint -- diff`` for a file that happens to be named like a command."""
from __future__ import annotations

import gc
import os
import sys

from stage2_lint import __version__
from stage2_lint.core import argv as plain_argv
from stage2_lint.core.lazy import YAML_READER_NON_PRINTABLE, LazyModule, defer_compiling
from stage2_lint.core.escape import printable
from stage2_lint.core.records import (SchemaError, SettingsError, Terminated, UnreadableDirectory, UsageError,
                                      WorkerDied)

# Imported by the first command run: ``console_main`` pauses the collector before it (see there).
commands = LazyModule("stage2_lint.commands")

COMMANDS = {
    "check": "lint profiles against their repository's contracts (the default command)",
    "fix": "move keys under a contract's moved prefixes to their new home, in place (S2L030)",
    "flatten": "rewrite a chained or dual-parent leaf as a one-hop leaf with the same resolved values",
    "resolve": "print a profile's fully resolved config (--blame: which file:line set each value)",
    "diff": "what two profiles really differ in, after inheritance (exit 0 equal, 1 different)",
    "graph": "draw the extends hierarchy (mermaid, dot, json)",
    "schema": "export a contract's JSON Schema from its typed config, or check the committed file is current",
    "explain": "a rule's rationale, fix, and each failing example with its fixed form",
    "rules": "list every rule",
}


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


BUILDERS = {}  # command -> function declaring its arguments (filled below)

# Imported only when a command line is not of the plain kinds ``core.argv`` reads (3 ms).
argparse = LazyModule("argparse")


def _formatter(prog: str, **kwargs):
    """argparse builds a formatter for every argument it declares, and the default one
    imports shutil to ask the terminal's width (4 ms of a commit hook's start-up): ask only
    when help is really printed."""
    return argparse.HelpFormatter(prog, width=kwargs.pop("width", None) or _columns(), **kwargs)


def _columns() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", "")) - 2)
    except ValueError:
        return 78


def command_parser(command: str) -> argparse.ArgumentParser:
    """One command's parser alone: building every command's parser costs a commit hook
    about 10 ms, so a run builds only the one it uses."""
    parser = argparse.ArgumentParser(prog=f"stage2-lint {command}", description=COMMANDS[command],
                                     formatter_class=_formatter)
    if BUILDERS[command]:
        BUILDERS[command](parser)
    parser.set_defaults(command=command)
    return parser


def plain_command_line(command: str, argv: list[str]):
    """The command's arguments read without argparse (``core.argv``), or None when argparse
    must read them."""
    declared = plain_argv.Declarations()
    if BUILDERS[command]:
        BUILDERS[command](declared)
    declared.set_defaults(command=command)
    return plain_argv.parse(declared, argv)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser, listing every command (for --help and --version)."""
    parser = argparse.ArgumentParser(
        prog="stage2-lint",
        description="Check extends-based YAML training profiles against the contracts their repository "
                    "declares (setup.cfg [stage2_lint.contract.NAME]).",
        epilog="With no command, or a path or an option first, the command is check: "
               "stage2-lint configs/recipes. A file named like a command: stage2-lint ./diff or -- diff.")
    parser.add_argument("--version", action="version", version=f"stage2-lint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        sub.add_parser(name, help=COMMANDS[name], add_help=False)
    return parser


def _settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="read settings from this setup.cfg or pyproject.toml only")
    parser.add_argument("--isolated", action="store_true", help="ignore every settings file (no contract)")


def _check(parser: argparse.ArgumentParser) -> None:
    from stage2_lint.reporting.output import FORMATS

    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories (default: the configured canonical surface)")
    parser.add_argument("--format", "--output-format", dest="format", choices=tuple(FORMATS), default="text",
                        help="markdown: a summary with the extends graph, for $GITHUB_STEP_SUMMARY or a PR comment")
    parser.add_argument("--stdin-filename", metavar="PATH",
                        help="with the path -: lint standard input as the file at PATH (its contract, its parents)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when there are violations (usage errors still exit 2)")
    parser.add_argument("--strict", action="store_true", help="warnings fail the run too (exit 1)")
    parser.add_argument("--statistics", action="store_true", help="after the report, a count per rule on stderr")
    parser.add_argument("--select", type=_codes, action="extend", default=[], metavar="CODES",
                        help="only these codes or prefixes (comma-separated)")
    parser.add_argument("--ignore", type=_codes, action="extend", default=[], metavar="CODES",
                        help="skip these codes or prefixes (comma-separated)")
    parser.add_argument("--with-dependents", action="store_true",
                        help="also lint every canonical leaf whose extends chain includes a given file "
                             "(what the pre-commit hook does when a parent changes)")
    parser.add_argument("--with-surface", action="store_true",
                        help="also lint the whole canonical surface, so deleting or renaming a parent is caught "
                             "(what the pre-commit hook does on every commit)")
    _settings_options(parser)
    parser.add_argument("--show-settings", action="store_true",
                        help="print the effective settings and contracts, and where each value came from")
    parser.add_argument("--fix", action="store_true", help="the fix command, then lint")
    parser.add_argument("--diff", action="store_true", help="what the fix command would change; write nothing")
    parser.add_argument("--list-rules", action="store_true", help="the rules command")
    parser.add_argument("--explain", metavar="CODE", help="the explain command")
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="worker processes for big trees (default: one per core from 200 files; 1: serial)")
    parser.add_argument("--no-cache", action="store_true",
                        help="check every file afresh and leave the result cache alone (settings: cache = false)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")


def _fix(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: canonical surface)")
    parser.add_argument("--diff", action="store_true", help="show the change; write nothing")
    _settings_options(parser)


def _flatten(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("leaf")
    parser.add_argument("--onto", help="the new parent (default: the contract's required parent)")
    parser.add_argument("--output", help="write the flattened profile here instead of over LEAF")
    parser.add_argument("--diff", action="store_true", help="show the change; write nothing")
    parser.add_argument("--change-dependents", action="store_true",
                        help="write even when profiles that extend the output would resolve differently")


def _resolve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile")
    parser.add_argument("--key", help="show one key's whole override chain (dotted path), winner last")
    parser.add_argument("--blame", action="store_true", help="name the file:line that set every value")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")


def _diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile_a")
    parser.add_argument("profile_b")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _graph(parser: argparse.ArgumentParser) -> None:
    from stage2_lint.reporting.pictures import RENDERERS

    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories to start from (default: the canonical surface)")
    parser.add_argument("--format", choices=tuple(RENDERERS), default="mermaid")
    parser.add_argument("--contract", metavar="NAME", help="only this contract's canonical surface")
    _settings_options(parser)


def _schema(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("export", "check"))
    parser.add_argument("--contract", metavar="NAME", help="one contract (default: every one with a schema_source)")
    _settings_options(parser)


def _explain(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", metavar="CODE")


BUILDERS.update(check=_check, fix=_fix, flatten=_flatten, resolve=_resolve, diff=_diff, graph=_graph,
                schema=_schema, explain=_explain, rules=None)


def console_main() -> int:
    """``main`` for a process that ends when it returns: the ``stage2-lint`` command and
    ``python -m stage2_lint``. A run builds many long-lived objects and no cycles worth
    collecting, yet the cyclic collector walks them during the imports and once more as the
    interpreter exits (measured: 6 ms of a 48 ms one-leaf run). So it stays paused for the
    process, and ``gc.freeze`` at the end moves what is left out of the exit's collection.
    Then, as mypy does, the process ends without the interpreter's teardown, which frees every
    module and object one by one only for the kernel to drop the memory anyway (measured: 5 to
    8 ms of a 100 ms whole-tree run), unless somebody waits for that exit (``_exit_is_watched``).
    ``main`` itself leaves the collector and the exit alone, as a caller in a long-lived process
    (a test, the flake8 plugin) needs it."""
    gc.disable()
    defer_compiling(YAML_READER_NON_PRINTABLE)
    try:
        code = main()
    finally:
        gc.freeze()
    if not _exit_is_watched() and _flushed(sys.stdout, sys.stderr):
        os._exit(code)
    return code


def _exit_is_watched() -> bool:
    """A profiler or tracer (cProfile, coverage) writes its data at exit, an ``atexit``
    callback somebody registered runs then, and the interpreter waits for a thread that code
    imported by ``schema export`` started: then the process must end the normal way."""
    import atexit

    if sys.getprofile() is not None or sys.gettrace() is not None or atexit._ncallbacks():
        return True
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return True
    monitoring = getattr(sys, "monitoring", None)  # 3.12+: coverage's way of tracing
    return monitoring is not None and any(monitoring.get_tool(tool) for tool in range(6))


def _flushed(*streams) -> bool:
    """Whether everything written is out; if not, the interpreter's exit reports it as before."""
    try:
        for stream in streams:
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "help":  # `stage2-lint help [COMMAND]`, as git and ruff answer it
        argv = [argv[1], "--help"] if len(argv) > 1 and argv[1] in COMMANDS else ["--help"]
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["check", *argv]
    if sys.stdout is None:  # started with stdout closed (`>&-`): nothing could be reported
        _say("stage2-lint: error: standard output is closed; nothing can be reported")
        return 2
    real_stdout, sys.stdout = sys.stdout, _Output(sys.stdout)
    try:
        code = _run(argv)
        sys.stdout.flush()
        return code
    except _OutputFailed as failed:  # `| head -1`, `> /dev/full`: one line, no traceback
        _silence_stdout(real_stdout)
        if isinstance(failed.error, BrokenPipeError):
            _say("stage2-lint: output closed early (broken pipe)")
            return 141  # 128 + SIGPIPE, as a shell reports a tool stopped by a closed pipe
        _say(f"stage2-lint: error: cannot write the output: {failed.error.strerror or failed.error}")
        return 2
    finally:
        sys.stdout = real_stdout


def _run(argv: list[str]) -> int:
    try:
        if argv[0] not in COMMANDS:  # --help, --version
            build_parser().parse_args(argv)
            return 0
        args = plain_command_line(argv[0], argv[1:]) or command_parser(argv[0]).parse_args(argv[1:])
        return getattr(commands, args.command)(args)
    except (UsageError, SettingsError, SchemaError, UnreadableDirectory, WorkerDied) as error:
        _say(printable(f"stage2-lint: error: {error}"))
        return 2
    except Terminated:  # SIGTERM in a parallel run: workers were stopped on the way out
        _say("stage2-lint: terminated")
        return 143
    except KeyboardInterrupt:  # Ctrl-C: no traceback; workers were stopped on the way out
        _say("stage2-lint: interrupted")
        return 130
    except _OutputFailed:
        raise
    except Exception as error:  # a traceback is a bug: say so in one line, exit 2
        _say(printable(f"stage2-lint: internal error: {type(error).__name__}: {error} (please report this)"))
        return 2


class _OutputFailed(Exception):
    """Writing standard output failed (closed pipe, full disk): the run cannot report."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


class _Output:
    """Standard output that turns a failed write into ``_OutputFailed``, so a closed pipe or
    a full disk is told apart from a bug, wherever in a command the write happens."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise _OutputFailed(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise _OutputFailed(error) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence_stdout(stream) -> None:
    """Drop what is still buffered, so the interpreter's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _say(line: str) -> None:
    """One line on stderr, if stderr can still take it."""
    try:
        print(line, file=sys.stderr)
    except (OSError, ValueError, AttributeError):
        pass
