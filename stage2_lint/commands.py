"""What each ``stage2-lint`` command does; ``cli`` parses the command line and calls these.

Every handler takes the parsed arguments and returns the exit code: 0 clean, 1 violations
(or a refused write, or a difference), 2 usage errors (raised as ``UsageError``).
"""
from __future__ import annotations

import os
import sys

from stage2_lint.core import paths
from stage2_lint.core.escape import printable
from stage2_lint.core.records import UsageError
from stage2_lint.contracts.settings import Settings, find_settings, read_settings_file, settings_for

# The engine, the rules and the tree are imported where a command uses them: a check that the
# run memo answers (``checking.run_memo``) needs none of them, nor PyYAML, and every commit's
# hook pays for each import.


def check(args) -> int:
    """Lint (the default command); ``--fix``/``--diff``, ``--list-rules`` and ``--explain``
    are kept as the older spellings of the ``fix``, ``rules`` and ``explain`` commands."""
    if args.list_rules:
        return rules(args)
    if args.explain:
        args.code = args.explain
        return explain(args)
    settings = _settings(args)
    if args.show_settings:
        sys.stdout.write(_describe_settings(settings))
        return 0
    from stage2_lint.reporting.output import FORMATS, SHOWS_GRAPH

    with_graph = args.format in SHOWS_GRAPH
    cache = _cache(args, settings)
    run = _recalled(args, settings, cache) if not (args.fix or args.diff or with_graph) else None
    refused = 0
    if run is None:
        from stage2_lint.checking.engine import lint_run, select_rules

        chosen = select_rules(settings, args.select, args.ignore)
        if args.fix or args.diff:
            pending, refused = _fix(args.paths, settings, write=not args.diff)
            if args.diff:
                return 1 if pending or refused else 0
        if "-" in args.paths:
            run = _lint_stdin(args, settings, chosen, with_graph)
        else:
            run = lint_run(args.paths, settings, chosen, with_dependents=args.with_dependents, jobs=args.jobs,
                           with_surface=args.with_surface, cache=cache, with_graph=with_graph)
    report = run.report
    if args.format == "text":
        from stage2_lint.reporting.output import text, use_colour

        sys.stdout.write(text(run, colour=use_colour(sys.stdout)))
    else:
        sys.stdout.write(FORMATS[args.format](run))
    for empty in report.empty:  # never a vacuous pass
        print(printable(f"stage2-lint: {empty}"), file=sys.stderr)
    if args.statistics:
        sys.stderr.write(_statistics(report))
    if not args.quiet:
        for note in report.skipped:
            print(printable(f"stage2-lint: skipped {note}"), file=sys.stderr)
        print(printable(_summary(report)), file=sys.stderr)
        if report.ungoverned:
            print(printable(_ungoverned_notice(report, settings)), file=sys.stderr)
    code = max(report.exit_code, 1 if refused else 0, 1 if args.strict and report.violations else 0)
    return 0 if args.exit_zero else code


def _cache(args, settings: Settings):
    """The result cache of the run (None: ``--no-cache``, standard input, or none configured)."""
    if args.no_cache or "-" in args.paths:
        return None
    from stage2_lint.checking.cache import ResultCache, rule_choice

    return ResultCache.open(settings, rule_choice(args.select, args.ignore))


def _recalled(args, settings: Settings, cache):
    """The run memo's report of this very request, before the engine or PyYAML is imported."""
    if cache is None:
        return None
    from stage2_lint.checking import run_memo
    from stage2_lint.core.records import Run

    report = run_memo.recall(cache, run_memo.request_of(args.paths, args.with_dependents, args.with_surface))
    return None if report is None else Run(report, settings)


def _lint_stdin(args, settings: Settings, chosen, with_graph: bool):
    """``-``: standard input, as the file ``--stdin-filename`` names (ruff's convention)."""
    from stage2_lint.checking.engine import lint_text

    if args.paths != ["-"]:
        raise UsageError("- (standard input) must be the only path")
    path = args.stdin_filename or "<stdin>"
    data = sys.stdin.buffer.read(settings.limits.max_bytes + 1)  # the parser refuses what is over the limit
    return lint_text(path, data, settings, chosen, with_graph)


