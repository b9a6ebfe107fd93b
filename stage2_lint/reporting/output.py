"""Report formats: text (one ``path:line:col: CODE message`` a line), json, github, sarif,
markdown. Each is a function of one ``records.Run`` and reads no file; the text format
imports nothing more (the rule registry is loaded only by a format that names rules).

Every text field of a violation is escaped and bounded (``Violation.printable``) before any
format sees it, so no key name, value or file name can forge a line or drive a terminal.

JSON schema (version 1): ``{"version": 1, "files_checked": int, "errors": int,
"warnings": int, "violations": [{"path", "line", "col", "code", "name", "severity",
"message", "key_path", "fix"}]}``; violations sorted by path, line, col, code.
"""
from __future__ import annotations

import os
from collections.abc import Callable

from stage2_lint import __version__
from stage2_lint.core.escape import MESSAGE_LIMIT, clip, markdown_literal, printable
from stage2_lint.core.records import Report, Run, Violation


def text(run: Run, colour: bool = False) -> str:
    """``path:line:col: CODE message`` a line; a warning says so (``CODE [warning] message``).
    ``colour``: the code in red (error) or yellow (warning), the location bold, as ruff does."""
    escaped: dict[str, str] = {}  # a tree's paths and messages repeat: each is escaped once

    def once(text: str, limit: int) -> str:
        found = escaped.get(text)
        if found is None:
            found = escaped[text] = printable(clip(text, limit))
        return found

    return "".join(_text_line(violation, colour, once) for violation in run.report.violations)


_BOLD, _RED, _YELLOW, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[0m"


def _text_line(violation: Violation, colour: bool, escaped) -> str:
    where = f"{escaped(violation.path, 1 << 30)}:{violation.line}:{violation.col}:"
    code = violation.code if violation.is_error else f"{violation.code} [warning]"
    if colour:
        where, code = f"{_BOLD}{where}{_RESET}", f"{_RED if violation.is_error else _YELLOW}{code}{_RESET}"
    return f"{where} {code} {escaped(violation.message, MESSAGE_LIMIT)}\n"


def use_colour(stream, environ=os.environ) -> bool:
    """Colour on a terminal; ``NO_COLOR`` (set and not empty) turns it off, ``FORCE_COLOR``
    turns it on elsewhere (no-color.org, force-color.org); NO_COLOR wins when both are set."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and environ.get("TERM") != "dumb"


def as_json(run: Run) -> str:
    report = run.report
    import json

    return json.dumps({
        "version": 1,
        "files_checked": len(report.files),
        "errors": report.errors,
        "warnings": len(report.violations) - report.errors,
        "violations": [_record(v.printable()) for v in report.violations],
    }, indent=2) + "\n"


def _record(v: Violation) -> dict:
    from stage2_lint.checking.rules import BY_CODE  # the registry, only for a format that names rules

    rule = BY_CODE.get(v.code)
    return {"path": v.path, "line": v.line, "col": v.col, "code": v.code, "name": rule.name if rule else None,
            "severity": v.severity, "message": v.message, "key_path": v.key_path, "fix": v.fix}


def github(run: Run) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=L,col=C,title=CODE::message``."""
    report = run.report
    lines = []
    for v in map(Violation.printable, report.violations):
        fields = (("file", v.path), ("line", v.line), ("col", v.col), ("title", v.code))
        properties = ",".join(f"{name}={_escape_property(str(value))}" for name, value in fields)
        lines.append(f"::{v.severity} {properties}::{_escape_data(v.message)}\n")
    return "".join(lines)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _artifact(path: str) -> dict:
    """A SARIF artifactLocation: a percent-encoded URI reference relative to the working
    directory (``uriBaseId`` SRCROOT), or an absolute file URI for a path outside it. The
    path's own bytes are encoded, so undecodable names and ``#``, ``?``, ``%`` survive."""
    import os
    from urllib.parse import quote

    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": "file://" + quote(os.fsencode(absolute.replace(os.sep, "/")), safe="/")}
    return {"uri": quote(os.fsencode(relative.replace(os.sep, "/")), safe="/"), "uriBaseId": "SRCROOT"}


def _srcroot() -> dict:
    import os
    from urllib.parse import quote

    return {"SRCROOT": {"uri": "file://" + quote(os.fsencode(os.getcwd().replace(os.sep, "/").rstrip("/") + "/"),
                                                 safe="/")}}


def sarif(run: Run) -> str:
    from stage2_lint.checking.rules import REGISTRY

    report = run.report
    index = {rule.code: position for position, rule in enumerate(REGISTRY)}
    results = [{
        "ruleId": v.code,
        "ruleIndex": index[v.code],
        "level": "error" if v.is_error else "warning",
        "message": {"text": v.printable_message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(v.path),
            "region": {"startLine": v.line, "startColumn": v.col},
        }}],
    } for v in report.violations if v.code in index]
    rules = [{
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": f"{rule.summary}\n\nWhy: {rule.rationale}\n\nFix: {rule.fix}"},
        "defaultConfiguration": {"level": "error" if rule.severity == "error" else "warning"},
    } for rule in REGISTRY]
    import json

    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "stage2-lint", "version": __version__, "rules": rules}},
            "originalUriBaseIds": _srcroot(),
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"


