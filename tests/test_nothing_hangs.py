"""No input hangs it, crashes it or changes what it did not promise to change: flatten and its
dependents, linear time and memory, every stranger's file read safely, the runtime's own
fields validated, refused writes, parallel runs under signals, and a stdout that fails.

Each test fails on the release before this change. None asserts on wall time: a hang shows
as the subprocess timeout, everything else is asserted on outputs and recorded events."""
import json
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from stage2_lint.core import globs
from stage2_lint.tree import merge
from stage2_lint.checking.engine import PARALLEL_FROM
from stage2_lint.tree.resolver import Resolver
from stage2_lint.contracts.settings import read_settings_file

from conftest import REPO, reference_resolve, run_cli_process, write_tree

FAULTS = REPO / "tests" / "faults.py"
FAMILY = """\
[stage2_lint.contract.fam]
scope = configs/**/*.yaml
canonical = configs/fam/prod/*.yaml
required_parent = ../base.yaml
"""


def _project(root, files, settings=FAMILY):
    write_tree(root, {"setup.cfg": settings, **files}, contract=False)
    (root / ".git").mkdir(exist_ok=True)
    return root


# -- flatten promises only what it does --------------------------------------------------

def test_flatten_over_a_shared_parent_refuses_naming_each_dependent_that_would_change(tmp_path):
    root = _project(tmp_path, {
        "configs/base.yaml": "x: 1\n",
        "configs/fam/base.yaml": "section:\n  a: 1\nother: 2\n",
        "configs/fam/prod/sibling.yaml": "extends: ../base.yaml\nseed: 2\n",
        "configs/fam/prod/leaf.yaml": "extends: ../../base.yaml\nseed: 3\nother: 2\nsection: {a: 1}\n",
    })
    shared = root / "configs/fam/base.yaml"
    before = shared.read_bytes()
    sibling_before = reference_resolve(root / "configs/fam/prod/sibling.yaml")
    args = ["flatten", "configs/fam/prod/leaf.yaml", "--onto", "configs/base.yaml", "--output", "configs/fam/base.yaml"]
    result = run_cli_process(args, cwd=root)
    assert result.returncode == 1
    assert ("configs/fam/base.yaml is extended by 1 profile(s) whose resolved values would change: "
            "configs/fam/prod/sibling.yaml (x); nothing was written (pass --change-dependents") in result.stderr
    assert shared.read_bytes() == before
    result = run_cli_process([*args, "--change-dependents"], cwd=root)
    assert result.returncode == 0, result.stderr
    assert "1 profile(s) extending it now resolve differently: configs/fam/prod/sibling.yaml (x)" in result.stderr
    sibling_after = reference_resolve(root / "configs/fam/prod/sibling.yaml")
    assert sibling_after == {**sibling_before, "x": 1, "seed": 2}  # what the message said, and only that


def test_flatten_replaces_a_quoted_extends_key_instead_of_adding_a_second(tmp_path):
    root = _project(tmp_path, {
        "configs/base.yaml": "x: 1\n",
        "configs/fam/base.yaml": "other: 2\n",
        "configs/fam/prod/leaf.yaml": '"extends": ../../base.yaml  # old parent\nother: 2\n',
    })
    leaf = root / "configs/fam/prod/leaf.yaml"
    old = reference_resolve(leaf)
    result = run_cli_process(["flatten", "configs/fam/prod/leaf.yaml"], cwd=root)
    assert result.returncode == 0, result.stderr
    text = leaf.read_text()
    assert text.startswith("# old parent\nextends: ../base.yaml\n") and text.count("extends") == 1, text
    assert reference_resolve(leaf) == old
    assert run_cli_process(["configs"], cwd=root).returncode == 0


def test_flatten_that_cannot_unset_a_parents_keys_refuses_at_once(tmp_path):
    root = _project(tmp_path, {
        "configs/base.yaml": "x: 1\n",
        "configs/fam/base.yaml": "section:\n  a: 1\n",
        "configs/fam/prod/leaf.yaml": "extends: ../../base.yaml\nsection: {}\n",
    })
    leaf = root / "configs/fam/prod/leaf.yaml"
    before = leaf.read_bytes()
    result = run_cli_process(["flatten", "configs/fam/prod/leaf.yaml"], cwd=root, timeout=20)
    assert result.returncode == 1
    assert "section would still differ from the old chain's value" in result.stderr
    assert leaf.read_bytes() == before


