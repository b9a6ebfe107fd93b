"""One identity for every file: the spelling every contract, glob, root and cache decision
is made on, whatever way the file was named (an argument, a walk, an ``extends`` target, the
guard, the preflight, the flake8 plugin).

The canonical form is absolute with every *directory* symlink resolved and the final name
kept: a clone reached through a symlinked workspace, or a symlinked ``configs/``, gets the
verdict of its real path, while a symlinked *file* is still judged where it stands (and the
resolver refuses to read it when it leads outside its config root).
"""
from __future__ import annotations

import os
from functools import lru_cache


def canonical(path: str) -> str:
    """``path`` absolute, its directories' symlinks resolved, its own name kept."""
    if path[:1] == os.sep:  # absolute on posix (a run asks this about each file many times)
        return _canonical_absolute(path)
    return _canonical_relative(os.getcwd(), path)  # join drops the cwd before another absolute form


@lru_cache(maxsize=65536)
def _canonical_relative(cwd: str, path: str) -> str:
    return _canonical_absolute(os.path.join(cwd, path))


@lru_cache(maxsize=65536)
def _canonical_absolute(absolute: str) -> str:
    """(cached for the run, as the directories' real paths are: a run asks about each file
    many times, so the normalization is done once per spelling)"""
    directory, name = os.path.split(os.path.normpath(absolute))
    if not name:  # the filesystem root
        return directory
    return os.path.join(real_directory(directory), name)


_REAL: dict = {}  # directory -> its real path, for the run: a tree's files share few directories


def real_directory(directory: str) -> str:
    """A directory's real path (cached for the run)."""
    real = _REAL.get(directory)
    if real is None:
        real = _REAL[directory] = os.path.realpath(directory)
    return real


def forget() -> None:
    """Start a new run: what the disk said of directories (their real paths) may have changed
    since the last one, in a process that lives through several (the guard, an editor)."""
    _REAL.clear()
    _canonical_relative.cache_clear()
    _canonical_absolute.cache_clear()


def known_real(directory: str) -> None:
    """Record that ``directory`` is its own real path (a walk from a real directory that
    follows no symlink visits only such directories), so no realpath is asked again."""
    _REAL[directory] = directory


def display(path: str, like: str) -> str:
    """How to show the canonical ``path`` to a user who wrote ``like``: absolute stays
    absolute, anything else is relative to the working directory."""
    return path if os.path.isabs(like) else from_cwd(path)


def from_cwd(path: str) -> str:
    """The absolute ``path`` relative to the working directory."""
    here = os.getcwd()
    if path.startswith(here.rstrip(os.sep) + os.sep):  # the common case, without relpath's cost
        return path[len(here.rstrip(os.sep)) + 1:]
    return os.path.relpath(path, here)


def spelled(path: str) -> str:
    """The canonical form of ``path``, shown in the form the user wrote it."""
    return display(canonical(path), path)


def inside(path: str, directory: str) -> bool:
    """Is the canonical ``path`` at or below the canonical ``directory``?"""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def relative_posix(path: str, directory: str):
    """``path`` relative to ``directory`` in posix form (both canonical), or None when it
    lies outside."""
    if not inside(path, directory) or path == directory:
        return None
    return path[len(directory.rstrip(os.sep)) + 1:].replace(os.sep, "/")


def repository_top(directory: str):
    """The nearest directory at or above ``directory`` that holds ``.git`` (a checkout's
    top), or None outside any checkout."""
    probe = directory
    while True:
        if os.path.lexists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent
