"""Where a file stands: computed once per file, asked by every part that needs to know.

For each path: its canonical form (``paths``), the contract that governs it, its role on that
contract's surface, the parent it must extend and its config root. The rules, flatten, the
graph, the guard and the preflight ask here instead of working it out again; ``settings``
only reads settings, and the functions below are what its globs and ``root`` mean for a path.
"""
from __future__ import annotations

import os
from functools import lru_cache

from stage2_lint.core.records import record
from stage2_lint.core import globs, paths
from stage2_lint.contracts.settings import Contract, Settings, SettingsError, forget_project_tops, project_top

# Roles a file can have. A canonical leaf is on the surface and not retired; a retired parent
# is named by ``retired_parents``; a governed file is in a scope and neither; an ungoverned
# file is in no scope (generic rules only).
LEAF, RETIRED, GOVERNED, UNGOVERNED = "canonical-leaf", "retired-parent", "governed", "ungoverned"


@record
class Place:
    path: str  # as the caller spelled it
    canonical: str
    contract: Contract | None
    role: str
    on_surface: bool  # matched by the contract's canonical globs (a retired parent can be)
    required_parent: str | None  # canonical path of the parent a surface file must extend
    config_root: str

    @property
    def is_leaf(self) -> bool:
        return self.role == LEAF


class Layout:
    """The places of one run's files (cached: a tree asks about its shared parents often)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._places: dict[str, Place] = {}

    def of(self, path: str) -> Place:
        place = self._places.get(path)
        if place is None:
            place = self._places[path] = self._place(path)
        return place

    def _place(self, path: str) -> Place:
        settings = self.settings
        canonical = paths.canonical(path)
        contract = contract_for(settings, canonical)
        on_surface = contract is not None and matches(settings, canonical, contract.canonical)
        retired = contract is not None and matches(settings, canonical, contract.retired_parents)
        role = UNGOVERNED if contract is None else RETIRED if retired else LEAF if on_surface else GOVERNED
        required = None
        if on_surface and contract.required_parent:
            required = paths.canonical(os.path.join(os.path.dirname(canonical), contract.required_parent))
        return Place(path, canonical, contract, role, on_surface, required, config_root(settings, canonical))

    def required_parent_of(self, path: str, contract: Contract | None = None) -> str | None:
        """The canonical parent a file at ``path`` must extend (``contract`` for a file that
        does not exist yet, such as flatten's output)."""
        place = self.of(path)
        if place.required_parent or contract is None or not contract.required_parent:
            return place.required_parent
        return paths.canonical(os.path.join(os.path.dirname(place.canonical), contract.required_parent))


# -- what the settings' globs and root mean for one path

def glob_relative(settings: Settings, path: str) -> str | None:
    """``path`` relative to the glob base (the settings file's directory), in posix form
    as globs are written; None outside it."""
    # Both sides canonical: a cache key free of the working directory, and a project
    # directory given through a symlink (Settings built by hand) still matches.
    return _relative(paths.real_directory(settings.project_dir), paths.canonical(path))


def matches(settings: Settings, path: str, patterns: tuple[str, ...]) -> bool:
    """Does ``path`` match one of ``patterns``, written relative to the glob base?"""
    found = glob_relative(settings, path)
    return found is not None and globs.matches(found, patterns)


def contract_for(settings: Settings, path: str) -> Contract | None:
    """The contract whose scope holds ``path`` (None: generic rules only)."""
    found = glob_relative(settings, path)
    if found is None or not settings.contracts:
        return None
    return _contract_for(settings.contracts, found)


def config_root(settings: Settings, path: str) -> str:
    """The directory a file's parents must stay inside (canonical)."""
    if settings.root is not None:
        return os.path.realpath(os.path.join(settings.project_dir, settings.root))
    return _outermost_configs_dir(os.path.dirname(paths.canonical(path)), paths.real_directory(settings.project_dir))


def in_config_tree(settings: Settings, path: str) -> bool:
    """Is ``path`` a profile: below the configured ``root``, or below a directory named
    ``configs`` inside the project (as opposed to CI or hook YAML)? Judged on the path as
    spelled and on its canonical form, so a symlinked ``configs/`` holds profiles too."""
    for spelling in {os.path.abspath(path), paths.canonical(path)}:
        root = config_root(settings, spelling) if settings.root is not None else \
            _outermost_configs_dir(os.path.dirname(spelling), paths.real_directory(settings.project_dir),
                                   resolve=False)
        if (settings.root is not None or os.path.basename(root) == "configs") and paths.inside(spelling, root):
            return True
    return False


def ignored_codes(settings: Settings, path: str) -> tuple[str, ...]:
    """The codes ``per_file_ignores`` turns off for ``path``."""
    if not settings.per_file_ignores:
        return ()
    found = glob_relative(settings, path)
    return tuple(code for pattern, codes in settings.per_file_ignores
                 if found is not None and globs.matches(found, (pattern,)) for code in codes)


@lru_cache(maxsize=65536)
def _contract_for(contracts: tuple[Contract, ...], relative: str) -> Contract | None:
    found = [c for c in contracts if globs.matches(relative, c.scope)]
    if len(found) > 1:
        raise SettingsError(f"{relative} is in the scope of two contracts, {found[0].name} and {found[1].name}; "
                            f"make their scopes disjoint")
    return found[0] if found else None


@lru_cache(maxsize=65536)
def _relative(base: str, canonical: str) -> str | None:
    return paths.relative_posix(canonical, base)


def forget() -> None:
    """Start a new run: a ``configs`` directory's real path and a project's markers are the
    disk's answers, which may have changed since the last run (``paths.forget``)."""
    paths.forget()
    forget_project_tops()
    _outermost_configs_dir.cache_clear()
    _UP_TO.clear()


@lru_cache(maxsize=4096)
def _outermost_configs_dir(directory: str, project_dir: str, resolve: bool = True) -> str:
    """The outermost directory named ``configs`` from ``directory`` up to the top of its
    project (else ``directory`` itself): where a checkout sits never widens the root."""
    found = _configs_up_to(directory, project_top(directory, project_dir))
    return os.path.realpath(found or directory) if resolve else found or directory


_UP_TO: dict[tuple[str, str], str | None] = {}  # (directory, its project top) -> what _configs_up_to says
_UNKNOWN = object()


def _configs_up_to(directory: str, top: str) -> str | None:
    """The outermost directory named ``configs`` from ``directory`` up to ``top`` (or up to
    ``/``), else None. Remembered for each directory on the way: a tree's directories share
    their ancestors, so each is looked at once a run, not once for every directory below it."""
    on_the_way, probe = [], directory
    while True:
        found = _UP_TO.get((probe, top), _UNKNOWN)
        if found is not _UNKNOWN:
            break
        on_the_way.append(probe)
        parent = os.path.dirname(probe)
        if probe == top or parent == probe:
            found = None
            break
        probe = parent
    for probe in reversed(on_the_way):  # down from the top: the first configs met is the outermost
        if found is None and os.path.basename(probe) == "configs":
            found = probe
        _UP_TO[(probe, top)] = found
    return found
