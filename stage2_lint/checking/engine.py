"""Runs the registry's rules over files: discovery, selection, suppressions, ordering."""
from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Sequence

from stage2_lint.core import globs, paths, witness
from stage2_lint.documents import suppressions
from stage2_lint.documents.document import load_bytes
from stage2_lint.tree.hierarchy import canonical_files
from stage2_lint.tree.resolver import Resolver
from stage2_lint.core.records import (  # noqa: F401 - the errors and Run are the engine's API too
    Report, Run, SchemaError, SettingsError, Terminated, UnreadableDirectory, UsageError, Violation, WorkerDied)
from stage2_lint.checking.rule import FileContext, Rule
from stage2_lint.checking.rules import YAML_RULES
from stage2_lint.contracts.settings import Settings, saw_listing
from stage2_lint.tree import layout
from stage2_lint.core.lazy import LazyModule

# Only a run with a result cache needs these; one without (``--no-cache``, no settings file) never does.
run_memo = LazyModule("stage2_lint.checking.run_memo")
results = LazyModule("stage2_lint.checking.cache")

YAML_SUFFIXES = (".yaml", ".yml")


def select_rules(settings: Settings, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> tuple[Rule, ...]:
    """Rules whose code starts with a selected prefix (all by default) and no ignored one."""
    chosen = tuple(code.upper() for code in (select or settings.select))
    dropped = tuple(code.upper() for code in (*settings.ignore, *ignore))
    unknown = [code for code in (*chosen, *dropped) if not any(rule.code.startswith(code) for rule in YAML_RULES)]
    if unknown:
        raise UsageError(f"no rule matches {', '.join(unknown)} (see stage2-lint rules)")
    return tuple(rule for rule in YAML_RULES
                 if (not chosen or rule.code.startswith(chosen))
                 and not (dropped and rule.code.startswith(dropped)))


def discover(named: Sequence[str], settings: Settings, skipped: list[str] | None = None,
             empty: list[str] | None = None, walked: list | None = None) -> list[str]:
    """Files to lint: given files as they are, directories walked for YAML, no path = the
    canonical surface. Every file is put in its canonical form (``paths``) before anything
    is decided about it, so a symlinked checkout gets the verdict of the real path; one file
    named several ways is linted once, under the spelling seen first. A walk
    skips excluded names and does not follow symlinked directories; it appends what it did
    not enter to ``skipped``. Symlinked files are kept: the resolver judges where they lead.
    A directory without profiles, or a contract whose canonical surface matches nothing, is
    appended to ``empty``: a run that checked nothing must not pass. Each walked directory
    is appended to ``walked`` with its files (as shown, canonical), for the run to ask once
    it has placed them whether any contract governs one (``_ungoverned_directories``)."""
    empty = empty if empty is not None else []
    if not named:
        return _canonical_surface(settings, empty)
    files: list[tuple[str, str]] = []  # (as shown, identity)
    for path in named:
        witness.saw(path)  # as spelled: a symlink named may lead elsewhere later
        if os.path.isdir(path):
            found = _walk_directory(paths.canonical(path), path, settings.exclude,
                                    skipped if skipped is not None else [])
            if not found:
                empty.append(f"{path}: no YAML profile in this directory; nothing was checked")
            shown = [(paths.display(file, path), file, is_link) for file, is_link in found]
            if walked is not None:
                walked.append((path, [(spelling, file) for spelling, file, _ in shown]))
            # a walked path is already canonical, and the walk saw which names are links
            files.extend((spelling, os.path.realpath(file) if is_link else file) for spelling, file, is_link in shown)
        elif os.path.lexists(path):
            files.append((paths.spelled(path), _identity(path)))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return _first_of_each(files)


def _canonical_surface(settings: Settings, empty: list[str]) -> list[str]:
    if not settings.contracts:
        raise UsageError("no path given and no contract configured ([stage2_lint.contract.NAME] in setup.cfg or "
                         "pyproject.toml, see --show-settings); name the files or directories to lint")
    files: list[str] = []
    for contract in settings.contracts:
        found = canonical_files(settings, contract.canonical)
        if contract.canonical and not found:
            empty.append(f"contract {contract.name}: its canonical surface ({', '.join(contract.canonical)}) "
                         f"matches no file under {settings.project_dir}; nothing was checked")
        empty.extend(_stale_globs(settings, contract))
        files.extend(found)
    return _unique_files(files)


def _stale_globs(settings: Settings, contract) -> list[str]:
    """A scope or canonical glob that matches no file is stale (a renamed directory?): the
    contract silently governs less than it says. Checked on whole-surface runs."""
    stale = []
    for setting, patterns in (("scope", contract.scope), ("canonical", contract.canonical)):
        if setting == "canonical" and len(patterns) < 2:
            continue  # a whole surface that matches nothing is said above
        for pattern in patterns:
            if next(iter(globs.expand(settings.project_dir, pattern)), None) is None:
                stale.append(f"contract {contract.name}: its {setting} glob {pattern!r} matches no file under "
                             f"{settings.project_dir} (renamed or moved?); update or drop it")
    return stale


def _ungoverned_directories(walked: list, settings: Settings, governed: Callable[[str], bool]) -> list[str]:
    """Each walked directory of profiles (in a config tree) of which no contract governs a
    single one, where the repository declares contracts: most likely a family renamed
    without its settings. Not a pass. Asked after the run placed its files (``governed``),
    so that the parent of a parallel run does not place every file a second time."""
    if not settings.contracts:
        return []
    names = ", ".join(contract.name for contract in settings.contracts)
    found_ungoverned = []
    for named, found in walked:
        if not found or any(governed(shown) for shown, _ in found):
            continue  # (governed first: it is the cheap answer, and the usual one)
        # being in a config tree is a property of a file's directory (its own name is kept)
        one_per_directory = {os.path.dirname(file): file for _, file in found}.values()
        if all(layout.in_config_tree(settings, file) for file in one_per_directory):
            found_ungoverned.append(f"{named}: no contract ({names}) governs any of its {len(found)} profile(s): "
                                    f"was the family renamed or moved? update the contracts' scope in "
                                    f"{settings.source}")
    return found_ungoverned


def _unique_files(files: Iterable[str]) -> list[str]:
    """Each file once, under the spelling seen first."""
    return _first_of_each((path, _identity(path)) for path in files)


def _identity(path: str) -> str:
    """What makes two spellings one file: the canonical path, and for a symlinked file the
    file it leads to (one lstat per file; the real path only for links)."""
    identity = paths.canonical(path)
    return os.path.realpath(identity) if os.path.islink(identity) else identity


def _first_of_each(files: Iterable[tuple[str, str]]) -> list[str]:
    """The first spelling of each identity, from (spelling, identity) pairs."""
    seen, unique = set(), []
    for path, identity in files:
        if identity not in seen:
            seen.add(identity)
            unique.append(path)
    return unique


def _unreadable(error: OSError) -> None:
    """A directory the walk cannot list: a run that did not look must not pass."""
    raise UnreadableDirectory(f"cannot read directory {error.filename}: {error.strerror}; nothing below it was "
                              f"checked")


def _walk_directory(top: str, named: str, exclude: tuple[str, ...], skipped: list[str]) -> list[tuple[str, bool]]:
    """The YAML files below the canonical directory ``top`` (``named`` by the user): each as
    (canonical path, is a symlink), in ``os.walk``'s top-down order. One ``scandir`` a
    directory says which names are directories and which are links, with no ``lstat`` a file.
    Symlinked directories are not entered (everything below ``top`` is then real)."""
    found: list[tuple[str, bool]] = []
    todo = [top]
    while todo:
        directory = todo.pop()
        paths.known_real(directory)
        witness.saw(directory)
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=_entry_name)
        except OSError as error:
            _unreadable(error)
        saw_listing(directory, map(_entry_name, entries))  # spares project_top a stat a marker
        subdirectories = []
        for entry in entries:
            name = entry.name
            if _is_directory(entry):
                if globs.matches(name, exclude):
                    continue
                if entry.is_symlink():
                    skipped.append(f"{paths.display(entry.path, named)} (symlinked directory, not followed)")
                else:
                    subdirectories.append(entry.path)
            elif name.endswith(YAML_SUFFIXES) and not globs.matches(name, exclude):
                found.append((entry.path, entry.is_symlink()))
        todo.extend(reversed(subdirectories))  # the first subdirectory is walked next
    return found