def test_flatten_pins_values_type_for_type(tmp_path):
    root = _project(tmp_path, {
        "configs/base.yaml": "lr: 1.0\nflag: true\ncount: 1\n",
        "configs/fam/base.yaml": "lr: 1\nflag: 1\ncount: 1.0\n",
        "configs/fam/prod/leaf.yaml": "extends: ../../base.yaml\n",
    })
    leaf = root / "configs/fam/prod/leaf.yaml"
    old = reference_resolve(leaf)
    result = run_cli_process(["flatten", "configs/fam/prod/leaf.yaml"], cwd=root)
    assert result.returncode == 0, result.stderr
    new = reference_resolve(leaf)
    assert new == old and [type(new[key]) for key in ("lr", "flag", "count")] == [float, bool, int]


# -- linear time and memory ---------------------------------------------------------------

def test_a_parent_listed_40000_times_is_merged_once(tmp_path, monkeypatch):
    root = _project(tmp_path, {
        "configs/fam/base.yaml": "a: 1\nb: {c: 2}\n",
        "configs/fam/leaf.yaml": "extends:\n" + "  - base.yaml\n" * 40_000 + "b: {d: 3}\n",
    })
    calls = []
    real = merge.deep_merge
    monkeypatch.setattr(merge, "deep_merge", lambda *args: calls.append(1) or real(*args))
    settings = read_settings_file(str(root / "setup.cfg"))
    resolved = Resolver(settings).merge.resolve(str(root / "configs/fam/leaf.yaml"))
    assert resolved.config == reference_resolve(root / "configs/fam/leaf.yaml") == {"a": 1, "b": {"c": 2, "d": 3}}
    assert len(calls) == 3  # the parent's own keys, the parent into the leaf, the leaf's own keys


def _reference_glob(pattern, name):
    """An independent glob: braces expanded, then component by component with fnmatch; ``**``
    spans directories; no wildcard matches a leading dot."""
    import fnmatch

    def expanded(text):
        match = re.search(r"\{([^{}]*)\}", text)
        if not match:
            return [text]
        return [out for option in match.group(1).split(",")
                for out in expanded(text[:match.start()] + option + text[match.end():])]

    def parts_match(pattern_parts, name_parts):
        if not pattern_parts:
            return not name_parts
        head, rest = pattern_parts[0], pattern_parts[1:]
        if head == "**":  # a trailing ** needs one component: it matches files below, not the directory
            return any(parts_match(rest, name_parts[index:]) for index in range(0 if rest else 1, len(name_parts) + 1)
                       if not any(part.startswith(".") for part in name_parts[:index]))
        if not name_parts:
            return False
        part = name_parts[0]
        if part.startswith(".") and not head.startswith("."):
            return False
        return fnmatch.fnmatchcase(part, head) and parts_match(rest, name_parts[1:])

    return any(parts_match(option.split("/"), name.split("/")) for option in expanded(pattern))


COMPONENT = st.lists(st.sampled_from(["*", "?", "a", "b", ".", "[ab]", "[!a]", "{a,b}", "{a*,.b}"]),
                     min_size=1, max_size=4).map("".join)
PATTERN = st.lists(st.one_of(COMPONENT, st.just("**")), min_size=1, max_size=4).map("/".join)
NAME = st.lists(st.text("ab.", min_size=1, max_size=4), min_size=1, max_size=4).map("/".join)


@pytest.mark.parametrize("pattern", ["configs/base.yaml", "a/.b", ".venv", "a.b/c"])
def test_a_glob_without_wildcards_is_one_name_compared_as_a_string(pattern):
    assert isinstance(globs.compiled(pattern), globs._Literal)
    for name in (pattern, pattern + "x", "x" + pattern, pattern.upper(), pattern + "/", pattern.replace(".", "x")):
        assert globs.matches(name, (pattern,)) == _reference_glob(pattern, name) == (name == pattern), name


