"""``stage2-lint [OPTIONS] [PATH ...]``: exit 0 clean, 1 violations, 2 usage or internal error."""
from __future__ import annotations

import argparse
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
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--explain", metavar="CODE", help="show a rule's rationale, fix and examples")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    parser.add_argument("--version", action="version", version=f"stage2-lint {__version__}")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except (UsageError, SettingsError) as error:
        print(f"stage2-lint: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 2
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

    report = lint_paths(args.paths, settings, rules)
    sys.stdout.write(FORMATS[args.format](report))
    if not args.quiet:
        print(_summary(report), file=sys.stderr)
    return report.exit_code


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