def _entry_name(entry: os.DirEntry) -> str:
    return entry.name


def _is_directory(entry: os.DirEntry) -> bool:
    """A directory, or a link to one (as ``os.walk`` sorts names); unreadable: not one."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def lint_paths(paths: Sequence[str], settings: Settings, rules: tuple[Rule, ...] = YAML_RULES,
               with_dependents: bool = False, jobs: int = 0, resolver: Resolver | None = None,
               with_surface: bool = False, cache=None) -> Report:
    """Lint ``paths``; ``jobs`` 0 picks one process per core for big trees, 1 stays serial.
    ``with_dependents`` adds the canonical leaves whose chain includes a given file;
    ``with_surface`` adds the whole canonical surface (what a deleted parent breaks).
    A caller that goes on to resolve the same files passes its ``resolver`` to share the parses;
    ``cache`` (a ``cache.ResultCache``) answers for the files whose inputs have not changed."""
    return lint_run(paths, settings, rules, with_dependents, jobs, resolver, with_surface, cache).report


def lint_run(paths: Sequence[str], settings: Settings, rules: tuple[Rule, ...] = YAML_RULES,
             with_dependents: bool = False, jobs: int = 0, resolver: Resolver | None = None,
             with_surface: bool = False, cache=None, with_graph: bool = False) -> Run:
    """``lint_paths``, and the facts a report format may show: ``with_graph`` draws the
    extends graph of the files from the documents this run parsed."""
    request = None if cache is None or with_graph else run_memo.request_of(paths, with_dependents, with_surface)
    seen = None
    if request is not None:
        recalled = run_memo.recall(cache, request)
        if recalled is not None:
            return Run(recalled, settings)
        seen = witness.start()
    resolver = resolver or Resolver(settings)  # before discovery: it starts the run's view of the disk
    try:
        report = _checked(paths, settings, rules, with_dependents, jobs, resolver, with_surface, cache)
    finally:
        witness.stop()
    if seen is not None:
        run_memo.remember(cache, request, report, seen)
    return Run(report, settings, _graph(report, settings, resolver) if with_graph else None)


def _checked(paths, settings, rules, with_dependents, jobs, resolver, with_surface, cache) -> Report:
    skipped: list[str] = []
    empty: list[str] = []
    walked: list = []
    files = discover(paths, settings, skipped, empty, walked)
    if cache is not None:  # the extends of files whose bytes it knows, before anything follows them
        resolver.extends.stored_links = cache.extends_of
    if with_dependents:
        files = _unique_files(files + resolver.extends.dependents(files))
    if with_surface and paths:
        files = _unique_files(files + canonical_files(settings))
    violations: list[Violation] = []
    if cache is not None:
        files_left = _cached(files, resolver, cache, violations)
    else:
        files_left = files
    placed: dict[str, bool] = {}  # path -> governed, as the workers placed their files
    if len(files_left) >= PARALLEL_FROM and jobs != 1:
        violations += _lint_in_processes(files_left, settings, rules, jobs, cache, placed)
    else:
        violations += _lint_files(files_left, resolver, rules, cache)
    if cache is not None:
        cache.save()

    def governed(path: str) -> bool:
        return placed[path] if path in placed else resolver.layout.of(path).contract is not None

    ungoverned = tuple(path for path in files if not governed(path))
    empty += _ungoverned_directories(walked, settings, governed)
    return Report(tuple(sorted(violations, key=Violation.sort_key)), tuple(files), tuple(skipped), tuple(empty),
                  ungoverned, len(files) - len(files_left))


def _graph(report: Report, settings: Settings, resolver: Resolver):
    from stage2_lint.tree import graph

    return graph.build(report.files, settings, graph.counts(report.violations), resolver=resolver)


def lint_text(path: str, data: bytes, settings: Settings, rules: tuple[Rule, ...] = YAML_RULES,
              with_graph: bool = False) -> Run:
    """Lint ``data`` (an editor's unsaved buffer, read from stdin) as the file at ``path``:
    its contract, its role and its parents are those of that path, which need not exist."""
    resolver = Resolver(settings)
    resolver.documents.preload(path, load_bytes(data, path, settings.limits))
    violations = lint_file(path, resolver, rules)
    ungoverned = (path,) if resolver.layout.of(path).contract is None else ()
    report = Report(tuple(sorted(violations, key=Violation.sort_key)), (path,), ungoverned=ungoverned)
    return Run(report, settings, _graph(report, settings, resolver) if with_graph else None)


# Below this many files a second process costs more than it saves (measured: at 213 files
# of the real tree, two workers are 7 % faster than one process on 2 cores).
PARALLEL_FROM = 200


def _lint_files(files: Iterable[str], resolver: Resolver, rules: tuple[Rule, ...], cache=None) -> list[Violation]:
    violations: list[Violation] = []
    # A run keeps every parsed file for reuse: many long-lived objects and no reference cycles.
    # The cyclic collector would rescan them again and again (measured: 6.7 s instead of 3.5 s
    # on 10,650 files), so it pauses for the run; reference counting frees the rest.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for path in files:
            if cache is None:
                violations.extend(lint_file(path, resolver, rules))
                continue
            resolver.documents.recording = results.Inputs()
            try:
                found = lint_file(path, resolver, rules)
                cache.remember(path, found, resolver.documents.recording)
            finally:
                resolver.documents.recording = None
            violations.extend(found)
    finally:
        if collecting:
            gc.enable()
    if cache is not None:
        cache.remember_links(resolver.extends.parsed_links())
    return violations


def _cached(files: Sequence[str], resolver: Resolver, cache, violations: list[Violation]) -> list[str]:
    """Add the stored violations of every file whose inputs are unchanged to ``violations``;
    return the files left to lint. A stored canonical-children answer is checked by asking the
    resolver again, which reads the surface's extends from the cache's records and parses only
    the surface files that changed."""
    left = []
    for path in files:
        found = cache.lookup(path, resolver.extends.canonical_children)
        if found is None:
            left.append(path)
        else:
            violations.extend(found)
    return left


def _lint_in_processes(files, settings: Settings, rules, jobs: int, cache=None,
                       placed: dict[str, bool] | None = None) -> list[Violation]:
    """Big trees: one forked worker per core (``workers``), each with its own resolver over a
    contiguous share of the files (a shared parent is parsed once per worker); only
    violations, whether each file is governed, the cache entries made and what was looked at
    travel back."""
    workers = min(jobs if jobs > 1 else (os.cpu_count() or 1), len(files)) if hasattr(os, "fork") else 1
    if workers > 1:
        workers = min(workers, _workers_the_file_limit_allows())
    if workers < 2:
        return _lint_files(files, Resolver(settings), rules, cache)
    from stage2_lint.checking import workers as processes

    codes = tuple(rule.code for rule in rules)
    violations = []
    ordered, bounds = _portions(files, workers)
    workers = min(workers, len(bounds) - 1)  # a worker more than there are portions would have nothing to do
    surface = _surface_parts(_first_shares(ordered, bounds, workers), settings, rules)
    tasks = [(ordered, bounds, settings, codes, cache, None if surface is None else (surface[0], surface[1][index]))
             for index in range(workers)]
    combine = _pooled if surface else None
    # A worker reads a schema when it first checks a file the schema governs, as one process
    # does (so a schema no file of the run needs costs nothing); a bad one, or settings that a
    # file shows wrong, are the parent's error (exit 2), raised here as they were there.
    replies = processes.answers(tasks, _lint_share, combine, portions=len(bounds) - 1,
                                passed_on=(SchemaError, SettingsError))
    for found, governed, made, made_extends, seen in replies:
        violations += map(Violation._make, found)
        if placed is not None:
            placed.update(governed)
        if cache is not None:
            cache.absorb(made, made_extends)
        if witness.current() is not None:
            witness.current().paths.update(seen)
    return violations


def _surface_parts(shares: list[list[str]], settings: Settings, rules) -> tuple[dict, list[dict]] | None:
    """For a rule that asks which surface files extend a file: each contract's whole canonical
    surface, and each worker's part of it (the surface files in its own share, which it
    parses anyway), for the workers to pool. Else every worker would parse the other shares'
    surface files too. None when no rule asks, or when a surface file is in no share (a run
    over part of a tree: there a worker reads the surface only if one of its files asks)."""
    if not any(rule.asks_surface for rule in rules):
        return None
    surfaces = {contract.name: canonical_files(settings, contract.canonical)
                for contract in settings.contracts if contract.canonical}
    if not surfaces:
        return None
    owner = {path: index for index, share in enumerate(shares) for path in share}
    by_identity = None  # the shares' files by canonical path, built if a spelling differs
    parts: list[dict[str, list[str]]] = [{name: [] for name in surfaces} for _ in shares]
    for name, leaves in surfaces.items():
        for leaf in leaves:
            index = owner.get(leaf)
            if index is None:
                if by_identity is None:
                    by_identity = {paths.canonical(path): index for path, index in owner.items()}
                index = by_identity.get(paths.canonical(leaf))
            if index is None:
                return None
            parts[index][name].append(leaf)
    return surfaces, parts


def _pooled(parts: list[dict[str, dict[str, list[str]]]]) -> dict[str, dict[str, list[str]]]:
    """The workers' surface links, one map per contract."""
    pooled: dict[str, dict[str, list[str]]] = {}
    for part in parts:
        for name, links in part.items():
            pooled.setdefault(name, {}).update(links)
    return pooled