@hypothesis_settings(max_examples=400, deadline=None, derandomize=True)
@given(pattern=PATTERN, names=st.lists(NAME, min_size=1, max_size=8))
def test_globs_agree_with_an_independent_matcher(pattern, names):
    if globs.problem(pattern):
        return
    items = globs._parse(pattern, 0, 0, None)[0]
    automaton = globs._Automaton(items)
    regex = globs._Regex(items) if globs._is_tame(items) else None  # the fast path, where it is taken
    for name in names:
        expected = _reference_glob(pattern, name)
        assert globs.matches(name, (pattern,)) == expected, (pattern, name)
        assert automaton.match(name) == expected, (pattern, name)
        assert regex is None or regex.match(name) == expected, (pattern, name)


def test_glob_matching_reads_each_character_once_whatever_the_pattern(monkeypatch):
    steps = []
    real = globs._Automaton._step
    monkeypatch.setattr(globs._Automaton, "_step", lambda self, *args: steps.append(1) or real(self, *args))
    for pattern, name in (("**/**/**/**/**/**/**/**/x", "a/" * 200 + "y"), ("*a*a*a*a*a*a*a*a*b", "a" * 300)):
        steps.clear()
        assert not globs.matches(name, (pattern,))
        assert len(steps) <= len(name)


def test_a_huge_max_file_bytes_reads_what_the_file_holds(tmp_path):
    root = _project(tmp_path, {"configs/fam/prod/leaf.yaml": "extends: ../base.yaml\na: 1\na: 2\n",
                               "configs/fam/base.yaml": "b: 1\n"},
                    settings=FAMILY + "[stage2_lint]\nmax_file_bytes = 100000000000\n")
    result = run_cli_process(["configs"], cwd=root, memory_mb=1024)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ("configs/fam/prod/leaf.yaml:3:1: S2L002 duplicate key 'a' (first set at line 2); "
                             "YAML keeps only the last value\n")


# -- every stranger's file read like a profile ---------------------------------------------

def test_a_settings_file_that_is_a_fifo_is_refused_not_skipped(tmp_path):
    root = _project(tmp_path, {"configs/fam/prod/leaf.yaml": "a: 1\n"}, settings="")
    (root / "setup.cfg").unlink()
    os.mkfifo(root / "setup.cfg")
    result = run_cli_process(["configs"], cwd=root, timeout=20)
    assert result.returncode == 2
    assert result.stderr == (f"stage2-lint: error: {root}/setup.cfg: not a regular file (FIFO, device or socket); "
                             f"refusing to read this settings file\n")


def test_a_settings_symlink_leading_out_of_the_repository_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "setup.cfg").write_text(FAMILY)
    root = _project(tmp_path / "repo", {"configs/fam/prod/leaf.yaml": "a: 1\n"}, settings="")
    (root / "setup.cfg").unlink()
    (root / "setup.cfg").symlink_to(outside / "setup.cfg")
    result = run_cli_process(["configs"], cwd=root)
    assert result.returncode == 2
    assert "setup.cfg: a symlink to" in result.stderr and "outside the repository" in result.stderr


def test_a_schema_symlink_leading_out_of_the_repository_is_refused(tmp_path):
    outside = tmp_path / "elsewhere.json"
    outside.write_text('{"type": "object"}')
    root = _project(tmp_path / "repo", {"configs/fam/prod/leaf.yaml": "extends: ../base.yaml\n",
                                        "configs/fam/base.yaml": "a: 1\n"},
                    settings=FAMILY + "schema = schemas/fam.json\n")
    (root / "schemas").mkdir()
    (root / "schemas/fam.json").symlink_to(outside)
    result = run_cli_process(["configs"], cwd=root)
    assert result.returncode == 2
    assert "schemas/fam.json: a symlink to" in result.stderr and "outside the repository" in result.stderr


@pytest.mark.parametrize("pattern,why", [
    ("^(a+)+$", "repeats a group that itself repeats or alternates"),
    ("^(a|ab)*c$", "repeats a group that itself repeats or alternates"),
    (".*.*.*x", "holds 3 unbounded quantifiers in a row"),
    ("[", "is not a valid regular expression"),
])
def test_a_schema_pattern_that_could_hang_or_is_invalid_is_exit_2_naming_the_pointer(tmp_path, pattern, why):
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": pattern}}}
    root = _project(tmp_path, {"configs/fam/prod/leaf.yaml": "extends: ../base.yaml\na: " + "a" * 40 + "b\n",
                               "configs/fam/base.yaml": "{}\n", "schemas/fam.json": json.dumps(schema)},
                    settings=FAMILY + "schema = schemas/fam.json\n")
    result = run_cli_process(["configs"], cwd=root, timeout=20)
    assert result.returncode == 2
    assert "schemas/fam.json: #/properties/a/pattern: " in result.stderr and why in result.stderr


