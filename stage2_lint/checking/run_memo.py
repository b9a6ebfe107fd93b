"""The run memo: a whole run's report, recalled while nothing the run looked at has changed.

The result cache (``cache``) answers file by file, and a warm run still walks the tree,
reads and digests every input and loads every entry. A repeated request (the same paths and
options, under the cache's salt: settings, schemas, rules, tool and working directory) is
answered here by ``lstat`` alone, as git's index answers ``git status``:

- the record holds the signature (``witness.signature``) of every path the run consulted:
  each file a verdict read or looked for, each directory a walk listed, each path named, and
  every directory above them (in full inside the project, where a new ``.git`` or a
  retargeted symlink changes a file's place; above the project only which directory it is);
- it is used only if every signature is unchanged: any write, rename, new or deleted file
  wherever the run looked sends the run through the result cache again;
- racy-clean rule: a record is written only when every time in it is older than the run's
  start by ``SETTLE_NS``, so a file changed during the run, or within one tick of the file
  system's clock before it, is never trusted by its signature;
- the record is named and authenticated with the user's secret, as every cache entry is: a
  planted or committed record is ignored, and so is one that is damaged.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence

from stage2_lint.core import paths, witness
from stage2_lint.core.records import Report, Violation

SETTLE_NS = 2_000_000_000  # FAT's 2-second timestamps are the coarsest in common use
MAX_RECORDS = 32  # requests kept (each hook run over other files is another request)
PREFIX = "run-"


def request_of(named: Sequence[str], with_dependents: bool, with_surface: bool) -> list:
    """What a run was asked, beyond the salt: its paths as spelled (they are shown so) and
    what it adds to them. ``jobs`` is not part of it: a parallel run reports the same."""
    return [list(named), bool(with_dependents), bool(with_surface)]


def recall(cache, request: list) -> Report | None:
    """The report of the last run of ``request``, if nothing it looked at has changed (asked
    once a run: the command line asks before it imports the engine, the engine asks again)."""
    name = _name(cache, request)
    if name not in cache.recalled:
        cache.recalled[name] = _recalled(cache.read_record(name), request)
    return cache.recalled[name]


def _recalled(data, request: list) -> Report | None:
    try:
        if data is None or data["request"] != request:
            return None
        for path, recorded in data["looked"]:
            current = witness.identity(path) if recorded is not None and len(recorded) == 3 \
                else witness.signature(path)
            if current != recorded:
                return None
        strings, rows, files, skipped, empty, ungoverned = data["report"]
        return Report(_violations(strings, rows), tuple(files), tuple(skipped), tuple(empty), tuple(ungoverned),
                      len(files))
    except (TypeError, ValueError, KeyError, IndexError):
        return None


def remember(cache, request: list, report: Report, seen: witness.Seen) -> None:
    """Record ``report`` with the signature of everything the run looked at, unless a verdict
    is the machine's (a file that could not be read) or something it looked at is too recent."""
    from stage2_lint.checking.rules.s2l004_unsafe_yaml import RULE as UNSAFE  # (recall needs no rule)

    if any(violation.code == UNSAFE.code for violation in report.violations):
        return
    if not cache.make_directory():  # first: making it changes the project directory the record may hold
        return
    looked = _signatures(seen, cache.project_dir)
    before = cache.started_ns - SETTLE_NS
    if not all(witness.settled(found, before) for found in looked.values()):
        return
    strings, rows = _table(report.violations)
    text = json.dumps({"request": request, "looked": list(looked.items()),
                       "report": [strings, rows, report.files, report.skipped, report.empty, report.ungoverned]},
                      separators=(",", ":"))
    if cache.write_record(_name(cache, request), text):
        _prune(cache.directory)


def _signatures(seen: witness.Seen, project_dir: str) -> dict[str, witness.Signature]:
    """The signature of each path seen, and of every directory above it: in full at and below
    the project directory (and for a path outside it), else its identity only."""
    looked: dict[str, witness.Signature] = {path: witness.signature(path) for path in seen.paths}
    full_above: dict[str, bool] = {}
    for path in seen.paths:
        outside = not paths.inside(path, project_dir)
        for directory in witness.ancestors(path):
            full = outside or paths.inside(directory, project_dir)
            if directory in full_above and (full_above[directory] or not full):
                break  # recorded as strongly already, and so is every directory above it
            full_above[directory] = full
            if directory not in seen.paths:
                looked[directory] = witness.signature(directory) if full else witness.identity(directory)
    return looked


# A violation is stored as eight numbers: its line and column, and the place in one table of
# strings of each text field (-1 for none). A tree's paths, codes, fixes and most messages
# repeat, so the record is a fraction of the report's size and loads in a fraction of its time.
_TEXT_FIELDS = (0, 3, 4, 5, 6, 7)  # path, code, message, key_path, severity, fix


def _table(violations) -> tuple:
    places: dict[str, int] = {}
    rows = []
    for violation in violations:
        row = list(violation)
        for field in _TEXT_FIELDS:
            value = row[field]
            row[field] = -1 if value is None else places.setdefault(value, len(places))
        rows.extend(row)
    return list(places), rows


def _violations(strings: list, rows: list) -> tuple:
    """(a sealed record is this tool's own writing: only its shape is checked)"""
    if len(rows) % 8:
        raise ValueError("a damaged record")
    text = strings + [None]  # place -1: none
    fields = iter(rows)
    make = Violation._make
    return tuple(make((text[path], line, col, text[code], text[message], text[key_path], text[severity], text[fix]))
                 for path, line, col, code, message, key_path, severity, fix in zip(*[fields] * 8))


def _name(cache, request: list) -> str:
    return PREFIX + cache.keyed(json.dumps(request)) + ".json"


def _prune(directory: str) -> None:
    """Keep the newest ``MAX_RECORDS`` records (unlink removes a symlink planted among them,
    never what it leads to)."""
    try:
        with os.scandir(directory) as entries:
            records = sorted((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name) for entry in entries
                             if entry.name.startswith(PREFIX))
        for _, name in records[:-MAX_RECORDS]:
            os.unlink(os.path.join(directory, name))
    except OSError:
        pass
