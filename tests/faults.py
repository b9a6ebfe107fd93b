"""Run ``stage2-lint`` with one fault injected at a chosen call: the tests' stand-in for a
kill, a Ctrl-C, a full disk or a concurrent edit arriving at an exact instant.

    python tests/faults.py SPEC [stage2-lint arguments ...]

SPEC is ``CALL:WHEN:ACTION``:
- CALL ``os.write``, ``os.replace``, ``os.fsync`` or ``os.fork``: WHEN is the n-th call
  (1-based); ACTION ``kill`` (SIGKILL before the call), ``sigint``/``sigterm`` (a real signal
  to this process before the call), any of those with ``-after`` (right after the call; for
  ``os.fork``, in the parent only), ``enospc`` or ``eperm`` (the call fails: disk full, not permitted) or ``edit=PATH``
  (append a line to PATH, then make the call: someone edits meanwhile);
- CALL ``lint_file``: WHEN is a file name suffix; ACTION ``kill`` (the process linting it
  SIGKILLs itself: a worker killed by the OOM killer) or ``sigint-parent`` (it sends SIGINT
  to its parent, as Ctrl-C in a terminal would, and waits to be stopped) or ``kill-parent``
  (it SIGKILLs the run's process, if that is still its parent, and waits to be stopped);
- CALL ``surface_links``: as ``lint_file``, when a worker reads the surface links of its
  share for the exchange and one of them has that suffix (before any worker lints a file).
"""
import errno
import os
import signal
import sys
import time

RUN = os.getpid()  # the stage2-lint process; a worker's parent until it dies
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _act(action: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
    elif action == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    elif action == "eperm":
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))
    elif action.startswith("edit="):
        with open(action[5:], "a", encoding="utf-8") as handle:
            handle.write("# edited meanwhile\n")
    elif action == "sigint-parent":
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(60)
    elif action == "kill-parent":
        if os.getppid() == RUN:  # once: after it, the worker's parent is whoever adopted it
            os.kill(RUN, signal.SIGKILL)
        time.sleep(60)


def _patch_os(name: str, when: int, action: str) -> None:
    original = getattr(os, name)
    calls = [0]

    def faulty(*args, **kwargs):
        calls[0] += 1
        if calls[0] != when:
            return original(*args, **kwargs)
        if action.endswith("-after"):  # for os.fork: in the parent only, the instant fork returns
            result = original(*args, **kwargs)
            if not (name == "fork" and result == 0):
                _act(action[:-len("-after")])
            return result
        _act(action)
        return original(*args, **kwargs)

    setattr(os, name, faulty)


def _patch_lint_file(suffix: str, action: str) -> None:
    import stage2_lint.checking.engine as engine

    original = engine.lint_file

    def faulty(path, *args, **kwargs):
        if path.endswith(suffix):
            _act(action)
        return original(path, *args, **kwargs)

    engine.lint_file = faulty


def _patch_surface_links(suffix: str, action: str) -> None:
    from stage2_lint.tree.hierarchy import ExtendsGraph

    original = ExtendsGraph.surface_links

    def faulty(self, leaves):
        if any(leaf.endswith(suffix) for leaf in leaves):
            _act(action)
        return original(self, leaves)

    ExtendsGraph.surface_links = faulty


def main() -> int:
    call, when, action = sys.argv[1].split(":", 2)
    if call == "lint_file":
        _patch_lint_file(when, action)
    elif call == "surface_links":
        _patch_surface_links(when, action)
    else:
        _patch_os(call.split(".", 1)[1], int(when), action)
    from stage2_lint.cli import main as cli_main

    return cli_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
