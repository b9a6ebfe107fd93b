"""The one way stage2-lint changes a file on disk.

A writer first takes a ``Snapshot`` (the exact bytes it read, or "absent" for a new file),
computes the new text in memory, then calls ``replace``. That writes a temp file in the
same directory, flushes and fsyncs it, gives it the original's mode, checks that the target
still holds the snapshot's bytes, and only then swaps it in with ``os.replace`` (or links it
into place for a new file, which fails if someone created the file meanwhile). A kill,
Ctrl-C or full disk at any instant leaves the target whole: the old bytes or the new ones.

The new file keeps the old one's mode, owner and group (or the write is refused). Refusals
(``WriteRefused``) are per file, with a reason a person can act on: the target is a symlink,
lies outside the config root, is read-only, changed since it was read, cannot be given its
owner, or the disk or the directory refused the temp file or the swap.
"""
from __future__ import annotations

import errno
import os
import stat

from stage2_lint.core import reading
from stage2_lint.core.records import record

BOM = b"\xef\xbb\xbf"


class WriteRefused(Exception):
    """This file was not written; the message says why. Nothing on disk changed."""


@record
class Snapshot:
    path: str
    data: bytes | None  # None: the file did not exist when read

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
    try:
        return Snapshot(path, reading.read_bounded(path, max_bytes, "file"))
    except reading.ReadRefused as refused:
        raise WriteRefused(str(refused)) from None


def replace(snap: Snapshot, new_data: bytes, config_root: str | None = None) -> None:
    """Put ``new_data`` at ``snap.path`` atomically, or raise WriteRefused and change nothing."""
    path = snap.path
    directory = os.path.dirname(os.path.abspath(path))
    _refuse_outside(path, directory, config_root)
    keep = _check_target(snap)
    temp = _write_temp(directory, os.path.basename(path), new_data, keep)
    try:
        _check_target(snap)  # the last look before the swap: refuse an edit made meanwhile
        if snap.data is None:
            _link_new(temp, path)
        else:
            _swap(temp, path)
            temp = None
        _fsync_directory(directory)
    finally:
        if temp is not None:
            _unlink_quietly(temp)


def ensure_directory(directory: str, root: str) -> None:
    """Create ``directory`` and its missing parents (a first ``schema export`` into a new
    ``schemas/``), refusing when what exists of it leads outside ``root`` through a symlink."""
    existing = os.path.abspath(directory)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    real_root = os.path.realpath(root)
    if not (os.path.realpath(existing) + os.sep).startswith(real_root.rstrip(os.sep) + os.sep):
        raise WriteRefused(f"{existing} leads outside {real_root}")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise WriteRefused(f"cannot create {directory}: {error.strerror}") from None


def _swap(temp: str, path: str) -> None:
    try:
        os.replace(temp, path)
    except OSError as error:  # e.g. a sticky directory and a file of another user's
        raise WriteRefused(f"cannot replace it: {error.strerror}") from None


@record
class _Keep:
    """What the new file keeps of the old one: mode, and owner and group (None: new file)."""

    mode: int
    owner: int | None = None
    group: int | None = None


def _refuse_unless_regular(info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise WriteRefused("it is a symlink; stage2-lint never writes through one (edit its target instead)")
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("it is not a regular file")


def _refuse_outside(path: str, directory: str, config_root: str | None) -> None:
    if config_root is None:
        return
    real = os.path.join(os.path.realpath(directory), os.path.basename(path))
    root = os.path.realpath(config_root)
    if not real.startswith(root.rstrip(os.sep) + os.sep):
        raise WriteRefused(f"it lies outside the config root {root}")


def _check_target(snap: Snapshot) -> _Keep:
    """What the new file must keep; refuses when the target is not what was read."""
    try:
        info = os.lstat(snap.path)
    except FileNotFoundError:
        if snap.data is None:
            return _Keep(0o666 & ~_umask())
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
    return _Keep(stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


def _write_temp(directory: str, name: str, data: bytes, keep: _Keep) -> str:
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
        _give_owner(fd, keep)
        os.fchmod(fd, keep.mode)  # after chown, which may clear set-id bits
        os.fsync(fd)
    except WriteRefused:
        os.close(fd)
        _unlink_quietly(temp)
        raise
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


def _give_owner(fd: int, keep: _Keep) -> None:
    """The new file gets the old one's owner and group (root rewriting a user's file must
    not leave it owned by root), or the write is refused."""
    if keep.owner is None:
        return
    info = os.fstat(fd)
    if (info.st_uid, info.st_gid) == (keep.owner, keep.group):
        return
    try:
        os.fchown(fd, keep.owner, keep.group)
    except OSError:
        raise WriteRefused(f"it is owned by {keep.owner}:{keep.group}, and stage2-lint cannot give the new text "
                           f"that owner and group; rewrite it as its owner") from None


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
        _swap(temp, path)


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
