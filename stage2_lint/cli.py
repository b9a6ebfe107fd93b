"""``stage2-lint [OPTIONS] [PATH ...]``: exit 0 clean, 1 violations, 2 usage or internal error."""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from stage2_lint import __version__
from stage2_lint.engine import UsageError, lint_paths, select_rules
from stage2_lint.rules import BY_CODE, REGISTRY
from stage2_lint.settings import SettingsError, find_settings


def _codes(value: str) -> List[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stage2-lint",
        description="Check Stage-2 AB training profiles against the config contract.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories (default: the configured canonical surface)")
    parser.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    parser.add_argument("--select", type=_codes, action="extend", default=[], metavar="CODES",
                        help="only these codes or prefixes (comma-separated)")
    parser.add_argument("--ignore", type=_codes, action="extend", default=[], metavar="CODES",
                        help="skip these codes or prefixes (comma-separated)")
    parser.add_argument("--with-dependents", action="store_true",
                        help="also lint every canonical leaf whose extends chain includes a given file "
                             "(what the pre-commit hook does when a parent changes)")
    parser.add_argument("--fix", action="store_true",
                        help="relocate custom.extra.rollout_matching to rollout_matching in place (S2L030)")
    parser.add_argument("--diff", action="store_true", help="show what --fix would change; write nothing")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--explain", metavar="CODE", help="show a rule's rationale, fix and examples")
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="worker processes for big trees (default: one per core from 1,000 files; 1: serial)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    parser.add_argument("--version", action="version", version=f"stage2-lint {__version__}")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return SUBCOMMANDS[argv[0]](argv[1:])
        return _run(build_parser().parse_args(argv))
    except (UsageError, SettingsError) as error:
        print(f"stage2-lint: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 2
    except BrokenPipeError:  # output piped into `head`
        sys.stderr.close()
        return 1
    except Exception as error:  # a traceback is a bug: say so in one line, exit 2
        print(f"stage2-lint: internal error: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.list_rules:
        for rule in REGISTRY:
            print(f"{rule.code}  {rule.name:<26} {rule.severity:<8} {rule.summary}")
        return 0
    if args.explain:
        return _explain(args.explain.upper())
    settings = find_settings()
    rules = select_rules(settings, args.select, args.ignore)
    from stage2_lint.output import FORMATS  # json/sarif machinery only when reporting

    if args.fix or args.diff:
        pending = _fix(args.paths, settings, write=not args.diff)
        if args.diff:
            return 1 if pending else 0
    report = lint_paths(args.paths, settings, rules, with_dependents=args.with_dependents, jobs=args.jobs)
    sys.stdout.write(FORMATS[args.format](report))
    if not args.quiet:
        print(_summary(report), file=sys.stderr)
    return report.exit_code


def _fix(paths, settings, write: bool) -> int:
    """Apply (or, with ``write=False``, show as a diff) every S2L030 relocation; returns
    how many files changed or would change."""
    from stage2_lint.document import load_document
    from stage2_lint.engine import discover
    from stage2_lint.fix import fix_legacy_namespace

    changed = 0
    for path in discover(paths, settings):
        result = fix_legacy_namespace(load_document(path, settings.limits))
        if result.problem:
            print(f"{path}:{result.line}:{result.col}: S2L030 not fixed: {result.problem}", file=sys.stderr)
        if not result.changed:
            continue
        changed += 1
        if write:
            _write_preserving_bom(path, result.new)
        else:
            _print_diff(path, result.old, result.new)
    if write and changed:
        print(f"stage2-lint: fixed {changed} file(s)", file=sys.stderr)
    return changed


def _print_diff(path: str, old: str, new: str) -> None:
    import difflib

    sys.stdout.writelines(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                               fromfile=f"a/{path}", tofile=f"b/{path}"))


def _write_preserving_bom(path: str, text: str) -> None:
    with open(path, "rb") as handle:
        bom = handle.read(3) == b"\xef\xbb\xbf"
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        handle.write(text)


def _summary(report) -> str:
    warnings = len(report.violations) - report.errors
    files = f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
    if not report.violations:
        return f"stage2-lint: {files} checked, no violations"
    return f"stage2-lint: {report.errors} error(s), {warnings} warning(s) in {files}"


def _explain(code: str) -> int:
    rule = BY_CODE.get(code)
    if rule is None:
        raise UsageError(f"unknown rule {code} (see --list-rules)")
    print(f"{rule.code} {rule.name} ({rule.severity})\n\n{rule.summary}\n\nWhy: {rule.rationale}\n\nFix: {rule.fix}")
    for title, examples in (("Passes", rule.passing), ("Fails", rule.failing)):
        for example in examples:
            where = f" at {', '.join(example.marks)}" if example.marks else ""
            print(f"\n{title} ({example.path}{where}):")
            print("".join(f"    {line}\n" for line in example.text.splitlines()), end="")
    return 0


def _flatten_command(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="stage2-lint flatten",
        description="Rewrite a chained or dual-parent leaf as a one-hop leaf with the same resolved values.")
    parser.add_argument("leaf")
    parser.add_argument("--onto", help="the new parent (default: the required parent, ../base.yaml)")
    parser.add_argument("--output", help="write the flattened profile here instead of over LEAF")
    parser.add_argument("--diff", action="store_true", help="show the change; write nothing")
    args = parser.parse_args(argv)
    from stage2_lint.flatten import flatten

    if not os.path.isfile(args.leaf):
        raise UsageError(f"{args.leaf}: no such file")
    result = flatten(args.leaf, find_settings(), onto=args.onto, output=args.output, write=not args.diff)
    if result.problem:
        print(f"stage2-lint flatten: {args.leaf}: {result.problem}", file=sys.stderr)
        return 1
    if args.diff:
        old = open(result.path, encoding="utf-8").read() if os.path.exists(result.path) else ""
        _print_diff(result.path, old, result.text)
    else:
        print(f"stage2-lint flatten: wrote {result.path} (resolved values unchanged)", file=sys.stderr)
    return 0


def _resolved_or_error(path: str):
    from stage2_lint.hierarchy import Resolver

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    resolver = Resolver(find_settings())
    resolved = resolver.resolve(path)
    if resolved is None:
        problems = resolver.document(path).problems or resolver.lineage_problems(path)
        raise UsageError(f"{path} cannot be resolved:\n" + "\n".join(v.format() for v in problems))
    return resolved


def _resolve_command(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="stage2-lint resolve",
                                     description="Print a profile's fully resolved config.")
    parser.add_argument("profile")
    parser.add_argument("--key", help="show one key's whole override chain (dotted path), winner last")
    parser.add_argument("--blame", action="store_true", help="name the file:line that set every value")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    args = parser.parse_args(argv)
    from stage2_lint import audit

    resolved = _resolved_or_error(args.profile)
    if args.key:
        sys.stdout.write(audit.render(audit.key_chain(resolved, args.key), args.format))
    elif args.blame and args.format == "yaml":
        sys.stdout.write(audit.blame_yaml(resolved))
    elif args.blame:
        sys.stdout.write(audit.render({"config": resolved.config, "blame": audit.blame_map(resolved)}, "json"))
    else:
        sys.stdout.write(audit.render(resolved.config, args.format))
    return 0


def _diff_command(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="stage2-lint diff",
                                     description="What two profiles really differ in, after inheritance. "
                                                 "Exit 0 when equal, 1 when they differ.")
    parser.add_argument("profile_a")
    parser.add_argument("profile_b")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    from stage2_lint import audit

    found = audit.differences(_resolved_or_error(args.profile_a), _resolved_or_error(args.profile_b))
    if args.format == "json":
        sys.stdout.write(audit.render({"a": args.profile_a, "b": args.profile_b, "differences": found}, "json"))
    else:
        sys.stdout.write(audit.diff_text(found))
    return 1 if found else 0


SUBCOMMANDS = {"flatten": _flatten_command, "resolve": _resolve_command, "diff": _diff_command}
