"""The one way stage2-lint changes a file on disk.

A writer first takes a ``Snapshot`` (the exact bytes it read, or "absent" for a new file),
computes the new text in memory, then calls ``replace``. That writes a temp file in the
same directory, flushes and fsyncs it, gives it the original's mode, checks that the target
still holds the snapshot's bytes, and only then swaps it in with ``os.replace`` (or links it
into place for a new file, which fails if someone created the file meanwhile). A kill,
Ctrl-C or full disk at any instant leaves the target whole: the old bytes or the new ones.

Refusals (``WriteRefused``) are per file, with a reason a person can act on: the target is a
symlink, lies outside the config root, is read-only, changed since it was read, or the disk
refused the temp file.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import NamedTuple, Optional

BOM = b"\xef\xbb\xbf"


class WriteRefused(Exception):
    """This file was not written; the message says why. Nothing on disk changed."""


class Snapshot(NamedTuple):
    path: str
    data: Optional[bytes]  # None: the file did not exist when read

    @property
    def has_bom(self) -> bool:
        return self.data is not None and self.data.startswith(BOM)

    def encode(self, text: str) -> bytes:
        """``text`` as the file's bytes: UTF-8, with the BOM the original had."""
        return (BOM if self.has_bom else b"") + text.encode("utf-8", "surrogateescape")


def snapshot(path: str, max_bytes: int = 1 << 24) -> Snapshot:
    """What ``path`` holds now (``data`` None when it does not exist). Never follows a
    symlink and never opens a FIFO or device: those are refused outright."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Snapshot(path, None)
    except OSError as error:
        raise WriteRefused(f"cannot read it: {error.strerror}")
    _refuse_unless_regular(info)
    if info.st_size > max_bytes:
        raise WriteRefused(f"it is {info.st_size} bytes, over the {max_bytes}-byte limit")
    try:
        with open(path, "rb") as handle:
            return Snapshot(path, handle.read(max_bytes + 1))
    except OSError as error:
        raise WriteRefused(f"cannot read it: {error.strerror}")


def replace(snap: Snapshot, new_data: bytes, config_root: Optional[str] = None) -> None:
    """Put ``new_data`` at ``snap.path`` atomically, or raise WriteRefused and change nothing."""
    path = snap.path
    directory = os.path.dirname(os.path.abspath(path))
    _refuse_outside(path, directory, config_root)
    mode = _check_target(snap)
    temp = _write_temp(directory, os.path.basename(path), new_data, mode)
    try:
        _check_target(snap)  # the last look before the swap: refuse an edit made meanwhile
        if snap.data is None:
            _link_new(temp, path)
        else:
            os.replace(temp, path)
            temp = None
        _fsync_directory(directory)
    finally:
        if temp is not None:
            _unlink_quietly(temp)


def _refuse_unless_regular(info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise WriteRefused("it is a symlink; stage2-lint never writes through one (edit its target instead)")
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("it is not a regular file")


def _refuse_outside(path: str, directory: str, config_root: Optional[str]) -> None:
    if config_root is None:
        return
    real = os.path.join(os.path.realpath(directory), os.path.basename(path))
    root = os.path.realpath(config_root)
    if not real.startswith(root.rstrip(os.sep) + os.sep):
        raise WriteRefused(f"it lies outside the config root {root}")


def _check_target(snap: Snapshot) -> int:
    """The mode to give the new file; refuses when the target is not what was read."""
    try:
        info = os.lstat(snap.path)
    except FileNotFoundError:
        if snap.data is None:
            return 0o666 & ~_umask()
        raise WriteRefused("it was deleted since it was read")
    if snap.data is None:
        raise WriteRefused("it was created by someone else since stage2-lint looked")
    _refuse_unless_regular(info)
    if not os.access(snap.path, os.W_OK, follow_symlinks=False) or not info.st_mode & 0o222:
        raise WriteRefused("it is read-only")
    try:
        with open(snap.path, "rb") as handle:
            current = handle.read(len(snap.data) + 1)
    except OSError as error:
        raise WriteRefused(f"cannot read it again: {error.strerror}")
    if current != snap.data:
        raise WriteRefused("it changed since it was read (edited meanwhile?); run again on the new text")
    return stat.S_IMODE(info.st_mode)


def _write_temp(directory: str, name: str, data: bytes, mode: int) -> str:
    """A fully written, fsynced temp file beside the target; on any failure none is left."""
    import tempfile

    try:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".stage2-lint-tmp", dir=directory)
    except OSError as error:
        raise WriteRefused(f"cannot create a temp file in {directory}: {error.strerror}")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fchmod(fd, mode)
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        _unlink_quietly(temp)
        reason = "the disk is full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else error.strerror
        raise WriteRefused(f"writing the new text failed: {reason}")
    except BaseException:  # Ctrl-C mid-write: leave no temp file behind
        os.close(fd)
        _unlink_quietly(temp)
        raise
    os.close(fd)
    return temp


def _link_new(temp: str, path: str) -> None:
    """Create ``path`` from ``temp`` only if nothing is there (``os.link`` refuses otherwise)."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise WriteRefused("it was created by someone else since stage2-lint looked")
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
            raise WriteRefused(f"cannot create it: {error.strerror}")
        # a filesystem without hard links: the check above was the last look
        os.replace(temp, path)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
