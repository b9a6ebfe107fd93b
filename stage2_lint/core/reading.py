"""The one way stage2-lint reads a file it did not write: a profile, a settings file, a
schema file.

Each is a stranger's file, so each is read the same way: only a regular file (opening a
FIFO blocks forever and a device may never end), bounded in size (a symlink to
``/dev/zero`` is refused before a byte is read), and allocating what the file holds, not
what the limit allows (a limit of 10**11 bytes, an attempt at "no limit", must not ask the
allocator for 100 GB on every file).
"""
from __future__ import annotations

import os
import stat

CHUNK = 1 << 16


class ReadRefused(Exception):
    """Why a file was not read; the message names no path (the caller knows how to)."""


def read_bounded(path: str, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refused when it holds more than ``limit``."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise ReadRefused(f"cannot read {what}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ReadRefused(f"not a regular file (FIFO, device or socket); refusing to read this {what}")
    if info.st_size > limit:
        raise ReadRefused(f"{what} is {info.st_size} bytes, over the {limit}-byte limit")
    try:
        with open(path, "rb") as handle:
            return _read_at_most(handle, limit, info.st_size, what)
    except OSError as error:
        raise ReadRefused(f"cannot read {what}: {error.strerror or error}") from None


def _read_at_most(handle, limit: int, expected: int, what: str) -> bytes:
    """Read what the file holds (it may have grown since ``stat``), never past ``limit``.
    The usual file ends where ``stat`` said: one read of its size, one byte to see the end
    (a bigger probe would allocate its whole size on every file)."""
    data = handle.read(expected) if expected else b""
    more = handle.read(1)
    if not more:
        return data
    parts, total = [data, more], len(data) + 1
    while total <= limit:
        part = handle.read(min(CHUNK, limit + 1 - total))
        if not part:
            return b"".join(parts)
        parts.append(part)
        total += len(part)
    raise ReadRefused(f"{what} grew past the {limit}-byte limit while it was read")