def _workers_the_file_limit_allows() -> int:
    """How many workers this process may start before it runs out of file descriptors: the
    parent keeps four pipe ends a worker, and a worker starts holding all of them (a big -j,
    or one worker per core of a big machine under ``ulimit -n 1024``, is not a crash)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return sys.maxsize if soft == resource.RLIM_INFINITY else max(1, (soft - 64) // 4)


def _portions(files: Sequence[str], workers: int) -> tuple[list[str], list[int]]:
    """The files in path order, and where each portion of them starts (and the last ends),
    for the workers to claim (``workers.answers``): about 32 portions a worker (so that a
    worker on a slower core leaves its last few to the others), each of at least 16 files
    (so that claiming one costs next to nothing). Path order: files of one directory tree
    share their parents, and each worker lints runs of neighbours (an interleaved split made
    every worker parse nearly every parent of the tree)."""
    ordered = sorted(files)
    size = max(16, len(ordered) // (workers * 32))
    return ordered, list(range(0, len(ordered), size)) + [len(ordered)]


def _first_shares(ordered: list[str], bounds: list[int], workers: int) -> list[list[str]]:
    """The files of each worker's own region of the portions: what it lints first, and all
    it lints unless it runs faster than another worker."""
    from stage2_lint.checking.workers import regions

    return [ordered[bounds[first]:bounds[end]] for first, end in regions(len(bounds) - 1, workers)]


def _lint_share(task, parent):
    """A worker's answer for the portions of the files it claims from ``parent``: its
    violations, whether each of its files is governed, the cache entries it made (the parent
    saves them) and what it looked at on disk (for the run memo). With a surface part (of
    its first share: the region it starts with), it first pools those surface links with the
    other workers."""
    files, bounds, settings, codes, cache, surface = task
    rules = tuple(rule for rule in YAML_RULES if rule.code in codes)
    resolver = Resolver(settings)
    if surface is not None:
        whole, mine = surface
        pooled = parent.exchange({name: resolver.extends.surface_links(leaves) for name, leaves in mine.items()})
        for name, leaves in whole.items():
            resolver.extends.know_surface(name, leaves, pooled[name])
    linted: list[str] = []
    violations = _lint_files(_claimed(files, bounds, parent, linted), resolver, rules, cache)
    governed = {path: resolver.layout.of(path).contract is not None for path in linted}
    seen = witness.current()
    # Everything travels as plain data, which marshal writes (``workers._encoded``): a
    # namedtuple would send the whole answer through pickle, a Python-level __reduce__ each.
    return [tuple(v) for v in violations], governed, (cache.made if cache else {}), \
        (cache.made_extends if cache else {}), (seen.paths if seen is not None else {})


def _claimed(files: list[str], bounds: list[int], parent, linted: list[str]) -> Iterable[str]:
    """The files of each portion ``parent`` hands this worker, as it claims them (each also
    added to ``linted``)."""
    while True:
        portion = parent.claim()
        if portion is None:
            return
        share = files[bounds[portion]:bounds[portion + 1]]
        linted.extend(share)
        yield from share


def _contract_severity(violations: list[Violation], contract) -> list[Violation]:
    """A contract's own ``severity`` for a rule: relaxing one family never relaxes another."""
    if contract is None or not contract.severity:
        return violations
    levels = dict(contract.severity)
    return [v._replace(severity=levels.get(v.code, v.severity)) for v in violations if levels.get(v.code) != "off"]


def lint_file(path: str, resolver: Resolver, rules: tuple[Rule, ...] = YAML_RULES) -> list[Violation]:
    ctx = FileContext(path, resolver)
    found = [v for rule in rules if not rule.after_suppressions for v in rule.run(ctx)]
    written = suppressions.parse(ctx.document.text)
    kept, used = suppressions.apply(found, written)
    ctx.unused_suppressions = suppressions.unused(written, used, tuple(rule.code for rule in rules))
    kept += [v for rule in rules if rule.after_suppressions for v in rule.run(ctx)]
    kept = _contract_severity(kept, ctx.contract)
    ignored = layout.ignored_codes(resolver.settings, path)
    return [v for v in kept if not v.code.startswith(ignored)] if ignored else kept
