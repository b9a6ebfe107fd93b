"""Parallel mode (from 200 files): a worker that dies ends the run with exit 2 instead of
a wait that never returns; Ctrl-C exits 130 with no traceback; no worker is left behind."""
import os
import signal
import subprocess
import sys

import pytest

from stage2_lint.checking.engine import PARALLEL_FROM
from stage2_lint.core.records import WorkerDied

from conftest import REPO, write_tree

FAULTS = REPO / "tests" / "faults.py"


def _big_tree(root):
    files = {f"configs/many/f{index:04d}.yaml": f"a: {index}\n" for index in range(PARALLEL_FROM + 10)}
    files["configs/many/f0007.yaml"] = "a: 1\na: 2\n"
    write_tree(root, files)


def _run(fault, root, *args):
    # start_new_session: the run and its workers form one group the test can check is gone
    process = subprocess.Popen([sys.executable, str(FAULTS), fault, *args, "configs"], cwd=root, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # a worker outlived what it should not: end the group, then fail
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return process, out, err


def _group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_parallel_run_matches_the_serial_run(tmp_path):
    _big_tree(tmp_path)
    runs = [subprocess.run([sys.executable, "-m", "stage2_lint", *jobs, "configs"], cwd=tmp_path, text=True,
                           capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
            for jobs in ([], ["-j", "1"])]
    assert runs[0].stdout == runs[1].stdout == ("configs/many/f0007.yaml:2:1: S2L002 duplicate key 'a' (first set "
                                                "at line 1); YAML keeps only the last value\n")
    assert runs[0].returncode == runs[1].returncode == 1


def _with_open_files(limit):
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    return apply


@pytest.mark.parametrize("files, jobs, limit", [
    (4200, "300", 4096),  # 263 workers: the parent's pipe ends go past descriptor 1023 (select.select's limit)
    (PARALLEL_FROM + 10, "50", 80),  # room for 4 workers only: the run starts that many, not a crash
])
def test_many_workers_or_few_file_descriptors_give_the_serial_verdict(tmp_path, files, jobs, limit):
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip(f"this machine allows fewer than {limit} open files")
    write_tree(tmp_path, {f"configs/many/f{index:04d}.yaml": "a: 1\na: 2\n" if index == 7 else f"a: {index}\n"
                          for index in range(files)})
    runs = [subprocess.run([sys.executable, "-m", "stage2_lint", "--no-cache", "-j", how, "configs"], cwd=tmp_path, text=True,
                           capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
                           preexec_fn=_with_open_files(limit))
            for how in (jobs, "1")]
    assert runs[0].stderr == runs[1].stderr  # the summary: no "internal error"
    assert runs[0].stdout == runs[1].stdout == ("configs/many/f0007.yaml:2:1: S2L002 duplicate key 'a' (first set "
                                                "at line 1); YAML keeps only the last value\n")
    assert runs[0].returncode == runs[1].returncode == 1


def test_a_killed_worker_ends_the_run_with_exit_2(tmp_path):
    _big_tree(tmp_path)
    process, out, err = _run("lint_file:f0007.yaml:kill", tmp_path)
    assert process.returncode == 2
    assert "stage2-lint: error: a worker process died before it finished" in err
    assert out == ""
    assert _group_is_gone(process.pid)


_PF_EXITING = 0x4  # in /proc/PID/stat's flags: the process is dying (set before it closes its files)


def _live_members(pgid: int) -> list:
    """The processes of group ``pgid`` that still run. A zombie has ended (it waits for
    whoever adopted it to reap it), and so has one that is exiting: it closed the run's
    stdout on its way out, and may not be a zombie yet on a busy machine."""
    live = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except (OSError, ValueError):  # not a process, or one that ended meanwhile
            continue
        state, group, flags = fields[0], int(fields[2]), int(fields[6])
        if group == pgid and state != "Z" and not flags & _PF_EXITING:
            live.append(int(entry))
    return live


def test_workers_die_with_a_parent_that_is_killed_outright(tmp_path):
    """SIGKILL leaves the parent no clean-up: each worker must notice on its own. Both
    workers wait 60 s once the parent is dead, so communicate() returning (every holder of
    the run's stdout is gone) within its 30 s is the workers dying with their parent."""
    _big_tree(tmp_path)
    process, out, err = _run("lint_file:.yaml:kill-parent", tmp_path)
    assert process.returncode == -signal.SIGKILL
    assert (out, err) == ("", "")
    assert _live_members(process.pid) == []


def test_ctrl_c_in_parallel_mode_exits_130_without_a_traceback(tmp_path):
    _big_tree(tmp_path)
    process, out, err = _run("lint_file:f0007.yaml:sigint-parent", tmp_path)
    assert process.returncode == 130
    assert err == "stage2-lint: interrupted\n"
    assert _group_is_gone(process.pid)


def test_workers_report_the_same_ungoverned_files_and_violations_as_one_process(tmp_path, monkeypatch):
    from stage2_lint.checking import engine, workers
    from stage2_lint.contracts.settings import read_settings_file

    files = {f"configs/fam/f{index:04d}.yaml": f"a: {index}\n" for index in range(PARALLEL_FROM // 2 + 5)}
    files.update({f"configs/other/g{index:04d}.yaml": "b: 1\nb: 2\n" for index in range(PARALLEL_FROM // 2 + 5)})
    files["setup.cfg"] = "[stage2_lint.contract.fam]\nscope = configs/fam/*.yaml\n"
    write_tree(tmp_path, files)
    settings = read_settings_file(str(tmp_path / "setup.cfg"))
    monkeypatch.chdir(tmp_path)
    parallel = engine.lint_paths(["configs"], settings, jobs=2)
    serial = engine.lint_paths(["configs"], settings, jobs=1)
    assert parallel == serial
    assert set(parallel.ungoverned) == {path for path in parallel.files if "/other/" in path}
    assert len(parallel.violations) == PARALLEL_FROM // 2 + 5
    # whoever lints a file, the answer is the same: here one worker is handed every portion, last first
    monkeypatch.setattr(workers, "_next_portion", _everything_to_the_last_worker_backwards)
    assert engine.lint_paths(["configs"], settings, jobs=2) == serial


def _everything_to_the_last_worker_backwards(left, index):
    """A schedule no core would make: the last worker is handed every portion, the last
    first (``left[-1][1]`` counts down to the first portion); the others get none."""
    if index < len(left) - 1 or left[-1][1] == left[0][0]:
        return None
    left[-1][1] -= 1
    return left[-1][1]


def _first_two_shares(files):
    from stage2_lint.checking import engine

    return engine._first_shares(*engine._portions(files, 2), 2)


def test_portions_are_runs_of_at_least_16_files_in_path_order_that_cover_every_file():
    from stage2_lint.checking.engine import _first_shares, _portions

    files = [f"d{index % 3}/f{index:04d}" for index in range(1000)]
    ordered, bounds = _portions(files, 2)
    assert ordered == sorted(files) and bounds[0] == 0 and bounds[-1] == len(files)
    assert all(end - start >= 16 for start, end in zip(bounds[:-2], bounds[1:-1]))  # the last one may be short
    assert len(bounds) - 1 == 63  # about 32 a worker
    shares = _first_shares(ordered, bounds, 2)
    assert sum(shares, []) == ordered and abs(len(shares[0]) - len(shares[1])) <= 16


def test_a_worker_takes_its_own_region_front_to_back_then_the_back_of_the_fullest():
    from stage2_lint.checking.workers import _next_portion, regions

    left = regions(10, 3)
    assert left == [[0, 3], [3, 6], [6, 10]]
    taken = [_next_portion(left, 0) for _ in range(3)] + [_next_portion(left, 0) for _ in range(4)]
    assert taken == [0, 1, 2, 9, 5, 8, 4]  # its own region, then the back of whichever holds the most
    assert [_next_portion(left, 2) for _ in range(3)] == [6, 7, 3]
    assert [_next_portion(left, 1) for _ in range(2)] == [None, None]


# -- what travels between a worker and its parent

def _answer_of_every_kind(task):
    from stage2_lint.core.records import Violation

    plain = {"violations": [("configs/a.yaml", 1, 2, "S2L002", "duplicate key", None, "error", None)],
             "governed": {"configs/a.yaml": True}, "seen": {"configs": (1.5, 2, frozenset({"x"}), b"\x00")}}
    return plain if task == "plain" else (plain, Violation("configs/a.yaml", 1, 2, "S2L002", "duplicate key"))


def test_answers_arrive_as_they_were_sent_whichever_way_they_were_written():
    """Plain data (what the engine's workers send) is marshalled; a value marshal cannot
    write (a record, a subclass) is pickled instead: both arrive equal and of the same types."""
    from stage2_lint.checking import workers
    from stage2_lint.core.records import Violation

    plain, recorded = workers.answers(["plain", "record"], _answer_of_every_kind)
    assert plain == _answer_of_every_kind("plain") and type(plain["seen"]["configs"][2]) is frozenset
    assert recorded == _answer_of_every_kind("record") and type(recorded[1]) is Violation
    assert workers._encoded(plain)[:1] == b"m" and workers._encoded(recorded)[:1] == b"p"


@pytest.mark.parametrize("answer", [("ok", [("configs/a.yaml", 1)] * 50), ("ok", {"a": "/" * 99, "b": 2.5})])
def test_an_answer_cut_short_is_never_read_as_a_shorter_one(answer):
    """A worker killed mid-write leaves part of its answer: every cut of either encoding
    raises (the parent then reports the worker as died), none decodes to a value."""
    from stage2_lint.checking import workers
    from stage2_lint.core.records import Violation

    for data in (workers._encoded(answer), workers._encoded((answer, Violation("a", 1, 1, "C", "m")))):
        for cut in range(len(data)):
            with pytest.raises(Exception):
                workers._decoded(data[:cut])


# -- the exchange: workers pool what each found in its own share

def _offer_then_answer(task, parent):
    return parent.exchange(task * 10) + [task]


def test_each_worker_gets_every_workers_value_combined_in_task_order():
    from stage2_lint.checking import workers

    answers = workers.answers([1, 2, 3], _offer_then_answer, combine=lambda values: list(values))
    assert answers == [[10, 20, 30, 1], [10, 20, 30, 2], [10, 20, 30, 3]]


def test_workers_started_from_a_thread_answer_and_leave_sigterm_as_it_was():
    """Only the main thread may install a signal handler: from another one the run goes on
    without its SIGTERM handler; from the main one the handler is there during the run only."""
    import threading

    from stage2_lint.checking import workers

    got = {}

    def run():
        try:
            got["answers"] = workers.answers([1, 2], _offer_then_answer, combine=list)
        except BaseException as error:  # the assertion below shows it
            got["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert got == {"answers": [[10, 20, 1], [10, 20, 2]]}
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    during = []
    workers.answers([1], lambda task, parent: parent.exchange(task), combine=lambda values: during.append(
        signal.getsignal(signal.SIGTERM)) or values)
    assert during[0] is not signal.SIG_DFL and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _refuses_its_schema(task, parent):
    from stage2_lint.core.records import SchemaError

    if task == 2:
        raise SchemaError("schema file s.json: \x1b[31m not a schema")
    if task == 3:
        raise KeyError("k")
    while parent.claim() is not None:
        pass
    return task


def test_an_error_a_worker_passes_on_is_raised_in_the_parent_as_it_was_there():
    from stage2_lint.checking import workers
    from stage2_lint.core.records import SchemaError, SettingsError

    with pytest.raises(SchemaError) as raised:
        workers.answers([1, 2], _refuses_its_schema, portions=4, passed_on=(SettingsError, SchemaError))
    assert type(raised.value) is SchemaError and str(raised.value) == "schema file s.json: \x1b[31m not a schema"
    with pytest.raises(RuntimeError, match="in a worker process: KeyError: 'k'") as raised:
        workers.answers([1, 3], _refuses_its_schema, portions=4, passed_on=(SchemaError,))
    assert type(raised.value) is RuntimeError
    with pytest.raises(RuntimeError, match="SchemaError: schema file s.json"):
        workers.answers([2], _refuses_its_schema, portions=4)  # not passed on: an internal error
    assert workers.answers([1, 4], _refuses_its_schema, portions=4, passed_on=(SchemaError,)) == [1, 4]


def _fails_before_offering(task, parent):
    if task == 2:
        raise ValueError("share 2 is unreadable")
    return parent.exchange(task)


def _dies_before_offering(task, parent):
    if task == 2:
        os._exit(3)
    return parent.exchange(task)


def _never_offers(task, parent):
    return task


def _offers_twice(task, parent):
    parent.exchange(task)
    return parent.exchange(task)


@pytest.mark.parametrize("work, error, words", [
    (_fails_before_offering, RuntimeError, "in a worker process: ValueError: share 2 is unreadable"),
    (_dies_before_offering, WorkerDied, "a worker process died before it finished"),
    (_never_offers, RuntimeError, "in a worker process: RuntimeError: the worker returned without taking part "
                                  "in the exchange"),
    (_offers_twice, RuntimeError, "in a worker process: RuntimeError: a worker takes part in the exchange once"),
])
def test_a_worker_that_breaks_the_exchange_ends_the_run_with_its_reason_and_leaves_no_worker(work, error, words):
    from stage2_lint.checking import workers

    started = []
    real_fork = workers.fork_worker

    def recorded(*args, **how):
        child = real_fork(*args, **how)
        started.append(child.pid)
        return child

    workers.fork_worker, saved = recorded, workers.fork_worker
    try:
        with pytest.raises(error) as raised:
            workers.answers([1, 2, 3], work, combine=list)
    finally:
        workers.fork_worker = saved
    assert words in str(raised.value)
    for pid in started:  # reaped: none is left running or a zombie
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


# -- portions: a worker that is held up leaves the rest of its region to the others

def _held_up_first_worker(task, parent):
    index, first_claimed, go = task
    claims = []
    if index == 0:
        claims.append(parent.claim())
        os.write(first_claimed[1], b"x")
        os.read(go[0], 1)  # held up until the other worker has been told that nothing is left
    else:
        os.read(first_claimed[0], 1)
    while True:
        portion = parent.claim()
        if portion is None:
            break
        claims.append(portion)
    if index == 1:
        os.write(go[1], b"x")
    return claims


def test_a_worker_held_up_leaves_the_rest_of_its_region_to_the_other_from_its_back():
    from stage2_lint.checking import workers

    first_claimed, go = os.pipe(), os.pipe()
    try:
        answers = workers.answers([(0, first_claimed, go), (1, first_claimed, go)], _held_up_first_worker, portions=10)
    finally:
        for end in first_claimed + go:
            os.close(end)
    assert answers == [[0], [5, 6, 7, 8, 9, 4, 3, 2, 1]]


def _stops_claiming_early(task, parent):
    return parent.claim()


def _dies_while_claiming(task, parent):
    parent.claim()
    if task == 2:
        os._exit(3)
    while parent.claim() is not None:
        pass


@pytest.mark.parametrize("work, error, words", [
    (_stops_claiming_early, RuntimeError, "in a worker process: RuntimeError: the worker returned before it was "
                                          "told that no work is left"),
    (_dies_while_claiming, WorkerDied, "a worker process died before it finished"),
])
def test_a_worker_that_stops_claiming_early_ends_the_run_with_its_reason(work, error, words):
    from stage2_lint.checking import workers

    with pytest.raises(error) as raised:
        workers.answers([1, 2, 3], work, portions=12)
    assert words in str(raised.value)


def _surface_tree(root):
    """A contract whose surface spans both workers' shares: an intermediate parent in the first
    half, the leaf that extends it in the second, and enough plain leaves around them."""
    files = {"setup.cfg": "[stage2_lint.contract.fam]\nscope = configs/**/*.yaml\n"
                          "canonical = configs/*/prod/*.yaml\nrequired_parent = ../base.yaml\n",
             "configs/a/base.yaml": "a: 1\n", "configs/z/base.yaml": "a: 1\n",
             "configs/a/variants/h.yaml": "extends: ../base.yaml\n",
             "configs/a/prod/mid.yaml": "extends: ../variants/h.yaml\n",
             "configs/z/prod/on_mid.yaml": "extends: ../../a/prod/mid.yaml\n"}
    for index in range(40):  # few enough that mid.yaml is in the first worker's region
        files[f"configs/a/prod/l{index:03d}.yaml"] = "extends: ../base.yaml\n"
    for index in range(PARALLEL_FROM - 40):
        files[f"configs/z/prod/l{index:03d}.yaml"] = "extends: ../base.yaml\n"
    write_tree(root, files, contract=False)


def test_workers_pool_the_canonical_surface_and_report_what_one_process_reports(tmp_path, monkeypatch):
    from stage2_lint.checking import engine
    from stage2_lint.contracts.settings import read_settings_file

    _surface_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    settings = read_settings_file(str(tmp_path / "setup.cfg"))
    files = engine.discover(["configs"], settings, [], [])
    shares = _first_two_shares(files)
    whole, parts = engine._surface_parts(shares, settings, engine.YAML_RULES)
    # each worker reads the surface files of its own share, and only those
    assert [sorted(part["fam"]) for part in parts] == [sorted(set(share) & set(whole["fam"])) for share in shares]
    assert "configs/a/prod/mid.yaml" in parts[0]["fam"] and "configs/z/prod/on_mid.yaml" in parts[1]["fam"]
    parallel = engine.lint_paths(["configs"], settings, jobs=2)
    assert parallel == engine.lint_paths(["configs"], settings, jobs=1)
    assert [v.format() for v in parallel.violations if v.code == "S2L050"] == [
        "configs/a/prod/mid.yaml:1:1: S2L050 intermediate parent on the canonical surface (extended by "
        "configs/z/prod/on_mid.yaml); only one-hop leaves live here"]


def test_a_run_over_part_of_the_surface_leaves_each_worker_to_read_the_rest(tmp_path, monkeypatch):
    from stage2_lint.checking import engine
    from stage2_lint.contracts.settings import read_settings_file

    _surface_tree(tmp_path)
    write_tree(tmp_path, {f"configs/a/prod/more{index:03d}.yaml": "extends: ../base.yaml\n"
                          for index in range(PARALLEL_FROM)}, contract=False)
    monkeypatch.chdir(tmp_path)
    settings = read_settings_file(str(tmp_path / "setup.cfg"))
    files = engine.discover(["configs/a"], settings, [], [])
    assert engine._surface_parts(_first_two_shares(files), settings, engine.YAML_RULES) is None
    rules = tuple(rule for rule in engine.YAML_RULES if not rule.asks_surface)
    assert engine._surface_parts(_first_two_shares(files), settings, rules) is None
    parallel = engine.lint_paths(["configs/a"], settings, jobs=2)
    assert parallel == engine.lint_paths(["configs/a"], settings, jobs=1)
    assert [v.format() for v in parallel.violations if v.code == "S2L050"] == [
        "configs/a/prod/mid.yaml:1:1: S2L050 intermediate parent on the canonical surface (extended by "
        "configs/z/prod/on_mid.yaml); only one-hop leaves live here"]


@pytest.mark.parametrize("action, code, said", [
    ("kill", 2, "stage2-lint: error: a worker process died before it finished"),
    ("sigint-parent", 130, "stage2-lint: interrupted"),
])
def test_a_worker_killed_or_a_ctrl_c_during_the_exchange_ends_the_run_and_every_worker(tmp_path, action, code, said):
    _surface_tree(tmp_path)
    process, out, err = _run(f"surface_links:z/prod/on_mid.yaml:{action}", tmp_path)
    assert process.returncode == code
    assert said in err and "Traceback" not in err
    assert out == ""
    assert _group_is_gone(process.pid)


def test_pooling_gives_one_process_verdict_from_another_directory_and_through_a_symlinked_leaf(tmp_path, monkeypatch):
    from stage2_lint.checking import engine
    from stage2_lint.contracts.settings import read_settings_file

    project = tmp_path / "project"
    _surface_tree(project)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the shares are absolute, the surface relative to here
    settings = read_settings_file(str(project / "setup.cfg"))
    configs = str(project / "configs")
    whole, parts = engine._surface_parts(_first_two_shares(engine.discover([configs], settings, [], [])), settings,
                                         engine.YAML_RULES)
    assert sum(len(part["fam"]) for part in parts) == len(whole["fam"])  # each surface file has its worker
    for step in ("as it is", "with a symlinked leaf"):
        if step == "with a symlinked leaf":  # one file, two names on the surface, one of them walked
            os.symlink("on_mid.yaml", project / "configs/z/prod/alias.yaml")
        parallel = engine.lint_paths([configs], settings, jobs=2)
        assert parallel == engine.lint_paths([configs], settings, jobs=1), step
        intermediate = [v.message for v in parallel.violations if v.code == "S2L050"]
        assert len(intermediate) == 1 and "on_mid.yaml" in intermediate[0], step
        assert ("alias.yaml" in intermediate[0]) is (step == "with a symlinked leaf")
        # a chain asked about by its absolute path is shown absolute all the way (its first hop
        # used to keep the spelling of whichever asked about that file first)
        chains = [v.message.rpartition(": ")[2] for v in parallel.violations if v.code == "S2L012"]
        assert chains and all(os.path.isabs(hop) for chain in chains for hop in chain.split(" -> ")), chains
