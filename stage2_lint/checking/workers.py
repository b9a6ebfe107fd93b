"""Forked worker processes for big trees: each runs ``work(task)`` on its own task and sends
the answer back through a pipe (``_encoded``). Imported only when a run is big enough to use them.

No worker outlives the run, whatever instant a signal arrives: Ctrl-C and SIGTERM are blocked
from just before each fork until its worker is recorded, so the parent's clean-up (kill and
reap every recorded worker) always knows them all; a worker ignores both and dies with its
parent even if the parent is SIGKILLed (see ``_die_with``). A hand-written pool rather than
``multiprocessing``: this is the whole of what is needed, it starts in a millisecond, and
nothing a pool adds (queues, threads, a manager) can hang or print a worker's traceback on
the way out."""
from __future__ import annotations

import marshal
import os
import signal
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from stage2_lint.core.records import Terminated, WorkerDied, record

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def answers(tasks: Sequence, work: Callable, combine: Callable | None = None, portions: int = 0,
            passed_on: tuple[type[Exception], ...] = ()) -> list:
    """``work(task)`` for each task, each in a worker process of its own, in task order. A
    worker that dies raises ``WorkerDied``; an exception in ``work`` raises RuntimeError
    here, naming it, except one of the ``passed_on`` classes (each made from its message
    alone), which is raised here as it was there.

    With ``combine`` or ``portions``, ``work(task, parent)`` gets its line to the parent:
    - ``parent.exchange(value)``, with ``combine``: exactly once, before its main work. The
      parent hands every worker's value (in task order) to ``combine`` and each worker's call
      returns what ``combine`` made of them. It is how workers share what each found in its
      own share that all of them need, instead of each finding all of it.
    - ``parent.claim()``, with ``portions``: the number of the next portion of the work to do
      (0 to ``portions - 1``), until it returns None. The portions are split into one
      contiguous region per task (``regions``); a worker is given its own region front to
      back, then the back of the region with the most left. So each worker's portions are
      runs of neighbours, and a worker on a slower core does less instead of holding up the
      run."""
    children: list[_Child] = []
    with _terminate_raises():
        try:
            for task in tasks:
                with _signals_blocked():
                    children.append(fork_worker(work, task, exchanging=combine is not None, claiming=portions > 0,
                                                others=children, passed_on=passed_on))
            if combine is not None:
                _exchange_values(children, combine)
            if portions:
                _hand_out(children, regions(portions, len(children)))
            return [_collect(child) for child in children]
        finally:
            for child in children:
                _end_worker(child)


