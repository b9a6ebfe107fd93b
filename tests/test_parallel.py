"""Parallel mode (from 200 files): a worker that dies ends the run with exit 2 instead of
a wait that never returns; Ctrl-C exits 130 with no traceback; no worker is left behind."""
import os
import subprocess
import sys

from stage2_lint.checking.engine import PARALLEL_FROM

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
    out, err = process.communicate(timeout=30)
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


def test_a_killed_worker_ends_the_run_with_exit_2(tmp_path):
    _big_tree(tmp_path)
    process, out, err = _run("lint_file:f0007.yaml:kill", tmp_path)
    assert process.returncode == 2
    assert "stage2-lint: error: a worker process died before it finished" in err
    assert out == ""
    assert _group_is_gone(process.pid)


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
    forks = []
    real_fork = workers.fork_worker
    monkeypatch.setattr(workers, "fork_worker", lambda work, task: forks.append(task[0]) or real_fork(work, task))
    parallel = engine.lint_paths(["configs"], settings, jobs=2)
    serial = engine.lint_paths(["configs"], settings, jobs=1)
    # two contiguous halves, here one directory each: a shared parent would be parsed by one worker
    assert [{os.path.dirname(path) for path in share} for share in forks] == [{"configs/fam"}, {"configs/other"}]
    assert parallel == serial
    assert set(parallel.ungoverned) == {path for path in parallel.files if "/other/" in path}
    assert len(parallel.violations) == PARALLEL_FROM // 2 + 5


def test_shares_are_contiguous_runs_in_path_order_that_cover_every_file():
    from stage2_lint.checking.engine import _shares

    files = [f"d{index % 3}/f{index}" for index in range(10)]
    shares = _shares(files, 3)
    assert [len(share) for share in shares] == [4, 3, 3]
    assert sum(shares, []) == sorted(files)