# The markdown summary's bounds: it must fit a CI job summary or a pull-request comment.
MAX_ROWS = 200
MAX_GRAPH_NODES = 60
MAX_CHARS = 60_000


def markdown(run: Run) -> str:
    """A summary for ``$GITHUB_STEP_SUMMARY`` or a PR comment: counts per rule, the violations
    as a table linking to ``path#Lline``, and the extends graph in Mermaid (a big tree
    collapses to counts per directory). Bounded in size whatever the report holds."""
    report = run.report
    warnings = len(report.violations) - report.errors
    out = ["## stage2-lint", "",
           f"{_count(len(report.files), 'file')} checked: **{_count(report.errors, 'error')}**, "
           f"{_count(warnings, 'warning')}.", ""]
    if report.violations:
        out += _rule_counts(report) + [""] + _violation_rows(report) + [""]
    out += _graph_section(run.graph)
    return "\n".join(out) + "\n"


def _rule_counts(report: Report) -> list:
    from stage2_lint.checking.rules import BY_CODE

    counts: dict[str, int] = {}
    for v in report.violations:
        counts[v.code] = counts.get(v.code, 0) + 1
    rows = ["| rule | name | count |", "| --- | --- | ---: |"]
    for code in sorted(counts):
        rule = BY_CODE.get(code)
        rows.append(f"| {code} | {rule.name if rule else ''} | {counts[code]} |")
    return rows


def _violation_rows(report: Report) -> list:
    from urllib.parse import quote

    rows, size = ["| where | rule | message |", "| --- | --- | --- |"], 0
    for shown_count, v in enumerate(report.violations):
        if shown_count == MAX_ROWS or size > MAX_CHARS // 2:
            rows.append(f"| ... | | {len(report.violations) - shown_count} more; run `stage2-lint` for all |")
            break
        link = _link(v.path, v.line, quote)
        where = f"[{markdown_literal(v.path)}:{v.line}:{v.col}]({link})"
        row = f"| {where} | {v.code} | {markdown_literal(clip(v.message, 300))} |"
        rows.append(row)
        size += len(row)
    return rows


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _link(path: str, line: int, quote) -> str:
    """``path#Lline``; on GitHub Actions an absolute blob link at the commit, since a job
    summary page would resolve a relative one under /actions/runs/..."""
    server, repository, sha = (os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                                 "GITHUB_SHA"))
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    relative = os.path.relpath(os.path.abspath(path), workspace).replace(os.sep, "/")
    encoded = quote(os.fsencode(relative), safe="/")
    if server and repository and sha and not relative.startswith("../"):
        return f"{server}/{quote(repository, safe='/')}/blob/{quote(sha)}/{encoded}#L{line}"
    return f"{quote(os.fsencode(path.replace(os.sep, '/')), safe='/')}#L{line}"


def _graph_section(drawn) -> list:
    """The run's extends graph (a ``tree.graph.Graph``), drawn in Mermaid or counted."""
    if drawn is None or not drawn.nodes:
        return []
    from stage2_lint.reporting.pictures import to_mermaid

    if len(drawn.nodes) <= MAX_GRAPH_NODES:
        return ["### extends hierarchy", "", "```mermaid", to_mermaid(drawn).rstrip("\n"), "```"]
    by_directory: dict[str, list] = {}
    for node in drawn.nodes:
        entry = by_directory.setdefault(os.path.dirname(node.label) or ".", [0, 0, 0])
        entry[0] += 1
        entry[1] += node.errors
        entry[2] += node.warnings
    rows = ["### extends hierarchy", "",
            f"{len(drawn.nodes)} files: too many to draw here (`stage2-lint graph --format dot` draws them all); "
            f"counts per directory:", "", "| directory | files | errors | warnings |", "| --- | ---: | ---: | ---: |"]
    rows += [f"| {markdown_literal(name)} | {files} | {errors} | {warns} |"
             for name, (files, errors, warns) in sorted(by_directory.items())[:MAX_ROWS]]
    return rows


FORMATS: dict[str, Callable[[Run], str]] = {"text": text, "json": as_json, "github": github, "sarif": sarif,
                                            "markdown": markdown}
SHOWS_GRAPH = frozenset({"markdown"})  # formats that need the run's extends graph (``lint_run(with_graph=True)``)