def regions(count: int, parts: int) -> list[list[int]]:
    """``count`` numbered things in ``parts`` contiguous runs of near-equal length, each as
    [first, end)."""
    return [[index * count // parts, (index + 1) * count // parts] for index in range(parts)]


@record
class _Child:
    pid: int
    answer: int  # read end: the worker's answer
    asks: int | None = None  # read end: its exchange value, then its claims
    replies: int | None = None  # write end: what the exchange made of every value, then each claim's portion
    lifeline: int | None = None  # write end: held, never written, until the worker is reaped
    passed_on: tuple = ()  # the exception classes its failure is raised as (``answers``)

    def ends(self) -> list:
        """The parent's ends of this worker's pipes."""
        return [end for end in (self.answer, self.asks, self.replies, self.lifeline) if end is not None]


def _exchange_values(children: list[_Child], combine: Callable) -> None:
    """Every worker's exchange value, combined and sent back to each. A worker that ended
    without one (it failed, or was killed) is reported as its answer says; the others die
    with the run."""
    values = []
    for child in children:
        message = _read_message(child.asks)
        if message is None:
            _ended_early(child)
        values.append(_decoded(message))
    combined = _encoded(combine(values))
    for child in children:
        _reply(child, combined)


def _hand_out(children: list[_Child], left: list[list[int]]) -> None:
    """Answer every worker's claims from ``left`` (each worker's region, [next, end)) until
    each has been told that nothing is left."""
    import select

    asking = {child.asks: (index, child) for index, child in enumerate(children)}
    poll = select.poll()  # not select.select: it refuses a descriptor above 1023, and -j is the user's
    for fd in asking:
        poll.register(fd, select.POLLIN)
    while asking:
        for fd, _ in poll.poll():
            index, child = asking[fd]
            if _read_message(fd) is None:
                _ended_early(child)
            portion = _next_portion(left, index)
            _reply(child, _encoded(portion))
            if portion is None:
                del asking[fd]
                poll.unregister(fd)


def _next_portion(left: list[list[int]], index: int) -> int | None:
    """The front of worker ``index``'s own region, else the back of the region with the
    most left: far from where that region's worker is, next to what this one took last."""
    own = left[index]
    if own[0] < own[1]:
        own[0] += 1
        return own[0] - 1
    fullest = max(left, key=lambda region: region[1] - region[0])
    if fullest[0] == fullest[1]:
        return None
    fullest[1] -= 1
    return fullest[1]


def _ended_early(child: _Child) -> None:
    """A worker's talk ended before it should: it failed or died, and its answer says which."""
    _collect(child)  # raises: the worker's own error, or that it died
    raise RuntimeError("in a worker process: it returned before the talk with its parent ended")


def _reply(child: _Child, message: bytes) -> None:
    try:
        _write_message(child.replies, message)
    except BrokenPipeError:  # it died after asking
        _ended_early(child)


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

    def terminated(signum, frame):
        raise Terminated()

    previous = signal.getsignal(signal.SIGTERM)
    installed = False
    if previous is signal.SIG_DFL:  # else the caller's own handler stays
        try:
            signal.signal(signal.SIGTERM, terminated)
            installed = True
        except ValueError:  # not the main thread, the one that may install a handler (no threading import to ask)
            pass
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous)


def fork_worker(work: Callable, task, exchanging: bool = False, claiming: bool = False,
                others: Sequence[_Child] = (), passed_on: tuple[type[Exception], ...] = ()) -> _Child:
    """Start one worker on ``task``: its pid and its ends of the pipes it talks on. The
    worker closes what it inherits of the parent's ends for ``others`` (the workers started
    before it), so that each pipe's far end is its one worker and its parent."""
    talking = exchanging or claiming
    lifeline_read, lifeline_write = os.pipe()
    answer_read, answer_write = os.pipe()
    asks_read, asks_write = os.pipe() if talking else (None, None)
    replies_read, replies_write = os.pipe() if talking else (None, None)
    parent = os.getpid()
    pid = os.fork()
    if pid:
        for end in (lifeline_read, answer_write, asks_write, replies_read):
            if end is not None:
                os.close(end)
        return _Child(pid, answer_read, asks_read, replies_write, lifeline_write, passed_on)
    status = 1
    try:  # the worker, from here on: answer, then _exit
        inherited = [end for other in others for end in other.ends()]
        for end in (lifeline_write, answer_read, asks_read, replies_write, *inherited):
            if end is not None:
                os.close(end)
        for stop in _STOP_SIGNALS:  # the parent alone handles them; it kills its workers
            signal.signal(stop, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        _die_with(parent, lifeline_read)
        if talking:
            line = _Parent(asks_write, replies_read, exchanging, claiming)
            answer = work(task, line)
            line.check_finished()
        else:
            answer = work(task)
        _send(answer_write, ("ok", answer))
        status = 0
    except Exception as error:  # raised again by the parent if passed on, else an internal error
        kinds = [index for index, kind in enumerate(passed_on) if isinstance(error, kind)]
        _send(answer_write, ("raise", kinds[0], str(error)) if kinds else ("error", f"{type(error).__name__}: {error}"))
    finally:
        os._exit(status)


class _Parent:
    """A worker's line to its parent (see ``answers``): the exchange, then its claims."""

    def __init__(self, asks: int, replies: int, exchanging: bool, claiming: bool):
        self.asks, self.replies = asks, replies
        self.exchanging, self.claiming = exchanging, claiming
        self.exchanged = self.told_nothing_left = False

    def exchange(self, value):
        if not self.exchanging or self.exchanged:
            raise RuntimeError("a worker takes part in the exchange once")
        self.exchanged = True
        return _decoded(self._ask(_encoded(value)))

    def claim(self) -> int | None:
        if not self.claiming or self.exchanging and not self.exchanged:
            raise RuntimeError("a worker claims work only where portions are handed out, after the exchange")
        if self.told_nothing_left:
            return None
        portion = _decoded(self._ask(b""))
        self.told_nothing_left = portion is None
        return portion

    def check_finished(self) -> None:
        if self.exchanging and not self.exchanged:
            raise RuntimeError("the worker returned without taking part in the exchange")
        if self.claiming and not self.told_nothing_left:
            raise RuntimeError("the worker returned before it was told that no work is left")

    def _ask(self, message: bytes) -> bytes:
        _write_message(self.asks, message)
        reply = _read_message(self.replies)
        if reply is None:
            raise RuntimeError("the parent ended the talk before it replied")
        return reply


def _die_with(parent: int, lifeline: int) -> None:
    """End this worker when its parent dies, however it dies. The parent holds the only
    write end of ``lifeline`` and never writes to it; when that end closes, the kernel sends
    SIGIO to the reader that asked for it (O_ASYNC), and SIGIO's default action ends the
    process. (PR_SET_PDEATHSIG says the same, but reaching prctl takes ctypes, whose import
    cost each worker 3 to 7 ms.)"""
    try:
        import fcntl

        signal.signal(signal.SIGIO, signal.SIG_DFL)
        fcntl.fcntl(lifeline, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(lifeline, fcntl.F_SETFL, fcntl.fcntl(lifeline, fcntl.F_GETFL) | os.O_ASYNC)
    except (OSError, AttributeError):  # no O_ASYNC here: the parent's clean-up still covers all but SIGKILL
        pass
    if os.getppid() != parent:  # the parent died before the lifeline was armed
        os._exit(1)


def _send(fd: int, message) -> None:
    _write_all(fd, _encoded(message))
    os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _encoded(value) -> bytes:
    """``value`` as bytes for the other end of a fork: marshal for plain data (what the
    workers send: tuples, lists, dicts and sets of strings and numbers), pickle for anything
    else. Both ends run one interpreter, so marshal's format is theirs; for 11,520 findings it
    writes and reads them in 9 ms where pickle takes 19, and it needs no import (pickle: 1.4 ms)."""
    try:
        return b"m" + marshal.dumps(value)
    except ValueError:  # a type marshal does not write (a record, a subclass): pickle's turn
        import pickle

        return b"p" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _decoded(data: bytes):
    """What ``_encoded`` wrote; a message cut short raises (EOFError, ValueError, ...)."""
    if data[:1] == b"m":
        return marshal.loads(memoryview(data)[1:])
    if data[:1] == b"p":
        import pickle

        return pickle.loads(memoryview(data)[1:])
    raise ValueError("not a worker's message")


# A message between a worker and its parent is length-prefixed: its reader tells a whole message
# from one cut short by its writer's death, and the pipe stays open for the next message.
_LENGTH = 8


def _write_message(fd: int, data: bytes) -> None:
    _write_all(fd, len(data).to_bytes(_LENGTH, "big") + data)


def _read_message(fd: int) -> bytes | None:
    """One length-prefixed message, or None if the writer ended before it was whole."""
    head = _read_exactly(fd, _LENGTH)
    if head is None:
        return None
    return _read_exactly(fd, int.from_bytes(head, "big"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _collect(child: _Child):
    chunks = []
    while True:
        chunk = os.read(child.answer, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        message = _decoded(b"".join(chunks))  # ("ok", answer), ("error", text) or ("raise", class index, text)
        outcome, payload = message[0], message[-1]
        passed = child.passed_on[message[1]] if outcome == "raise" else None
    except Exception:
        raise WorkerDied("a worker process died before it finished (out of memory, or killed?); "
                         "run again with -j 1 to lint in one process") from None
    if passed is not None:
        raise passed(payload)
    if outcome != "ok":
        raise RuntimeError(f"in a worker process: {payload}")
    return payload


def _end_worker(child: _Child) -> None:
    try:
        os.kill(child.pid, signal.SIGKILL)  # a no-op for a worker that has already exited
    except ProcessLookupError:
        pass
    os.waitpid(child.pid, 0)
    for end in child.ends():  # the lifeline last of all: the worker is reaped, nothing is left to signal
        os.close(end)