def _statistics(report) -> str:
    """A count per rule, most frequent first, as ruff's --statistics prints it."""
    from stage2_lint.checking.rules import BY_CODE

    counts: dict = {}
    for violation in report.violations:
        counts[violation.code] = counts.get(violation.code, 0) + 1
    return "".join(f"{count:>6}  {code}  {BY_CODE[code].name}\n"
                   for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def fix(args) -> int:
    """Move keys under a contract's moved prefixes (S2L030), or with --diff show the change."""
    settings = _settings(args)
    pending, refused = _fix(args.paths, settings, write=not args.diff)
    if args.diff:
        return 1 if pending or refused else 0
    return 1 if refused else 0


def rules(args) -> int:
    from stage2_lint.checking.rules import REGISTRY

    for rule in REGISTRY:
        print(f"{rule.code}  {rule.name:<26} {rule.severity:<8} {rule.summary}")
    return 0


def explain(args) -> int:
    """A rule's summary, rationale and fix, then each failing example with its fixed form
    (ruff's "use instead"), and the other examples that pass."""
    from stage2_lint.checking.rules import BY_CODE

    rule = BY_CODE.get(args.code.upper())
    if rule is None:
        raise UsageError(f"unknown rule {args.code} (see stage2-lint rules)")
    print(f"{rule.code} {rule.name} ({rule.severity})\n\n{rule.summary}\n\nWhy: {rule.rationale}\n\nFix: {rule.fix}")
    for example in rule.failing:
        where = f" at {', '.join(example.marks)}" if example.marks else ""
        print(f"\nThis fails ({example.path}{where}):")
        print(_indented(example.text), end="")
        repaired = example.repaired()
        where = f" at {repaired.path}" if repaired.path != example.path else ""
        changed = sorted(name for name, text in repaired.files.items() if example.files.get(name) != text)
        print(f"\nUse instead{where}:" if not changed else f"\nUse instead, with {', '.join(changed)} changed:")
        print(_indented(repaired.text), end="")
        for name in changed:
            print(f"  {name}:")
            print(_indented(repaired.files[name]), end="")
    for example in rule.passing:
        print(f"\nThis passes ({example.path}):")
        print(_indented(example.text), end="")
    _explain_settings(rule, find_settings(os.getcwd()))
    return 0


def _explain_settings(rule, settings: Settings) -> None:
    """What the rule looks for comes from settings: as the example contract sets them, and as
    the repository around the working directory does (its contracts are one more example)."""
    from stage2_lint.checking.rules.shared_examples import EXAMPLE_SETTINGS
    from stage2_lint.contracts.settings import BY_NAME, LIMIT_FIELDS

    if not rule.settings:
        return
    print(f"\nWhat it looks for is set by: {', '.join(rule.settings)}. The examples run under:")
    print(_indented(_settings_lines(EXAMPLE_SETTINGS, rule.settings)), end="")
    if settings.source is None:
        return
    limits = dict(LIMIT_FIELDS)
    engine = [(name, getattr(settings.limits, limits[name]) if name in limits else getattr(settings, name))
              for name in rule.settings if ("engine", name) in BY_NAME]
    sections = [("[stage2_lint]", engine)] + [
        (f"[stage2_lint.contract.{contract.name}]",
         [(name, getattr(contract, name)) for name in rule.settings if ("contract", name) in BY_NAME])
        for contract in settings.contracts]
    lines = [line for header, values in sections if values
             for line in [header] + [_setting_line(name, value, None).partition("    #")[0] for name, value in values]]
    print(f"\nIn this repository ({os.path.relpath(settings.source)}):")
    print(_indented("\n".join(lines)), end="")


def _settings_lines(text: str, names) -> str:
    """The lines of a settings text that set one of ``names``, with their continuation lines."""
    kept, keeping = [], False
    for line in text.splitlines():
        if line[:1].isspace():
            if keeping:
                kept.append(line)
            continue
        keeping = line.partition("=")[0].strip() in names
        if keeping:
            kept.append(line)
    return "\n".join(kept)


def _indented(text: str) -> str:
    return "".join(f"    {printable(line, keep_tabs=True)}\n" for line in text.splitlines())


def flatten(args) -> int:
    from stage2_lint.editing.flatten import flatten as flatten_leaf

    if not os.path.isfile(args.leaf):
        raise UsageError(f"{args.leaf}: no such file")
    result = flatten_leaf(args.leaf, settings_for(args.leaf), onto=args.onto, output=args.output,
                          write=not args.diff, change_dependents=args.change_dependents)
    if result.problem:
        print(printable(f"stage2-lint flatten: {args.leaf}: {result.problem}"), file=sys.stderr)
        return 1
    if args.diff:
        _print_diff(result.path, _text_of(result.path), result.text)
    else:
        also = f"; {len(result.changed)} profile(s) extending it now resolve differently: " \
            f"{', '.join(result.changed)}" if result.changed else ""
        print(printable(f"stage2-lint flatten: wrote {result.path} (its resolved values unchanged{also})"),
              file=sys.stderr)
    return 0


def resolve(args) -> int:
    from stage2_lint.reporting import audit

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


def diff(args) -> int:
    from stage2_lint.reporting import audit

    found = audit.differences(_resolved_or_error(args.profile_a), _resolved_or_error(args.profile_b))
    if args.format == "json":
        sys.stdout.write(audit.render({"a": args.profile_a, "b": args.profile_b, "differences": found}, "json"))
    else:
        sys.stdout.write(audit.diff_text(found))
    return 1 if found else 0


def graph(args) -> int:
    from stage2_lint.checking.engine import lint_paths
    from stage2_lint.reporting.pictures import RENDERERS
    from stage2_lint.tree import graph as hierarchy_graph
    from stage2_lint.tree.resolver import Resolver

    settings = _settings(args)
    if args.contract:
        settings = settings._replace(contracts=(_contract(settings, args.contract),))
    resolver = Resolver(settings)
    report = lint_paths(args.paths, settings, resolver=resolver)
    drawn = hierarchy_graph.build(report.files, settings, hierarchy_graph.counts(report.violations), resolver)
    # A parent the chains reach but nobody listed is linted too: a broken file is never drawn clean.
    linted = {paths.canonical(path) for path in report.files}
    reached = [node.path for node in drawn.nodes if paths.canonical(node.path) not in linted
               and os.path.isfile(node.path)]
    if reached:
        more = lint_paths(reached, settings, resolver=resolver)
        drawn = hierarchy_graph.build(report.files, settings,
                                      hierarchy_graph.counts(report.violations + more.violations), resolver)
    sys.stdout.write(RENDERERS[args.format](drawn))
    return 0


def schema(args) -> int:
    """``schema export`` writes each contract's schema file from its typed source;
    ``schema check`` exits 1 with a diff for each committed file that is stale."""
    from stage2_lint.core import safe_write
    from stage2_lint.contracts import schema_export
    from stage2_lint.core.source_import import standing_in

    settings = _settings(args)
    contracts = [_contract(settings, args.contract)] if args.contract else list(settings.contracts)
    stale = 0
    for contract in contracts:
        if not contract.schema_source or not contract.schema:
            if args.contract:
                raise UsageError(f"contract {contract.name} needs both schema and schema_source to export")
            continue
        try:
            with standing_in(contract.schema_stand_ins):
                cls = schema_export.source_class(contract.schema_source, settings.project_dir)
                bound = {section: schema_export.source_class(spec, settings.project_dir, "section_classes")
                         for section, spec in contract.section_classes}
                text = schema_export.render(schema_export.export(cls, f"{contract.name} training profile", bound,
                                                                 contract.catch_all))
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
        try:  # inside the project: no symlinked directory leads the write elsewhere
            safe_write.ensure_directory(os.path.dirname(contract.schema), settings.project_dir)
            safe_write.replace(safe_write.snapshot(contract.schema), text.encode("utf-8"), settings.project_dir)
        except safe_write.WriteRefused as why:
            print(printable(f"stage2-lint schema: {shown_path} was not written: {why}"), file=sys.stderr)
            return 1
        print(printable(f"stage2-lint schema: wrote {shown_path}"), file=sys.stderr)
    return 1 if stale else 0


def _contract(settings: Settings, name: str):
    for contract in settings.contracts:
        if contract.name == name:
            return contract
    raise UsageError(f"no contract named {name} (see stage2-lint --show-settings)")


def _settings(args) -> Settings:
    """--isolated: none; --config: that file; else the nearest settings file above the first
    path (or the working directory), so a profile gets its own repository's contracts."""
    if getattr(args, "isolated", False):
        return Settings(project_dir=os.getcwd())
    if args.config:
        if not os.path.isfile(args.config):
            raise UsageError(f"--config {args.config}: no such file")
        found = read_settings_file(args.config)
        if found is None:
            raise UsageError(f"--config {args.config}: no [stage2_lint] or [stage2_lint.contract.NAME] section")
        return found
    named = getattr(args, "paths", None) or ["."]
    if named == ["-"]:  # standard input: the settings of the file it stands for
        named = [getattr(args, "stdin_filename", None) or "."]
    return find_settings(named[0]) if os.path.isdir(named[0]) else settings_for(named[0])


def _describe_settings(settings: Settings) -> str:
    from stage2_lint.contracts.settings import DECLARED, LIMIT_FIELDS

    origins = dict(settings.origins)
    lines = [f"# settings file: {settings.source or '(none: defaults, no contract)'}",
             f"# project: {settings.project_dir}", "[stage2_lint]"]
    engine = {**settings._asdict(), **{name: getattr(settings.limits, field) for name, field in LIMIT_FIELDS}}
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


def _setting_line(name: str, value, origin: str | None) -> str:
    if isinstance(value, tuple):
        value = ", ".join(str(item) if not isinstance(item, tuple)
                          else f"{item[0]}: {','.join(item[1])}" if isinstance(item[1], tuple)  # per-file ignores
                          else f"{item[0]} -> {item[1]}" if name != "severity" else f"{item[0]}: {item[1]}"
                          for item in value)
    return f"{name} = {value}    # {origin or 'default'}"


def _fix(named, settings, write: bool) -> tuple[int, int]:
    """Apply (or, with ``write=False``, show as a diff) every S2L030 relocation, file by
    file: a file that cannot be written safely is refused and the run goes on. Returns how
    many files changed (or would change) and how many were refused or could not be fixed."""
    from stage2_lint.checking.engine import discover
    from stage2_lint.core.safe_write import WriteRefused

    changed: list[str] = []
    refused: list[tuple[str, str]] = []
    unfixed = 0
    for path in discover(named, settings):
        try:
            outcome = _fix_one(path, settings, write)
        except WriteRefused as why:
            refused.append((path, str(why)))
            continue
        changed += [path] if outcome == CHANGED else []
        unfixed += outcome == NOT_FIXED
    if write and changed:
        print(f"stage2-lint: fixed {len(changed)} file(s): {', '.join(map(printable, changed))}", file=sys.stderr)
    if refused:
        print(f"stage2-lint: refused {len(refused)} file(s), left as they were:", file=sys.stderr)
        for path, why in refused:
            print(f"  {printable(path)}: {why}", file=sys.stderr)
    return len(changed), len(refused) + unfixed


CHANGED, NOT_FIXED = "changed", "not fixed"


def _fix_one(path: str, settings, write: bool) -> str | None:
    """Relocate one file's moved keys: CHANGED when it changed (or would), NOT_FIXED when a
    move was refused (said on stderr, the file left alone), None when there was nothing to do."""
    from stage2_lint.checking.rules.s2l030_moved_key import RULE as MOVED
    from stage2_lint.core import safe_write
    from stage2_lint.tree import layout
    from stage2_lint.documents.document import load_bytes
    from stage2_lint.editing.fix import fix_moved, moves_for

    snap = safe_write.snapshot(path, settings.limits.max_bytes)
    if snap.data is None:
        return None
    result = fix_moved(load_bytes(snap.data, path, settings.limits), moves_for(settings, path))
    if result.problem:
        print(printable(f"{path}:{result.line}:{result.col}: {MOVED.code} not fixed: {result.problem}"),
              file=sys.stderr)
        return NOT_FIXED
    if not result.changed:
        return None
    if write:
        safe_write.replace(snap, snap.encode(result.new), layout.config_root(settings, path))
    else:
        _print_diff(path, result.old, result.new)
    return CHANGED


def _print_diff(path: str, old: str, new: str) -> None:
    """A unified diff; paths and lines escaped (tabs kept), line ends as in the file."""
    import difflib

    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=f"a/{path}", tofile=f"b/{path}"):
        body = line.rstrip("\r\n")
        sys.stdout.write(printable(body, keep_tabs=True) + line[len(body):])


