"""Forked worker processes for big trees: each runs ``work(task)`` on its own task and sends
the answer back, pickled through a pipe. Imported only when a run is big enough to use them.

No worker outlives the run, whatever instant a signal arrives: Ctrl-C and SIGTERM are blocked
from just before each fork until its worker is recorded, so the parent's clean-up (kill and
reap every recorded worker) always knows them all; a worker ignores both and dies with its
parent (PR_SET_PDEATHSIG) even if the parent is SIGKILLed. A hand-written pool rather than
``multiprocessing``: this is the whole of what is needed, it starts in a millisecond, and
nothing a pool adds (queues, threads, a manager) can hang or print a worker's traceback on
the way out."""
from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from stage2_lint.core.records import Terminated, WorkerDied

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def answers(tasks: Sequence, work: Callable) -> list:
    """``work(task)`` for each task, each in a worker process of its own, in task order. A
    worker that dies raises ``WorkerDied``; an exception in ``work`` raises RuntimeError
    here, naming it."""
    children: list[tuple[int, int]] = []
    with _terminate_raises():
        try:
            for task in tasks:
                with _signals_blocked():
                    children.append(fork_worker(work, task))
            return [_collect(*child) for child in children]
        finally:
            for pid, read_end in children:
                _end_worker(pid, read_end)


@contextmanager
def _signals_blocked():
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a signal that came meanwhile arrives here


@contextmanager
def _terminate_raises():
    """SIGTERM raises ``Terminated`` in the parent while workers run (unless the caller
    installed its own handler), so the clean-up runs instead of the process vanishing."""
    import threading

    def terminated(signum, frame):
        raise Terminated()

    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL or threading.current_thread() is not threading.main_thread():
        yield  # a caller's own handler, or a thread that may not install one (signal.signal would raise)
        return
    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def fork_worker(work: Callable, task) -> tuple[int, int]:
    """Start one worker on ``task``: its pid and the read end of the pipe it answers on."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    os.close(read_end)  # the worker, from here on: answer through the pipe, then _exit
    status = 1
    try:
        for stop in _STOP_SIGNALS:  # the parent alone handles them; it kills its workers
            signal.signal(stop, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        _die_with(parent)
        _send(write_end, ("ok", work(task)))
        status = 0
    except Exception as error:  # reported by the parent as an internal error
        _send(write_end, ("error", f"{type(error).__name__}: {error}"))
    finally:
        os._exit(status)


def _die_with(parent: int) -> None:
    """Ask Linux to SIGKILL this worker when its parent dies, however it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # not Linux: the parent's clean-up still covers every way but SIGKILL
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _send(fd: int, message) -> None:
    view = memoryview(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)


def _collect(pid: int, read_end: int):
    chunks = []
    while True:
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        outcome, payload = pickle.loads(b"".join(chunks))
    except Exception:
        raise WorkerDied("a worker process died before it finished (out of memory, or killed?); "
                         "run again with -j 1 to lint in one process") from None
    if outcome != "ok":
        raise RuntimeError(f"in a worker process: {payload}")
    return payload


def _end_worker(pid: int, read_end: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)  # a no-op for a worker that has already exited
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(read_end)