def test_a_value_too_long_to_match_safely_is_reported_not_passed(tmp_path):
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^a+$"}}}
    root = _project(tmp_path, {"configs/fam/prod/leaf.yaml": "extends: ../base.yaml\na: " + "a" * 5000 + "\n",
                               "configs/fam/base.yaml": "{}\n", "schemas/fam.json": json.dumps(schema)},
                    settings=FAMILY + "schema = schemas/fam.json\n")
    result = run_cli_process(["configs"], cwd=root)
    assert result.returncode == 1
    assert "S2L040 a: expected a string matching ^a+$, got a string of 5000 characters" in result.stdout


# -- the runtime validates what it uses ---------------------------------------------------

SERVER = "configs/stage2_ab/base.yaml"


@pytest.mark.parametrize("edit,finding", [
    (("      - base_url: http://127.0.0.1:8000\n        group_port: 51216\n", "      - group_port: 51216\n"),
     "S2L040 rollout_matching.vllm.server.servers.0.base_url: required here and not set"),
    (("base_url: http://127.0.0.1:8000", 'base_url: "http://127.0.0.1:8000\\n"'),
     "S2L040 rollout_matching.vllm.server.servers.0.base_url: expected an http(s)://host:port URL"),
    (("group_port: 51216", "group_port: 70000"),
     "S2L040 rollout_matching.vllm.server.servers.0.group_port: expected an integer in [1, 65535], got 70000"),
    (("timeout_s: 240.0", "timeout_s: 1.0e+12"),
     "S2L040 rollout_matching.vllm.server.timeout_s: expected a number in [0, 86400]"),
])
def test_runtime_fields_are_required_and_bounded_at_lint_time_and_at_training_start(tmp_path, edit, finding):
    import shutil

    shutil.copytree(REPO / "configs", tmp_path / "configs")
    write_tree(tmp_path, {})  # this repository's contract and schema
    base = tmp_path / SERVER
    text = base.read_text()
    assert edit[0] in text
    base.write_text(text.replace(edit[0], edit[1], 1))
    result = run_cli_process(["configs/stage2_ab"], cwd=tmp_path)
    assert result.returncode == 1
    assert finding in result.stdout, result.stdout
    for entry in (["-m", "src.sft", "--config"], ["-m", "src.launch_preflight"]):
        run = subprocess.run([sys.executable, *entry, "configs/stage2_ab/smoke/ab_mixed.yaml"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        assert finding.split(" ", 1)[1] in run.stderr


# -- refused writes are refusals -----------------------------------------------------------

MOVED = FAMILY + "moved = old.ns -> new\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_fix_run_by_root_keeps_the_files_owner_and_group(tmp_path):
    root = _project(tmp_path, {"configs/fam/prod/leaf.yaml": "extends: ../base.yaml\nold:\n  ns:\n    a: 1\n",
                               "configs/fam/base.yaml": "{}\n"}, settings=MOVED)
    leaf = root / "configs/fam/prod/leaf.yaml"
    os.chown(leaf, 4321, 8765)
    result = run_cli_process(["fix", "configs"], cwd=root)
    assert result.returncode == 0, result.stderr
    assert "new:\n  a: 1\n" in leaf.read_text()
    assert (leaf.stat().st_uid, leaf.stat().st_gid) == (4321, 8765)


def test_a_refused_swap_is_that_files_refusal_and_the_run_goes_on(tmp_path):
    root = _project(tmp_path, {"configs/fam/a/leaf.yaml": "old:\n  ns:\n    a: 1\n",
                               "configs/fam/b/leaf.yaml": "old:\n  ns:\n    b: 1\n"}, settings=MOVED)
    result = subprocess.run([sys.executable, str(FAULTS), "os.replace:1:eperm", "fix", "configs"], cwd=root,
                            capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1, result.stderr
    assert result.stderr == ("stage2-lint: fixed 1 file(s): configs/fam/b/leaf.yaml\n"
                             "stage2-lint: refused 1 file(s), left as they were:\n"
                             "  configs/fam/a/leaf.yaml: cannot replace it: Operation not permitted\n")
    assert (root / "configs/fam/a/leaf.yaml").read_text() == "old:\n  ns:\n    a: 1\n"
    assert (root / "configs/fam/b/leaf.yaml").read_text() == "new:\n  b: 1\n"
    assert not [name for name in os.listdir(root / "configs/fam/a") if name != "leaf.yaml"]  # no temp file left


@pytest.fixture
def shared_dir():
    """A directory another user can reach (pytest's tmp_path sits below a 0700 directory)."""
    import pathlib
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="stage2-lint-shared-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_a_file_whose_owner_cannot_be_kept_is_refused_naming_the_owner(shared_dir):
    root = _project(shared_dir / "repo", {"configs/fam/a/leaf.yaml": "old:\n  ns:\n    a: 1\n"}, settings=MOVED)
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o777)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o666)
    os.chown(root / "configs/fam/a/leaf.yaml", 4321, 4321)
    code, stderr = _as_another_user(root, 5555, ["fix", "configs"])
    assert code == 1, stderr
    assert stderr == ("stage2-lint: refused 1 file(s), left as they were:\n"
                      "  configs/fam/a/leaf.yaml: it is owned by 4321:4321, and stage2-lint cannot give the new "
                      "text that owner and group; rewrite it as its owner\n")
    assert (root / "configs/fam/a/leaf.yaml").read_text() == "old:\n  ns:\n    a: 1\n"


def _as_another_user(root, uid, args):
    """Run the CLI in a forked child as ``uid`` (the interpreter lives under /root, which the
    user may not read, so no new interpreter starts: a dry run as root first imports every
    module the real run needs)."""
    from stage2_lint.cli import main

    err_path = root / "stderr.txt"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            os.chdir(root)
            sys.stdout = sys.stderr = open(os.devnull, "w")
            main(["fix", "--diff", *args[1:]])
            sys.stderr = open(err_path, "w", buffering=1)
            os.setgid(uid)
            os.setuid(uid)
            code = main(args)
            sys.stderr.flush()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    text = err_path.read_text()
    err_path.unlink()
    return os.waitstatus_to_exitcode(status), text


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_a_directory_the_walk_cannot_read_is_exit_2_not_a_pass(shared_dir):
    root = _project(shared_dir / "repo", {"configs/fam/prod/leaf.yaml": "a: 1\na: 2\n"})
    for directory, _, _ in os.walk(root):
        os.chmod(directory, 0o755)
    os.chmod(root / "configs/fam/prod", 0o700)  # root's own: the other user cannot list it
    code, stderr = _as_another_user(root, 5555, ["configs"])
    assert code == 2
    assert stderr == (f"stage2-lint: error: cannot read directory {root}/configs/fam/prod: Permission denied; "
                      f"nothing below it was checked\n")


# -- parallel runs end cleanly on any signal at any instant -------------------------------

@pytest.mark.parametrize("fault,code,message", [
    ("os.fork:1:sigint-after", 130, "stage2-lint: interrupted\n"),
    ("os.fork:2:sigint-after", 130, "stage2-lint: interrupted\n"),
    ("os.fork:1:sigterm-after", 143, "stage2-lint: terminated\n"),
    ("os.fork:2:sigterm-after", 143, "stage2-lint: terminated\n"),
    ("os.fork:2:sigint", 130, "stage2-lint: interrupted\n"),
])
def test_a_signal_right_after_a_fork_leaves_no_worker_behind(tmp_path, fault, code, message):
    """The signal arrives in the parent at the worst instant: a worker exists that the
    parent has not recorded yet. Asserted on the run's process group: empty afterwards."""
    files = {f"configs/many/f{index:04d}.yaml": f"a: {index}\n" for index in range(PARALLEL_FROM + 10)}
    write_tree(tmp_path, files)
    process = subprocess.Popen([sys.executable, str(FAULTS), fault, "-j", "2", "configs"], cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    out, err = process.communicate(timeout=60)  # an orphan holding stdout would block this
    assert (process.returncode, err) == (code, message)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


# -- a stdout that fails --------------------------------------------------------------------

def _dirty_tree(root):
    write_tree(root, {"configs/stage2_ab/x.yaml": "".join(f"k{i}: 1\nk{i}: 2\n" for i in range(2000))})


def test_a_closed_pipe_is_one_line_and_exit_141(tmp_path):
    _dirty_tree(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write is EPIPE
    result = subprocess.run([sys.executable, "-m", "stage2_lint", "configs"], cwd=tmp_path, stdout=write_end,
                            stderr=subprocess.PIPE, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "stage2-lint: output closed early (broken pipe)\n")


def test_a_full_disk_on_stdout_is_one_line_and_exit_2(tmp_path):
    _dirty_tree(tmp_path)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "stage2_lint", "configs"], cwd=tmp_path, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (result.returncode, result.stderr) == (2, "stage2-lint: error: cannot write the output: "
                                                     "No space left on device\n")


def test_a_closed_stdout_is_one_line_and_exit_2(tmp_path):
    _dirty_tree(tmp_path)
    result = subprocess.run(f"{sys.executable} -m stage2_lint configs >&-", shell=True, cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (result.returncode, result.stderr) == (2, "stage2-lint: error: standard output is closed; "
                                                     "nothing can be reported\n")


def test_glob_matching_stays_right_past_the_automatons_cache_bound(monkeypatch):
    """Past MAX_DFA_STATES the automaton stops caching (memory stays bounded); answers do not change."""
    monkeypatch.setattr(globs, "MAX_DFA_STATES", 2)
    cases = [("**/*a*b*.{yaml,yml}", "x/yab.yaml"), ("**/*a*b*.{yaml,yml}", "x/.ab.yaml"), ("*a*b", "aaab"),
             ("[!a]*/**", "b/c/d"), ("a/**/b", "a/x/.y/b")]
    for pattern, name in cases:
        automaton = globs._Automaton(globs._parse(pattern, 0, 0, None)[0])
        assert automaton.match(name) == _reference_glob(pattern, name), (pattern, name)
        assert len(automaton._sets) <= 3


def test_the_reader_takes_what_the_file_holds_and_refuses_what_grows_past_the_limit(tmp_path):
    from stage2_lint.core import reading

    class Growing:  # a file that grew after stat said 10 bytes
        def __init__(self, size):
            self.data = b"x" * size

        def read(self, count):
            out, self.data = self.data[:count], self.data[count:]
            return out

    assert reading._read_at_most(Growing(50), 100, 10, "config") == b"x" * 50
    with pytest.raises(reading.ReadRefused, match="config grew past the 30-byte limit while it was read"):
        reading._read_at_most(Growing(50), 30, 10, "config")
    path = tmp_path / "f.yaml"
    for size in (0, 1, 70_000):
        path.write_bytes(b"a" * size)
        assert reading.read_bounded(str(path), 1 << 20) == b"a" * size


@pytest.mark.parametrize("spelling", ["absolute", "dot-dot", "trailing-slash", "relative"])
def test_a_walk_finds_what_the_reference_glob_matches_however_its_base_is_spelled(tmp_path, monkeypatch, spelling):
    """The surface walk slices paths relative to its base instead of asking relpath; through
    every spelling of the base it must find exactly the files the reference glob matches."""
    names = ["configs/a/prod/x.yaml", "configs/a/prod/.h.yaml", "configs/a/prod/deep/y.yaml", "configs/b/smoke/z.yml",
             "configs/.git/prod/w.yaml", "configs/top.yaml", "other/prod/v.yaml"]
    write_tree(tmp_path, {name: "a: 1\n" for name in names})
    monkeypatch.chdir(tmp_path)
    anchor = {"absolute": str(tmp_path), "dot-dot": str(tmp_path / "configs" / ".."),
              "trailing-slash": str(tmp_path) + "/", "relative": "."}[spelling]
    patterns = ("configs/**/prod/*.yaml", "configs/*/smoke/*.{yaml,yml}", "configs/*.yaml", "./configs/*.yaml")
    found = sorted(os.path.relpath(path, anchor) for path in globs.expand_all(anchor, patterns))
    expected = sorted(name for name in names if any(_reference_glob(pattern, name) for pattern in patterns))
    assert found == expected == ["configs/a/prod/x.yaml", "configs/b/smoke/z.yml", "configs/top.yaml"]
    for pattern in patterns:  # one pattern at a time, as the stale-glob check asks
        assert sorted(os.path.relpath(p, anchor) for p in globs.expand(anchor, pattern)) == \
            [name for name in expected if _reference_glob(pattern, name)]
