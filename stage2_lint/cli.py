"""``stage2-lint [OPTIONS] [PATH ...]``: exit 0 clean, 1 violations, 2 usage or internal error."""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Tuple

from stage2_lint import __version__
from stage2_lint.engine import UsageError, WorkerDied, lint_paths, select_rules
from stage2_lint.escape import printable
from stage2_lint.rules import BY_CODE, REGISTRY, as_violations
from stage2_lint.safe_write import WriteRefused
from stage2_lint.schema import SchemaError
from stage2_lint.settings import Settings, SettingsError, find_settings, read_settings_file


def _codes(value: str) -> List[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stage2-lint",
        description="Check extends-based YAML training profiles against the contracts their repository "
                    "declares (setup.cfg [stage2_lint.contract.NAME]).")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories (default: the configured canonical surface)")
    parser.add_argument("--format", choices=("text", "json", "github", "sarif", "markdown"), default="text",
                        help="markdown: a summary with the extends graph, for $GITHUB_STEP_SUMMARY or a PR comment")
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
    parser.add_argument("--config", metavar="PATH", help="read settings from this setup.cfg or pyproject.toml only")
    parser.add_argument("--isolated", action="store_true", help="ignore every settings file (no contract)")
    parser.add_argument("--show-settings", action="store_true",
                        help="print the effective settings and contracts, and where each value came from")
    parser.add_argument("--fix", action="store_true",
                        help="move keys under a contract's moved prefixes to their new home, in place (S2L030)")
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
    except (UsageError, SettingsError, SchemaError, WorkerDied) as error:
        print(printable(f"stage2-lint: error: {error}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: no traceback; workers were stopped on the way out
        print("stage2-lint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`
        sys.stderr.close()
        return 1
    except Exception as error:  # a traceback is a bug: say so in one line, exit 2
        print(printable(f"stage2-lint: internal error: {type(error).__name__}: {error} (please report this)"),
              file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.list_rules:
        for rule in REGISTRY:
            print(f"{rule.code}  {rule.name:<26} {rule.severity:<8} {rule.summary}")
        return 0
    if args.explain:
        return _explain(args.explain.upper())
    settings = _settings(args)
    if args.show_settings:
        sys.stdout.write(_describe_settings(settings))
        return 0
    rules = select_rules(settings, args.select, args.ignore)
    from stage2_lint.output import FORMATS  # json/sarif machinery only when reporting

    refused = 0
    if args.fix or args.diff:
        pending, refused = _fix(args.paths, settings, write=not args.diff)
        if args.diff:
            return 1 if pending or refused else 0
    report = lint_paths(args.paths, settings, rules, with_dependents=args.with_dependents, jobs=args.jobs,
                        with_surface=args.with_surface)
    sys.stdout.write(FORMATS[args.format](report))
    for empty in report.empty:  # never a vacuous pass
        print(printable(f"stage2-lint: {empty}"), file=sys.stderr)
    if not args.quiet:
        for note in report.skipped:
            print(printable(f"stage2-lint: skipped {note}"), file=sys.stderr)
        print(printable(_summary(report)), file=sys.stderr)
    return max(report.exit_code, 1 if refused else 0)


def _settings(args) -> Settings:
    """--isolated: none; --config: that file; else the nearest settings file above the first
    path (or the working directory), so a profile gets its own repository's contracts."""
    if args.isolated:
        return Settings(project_dir=os.getcwd())
    if args.config:
        if not os.path.isfile(args.config):
            raise UsageError(f"--config {args.config}: no such file")
        found = read_settings_file(args.config)
        if found is None:
            raise UsageError(f"--config {args.config}: no [stage2_lint] or [stage2_lint.contract.NAME] section")
        return found
    start = args.paths[0] if args.paths else "."
    return find_settings(start if os.path.isdir(start) else os.path.dirname(start) or ".")


def _describe_settings(settings: Settings) -> str:
    from stage2_lint.settings import DECLARED

    origins = dict(settings.origins)
    lines = [f"# settings file: {settings.source or '(none: defaults, no contract)'}",
             f"# project: {settings.project_dir}", "[stage2_lint]"]
    engine = {**settings._asdict(), **{name: getattr(settings.limits, field) for name, field in (
        ("max_file_bytes", "max_bytes"), ("max_depth", "max_depth"), ("max_nodes", "max_nodes"))}}
    for setting in DECLARED:
        if setting.where == "engine":
            lines.append(_setting_line(setting.name, engine[setting.name], origins.get(setting.name)))
    for contract in settings.contracts:
        lines.append(f"[stage2_lint.contract.{contract.name}]")
        for setting in DECLARED:
            if setting.where == "contract":
                lines.append(_setting_line(setting.name, getattr(contract, setting.name),
                                           origins.get(f"contract.{contract.name}.{setting.name}")))
    return "".join(printable(line) + "\n" for line in lines)


def _setting_line(name: str, value, origin: Optional[str]) -> str:
    if isinstance(value, tuple):
        value = ", ".join(" -> ".join(item) if isinstance(item, tuple) and name in ("moved", "removed")
                          else f"{item[0]}: {','.join(item[1])}" if isinstance(item, tuple) else str(item)
                          for item in value)
    return f"{name} = {value}    # {origin or 'default'}"


def _fix(paths, settings, write: bool) -> Tuple[int, int]:
    """Apply (or, with ``write=False``, show as a diff) every S2L030 relocation, file by
    file: a file that cannot be written safely is refused and the run goes on. Returns how
    many files changed (or would change) and how many were refused."""
    from stage2_lint.engine import discover

    changed: List[str] = []
    refused: List[Tuple[str, str]] = []
    for path in discover(paths, settings):
        try:
            if _fix_one(path, settings, write):
                changed.append(path)
        except WriteRefused as why:
            refused.append((path, str(why)))
    if write and changed:
        print(f"stage2-lint: fixed {len(changed)} file(s): {', '.join(map(printable, changed))}", file=sys.stderr)
    if refused:
        print(f"stage2-lint: refused {len(refused)} file(s), left as they were:", file=sys.stderr)
        for path, why in refused:
            print(f"  {printable(path)}: {why}", file=sys.stderr)
    return len(changed), len(refused)


def _fix_one(path: str, settings, write: bool) -> bool:
    """Relocate one file's legacy namespace; True when it changed (or would)."""
    from stage2_lint import safe_write
    from stage2_lint.document import load_bytes
    from stage2_lint.fix import fix_moved, moves_of

    snap = safe_write.snapshot(path, settings.limits.max_bytes)
    if snap.data is None:
        return False
    result = fix_moved(load_bytes(snap.data, path, settings.limits), moves_of(settings.contract_for(path)))
    if result.problem:
        print(f"{printable(path)}:{result.line}:{result.col}: S2L030 not fixed: {result.problem}", file=sys.stderr)
    if not result.changed:
        return False
    if write:
        safe_write.replace(snap, snap.encode(result.new), settings.config_root(path))
    else:
        _print_diff(path, result.old, result.new)
    return True


def _print_diff(path: str, old: str, new: str) -> None:
    """A unified diff; paths and lines escaped (tabs kept), line ends as in the file."""
    import difflib

    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=f"a/{path}", tofile=f"b/{path}"):
        body = line.rstrip("\r\n")
        sys.stdout.write(printable(body, keep_tabs=True) + line[len(body):])


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
        print(printable(f"stage2-lint flatten: {args.leaf}: {result.problem}"), file=sys.stderr)
        return 1
    if args.diff:
        _print_diff(result.path, _text_of(result.path), result.text)
    else:
        print(printable(f"stage2-lint flatten: wrote {result.path} (resolved values unchanged)"), file=sys.stderr)
    return 0


def _text_of(path: str) -> str:
    """What a file holds now, for the old side of a diff ("" when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8-sig", "replace")
    except FileNotFoundError:
        return ""


def _resolved_or_error(path: str):
    from stage2_lint.hierarchy import Resolver

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    resolver = Resolver(find_settings())
    resolved = resolver.resolve(path)
    if resolved is None:
        problems = as_violations(path, resolver.problems(path))
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


def _schema_command(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="stage2-lint schema",
        description="Export a contract's JSON Schema file from the typed config classes it names "
                    "(schema_source), or check that the committed file is current (exit 1 with a diff if not).")
    parser.add_argument("action", choices=("export", "check"))
    parser.add_argument("--contract", metavar="NAME",
                        help="one contract (default: every contract with a schema_source)")
    parser.add_argument("--config", metavar="PATH", help="read settings from this file only")
    args = parser.parse_args(argv)
    from stage2_lint import safe_write, schema_export

    settings = read_settings_file(args.config) if args.config else find_settings()
    contracts = [c for c in (settings or Settings()).contracts if args.contract in (None, c.name)]
    if args.contract and not contracts:
        raise UsageError(f"no contract named {args.contract} (see stage2-lint --show-settings)")
    stale = 0
    for contract in contracts:
        if not contract.schema_source or not contract.schema:
            if args.contract:
                raise UsageError(f"contract {contract.name} needs both schema and schema_source to export")
            continue
        try:
            cls = schema_export.load_source(contract.schema_source, settings.project_dir)
            text = schema_export.render(schema_export.export(cls, f"{contract.name} training profile"))
        except schema_export.ExportError as error:
            raise UsageError(str(error))
        current = _text_of(contract.schema)
        if current == text:
            continue
        shown_path = os.path.relpath(contract.schema)
        if args.action == "check":
            stale += 1
            print(f"stage2-lint schema: {printable(shown_path)} is stale; run: stage2-lint schema export "
                  f"--contract {contract.name}", file=sys.stderr)
            _print_diff(shown_path, current, text)
            continue
        try:
            safe_write.replace(safe_write.snapshot(contract.schema), text.encode("utf-8"),
                               os.path.dirname(contract.schema))
        except safe_write.WriteRefused as why:
            print(printable(f"stage2-lint schema: {shown_path} was not written: {why}"), file=sys.stderr)
            return 1
        print(printable(f"stage2-lint schema: wrote {shown_path}"), file=sys.stderr)
    return 1 if stale else 0


def _graph_command(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="stage2-lint graph",
        description="Draw the extends hierarchy: files as nodes (keys set, errors, warnings), extends as edges; "
                    "canonical leaves, required and retired parents, errors, cycles and missing parents styled apart.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories to start from (default: the canonical surface)")
    parser.add_argument("--format", choices=("mermaid", "dot", "json"), default="mermaid")
    parser.add_argument("--contract", metavar="NAME", help="only this contract's canonical surface")
    parser.add_argument("--config", metavar="PATH", help="read settings from this file only")
    args = parser.parse_args(argv)
    from stage2_lint import graph

    args.isolated = False
    settings = _settings(args)
    if args.contract:
        chosen = [c for c in settings.contracts if c.name == args.contract]
        if not chosen:
            raise UsageError(f"no contract named {args.contract} (see stage2-lint --show-settings)")
        settings = settings._replace(contracts=tuple(chosen))
    report = lint_paths(args.paths, settings)
    counts: dict = {}
    for v in report.violations:
        counts.setdefault(v.path, [0, 0])[0 if v.is_error else 1] += 1
    drawn = graph.build(report.files, settings, {path: tuple(pair) for path, pair in counts.items()})
    sys.stdout.write(graph.RENDERERS[args.format](drawn))
    return 0


SUBCOMMANDS = {"flatten": _flatten_command, "resolve": _resolve_command, "diff": _diff_command,
               "schema": _schema_command, "graph": _graph_command}