def _summary(report) -> str:
    warnings = len(report.violations) - report.errors
    files = _count(len(report.files), "file")
    # how many verdicts came from the result cache (nothing they read has changed since)
    cached = f" ({report.cached} from the cache)" if report.cached else ""
    if not report.violations:
        line = f"stage2-lint: {files} checked{cached}, no violations"
    else:
        line = f"stage2-lint: {report.errors} error(s), {warnings} warning(s) in {files}{cached}"
    return line


def _ungoverned_notice(report, settings: Settings | None) -> str:
    """Never a silent "no contract": say how many files got the generic rules only, and why."""
    why = ("no settings file with a [stage2_lint] section was found" if settings is None or settings.source is None
           else "no contract's scope covers them" if settings.contracts else f"{settings.source} declares no contract")
    governed = "are governed" if len(report.ungoverned) != 1 else "is governed"
    return f"stage2-lint: {_count(len(report.ungoverned), 'file')} {governed} by no contract ({why}): " \
           f"generic rules only"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _text_of(path: str) -> str:
    """What a file holds now, for the old side of a diff ("" when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8-sig", "replace")
    except FileNotFoundError:
        return ""


def _resolved_or_error(path: str):
    from stage2_lint.checking.rules import as_violations
    from stage2_lint.tree.resolver import Resolver

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    resolver = Resolver(settings_for(path))
    resolved = resolver.merge.resolve(path)
    if resolved is None:
        problems = as_violations(path, resolver.extends.problems(path))
        raise UsageError(f"{path} cannot be resolved:\n" + "\n".join(v.format() for v in problems))
    return resolved
