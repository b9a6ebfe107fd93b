"""What a run looked at on disk, so a later run can tell by ``lstat`` alone that none of it
changed (the run memo, ``checking.run_memo``).

While a recording is on, the places that consult the disk say what they consulted: the
result cache names every file it digests (every file a verdict read, found or missing), the
walks name every directory they list (a file added or removed where a walk looked changes
that directory), and discovery names each path as the user spelled it. With no recording
on, each call costs one test.
"""
from __future__ import annotations

import os
import stat


class Seen:
    """Absolute paths a run consulted: files (read, digested or looked for) and directories listed."""

    __slots__ = ("paths",)

    def __init__(self):
        self.paths: dict[str, None] = {}


_current: Seen | None = None


def start() -> Seen:
    global _current
    _current = Seen()
    return _current


def stop() -> None:
    global _current
    _current = None


def current() -> Seen | None:
    return _current


def saw(path: str) -> None:
    """The run consulted ``path`` (a file, a directory it listed, or a path that was missing)."""
    if _current is not None:
        _current.paths[path if path[:1] == os.sep else os.path.abspath(path)] = None


# -- signatures

Signature = "list[int] | None"


def signature(path: str) -> Signature:
    """What ``lstat`` says of ``path`` (and ``stat`` too, for a symlink): type and mode, inode,
    device, size, and the modification and change times in nanoseconds; None when missing.
    The change time moves on every write, rename and ``touch``, and no caller can set it."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    found = [info.st_mode, info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.stat(path)
            found += [target.st_mode, target.st_ino, target.st_dev, target.st_size, target.st_mtime_ns,
                      target.st_ctime_ns]
        except OSError:
            found.append(-1)  # dangling
    return found


def identity(path: str) -> Signature:
    """Which directory entry ``path`` is (type and mode, inode, device), whatever its
    listing: for a directory far above what a run read, whose other entries churn."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return [info.st_mode, info.st_ino, info.st_dev]


def settled(found: Signature, before_ns: int) -> bool:
    """Was every time in ``found`` older than ``before_ns``? A file changed later than that
    may change again within one tick of the file system's clock, keeping its signature."""
    if found is None or len(found) <= 3:
        return True
    times = found[4:6] + found[10:12]
    return all(0 < moment < before_ns for moment in times)  # a zero time: a file system that keeps none


def ancestors(path: str) -> list[str]:
    """Every directory above the absolute ``path``, nearest first."""
    found = []
    directory = os.path.dirname(path)
    while True:
        found.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return found
        directory = parent
