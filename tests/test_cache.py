"""The result cache never outlives a change: mutate each input kind (the leaf, a parent, a
missing parent, the surface, the settings, the schema, the tool) and the violation is back on
the next run; a warm run re-checks nothing; touching the shared base re-checks exactly the
leaves under it; a planted or damaged cache hides nothing; the directory is ignored by git,
bounded, and left alone with --no-cache or ``cache = false``."""
import json
import subprocess
import sys

import pytest

from stage2_lint.checking import cache as result_cache, engine
from stage2_lint.checking.cache import ResultCache
from stage2_lint.checking.engine import lint_paths, select_rules
from stage2_lint.contracts.settings import find_settings

from conftest import REPO, run_cli_process, write_tree

SETTINGS = """\
[stage2_lint.contract.fam]
scope = configs/**/*.yaml
canonical = configs/fam/prod/*.yaml
required_parent = ../base.yaml
required_keys = model.name
schema = schemas/fam.json
"""
SCHEMA = {"type": "object", "additionalProperties": False,
          "properties": {"extends": {}, "model": {"type": "object", "additionalProperties": False,
                                                  "properties": {"name": {"type": "string"},
                                                                 "depth": {"type": "integer"}}}}}
LEAVES = {f"configs/fam/prod/leaf{index}.yaml": f"extends: ../base.yaml\nmodel:\n  name: m{index}\n"
          for index in range(4)}


@pytest.fixture(autouse=True)
def private_secret(tmp_path, monkeypatch):
    """Each test its own user cache directory (where the digest key lives)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


def make_project(tmp_path, monkeypatch):
    """A checkout of one contract (four leaves, their base, a schema), the working directory."""
    root = tmp_path / "project"
    write_tree(root, {"setup.cfg": SETTINGS, "schemas/fam.json": json.dumps(SCHEMA),
                      "configs/fam/base.yaml": "model:\n  depth: 2\n", **LEAVES}, contract=False)
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def _run(paths=("configs",)):
    """One run as the CLI makes it: (codes of the violations, how many files came from the cache)."""
    settings = find_settings(".")
    rules = select_rules(settings, [], [])
    cache = ResultCache.open(settings, result_cache.rule_choice([], []))
    report = lint_paths(list(paths), settings, rules, cache=cache)
    return sorted(f"{v.path}:{v.code}" for v in report.violations), report.cached


def test_a_warm_run_rechecks_nothing_and_says_the_same(project):
    cold = _run()
    assert cold == ([], 0)
    assert _run() == ([], 5)
    (project / "configs/fam/prod/leaf0.yaml").write_text("extends: ../base.yaml\nmodel:\n  nmae: x\n")
    found, cached = _run()
    assert found == ["configs/fam/prod/leaf0.yaml:S2L020", "configs/fam/prod/leaf0.yaml:S2L060"] and cached == 4
    assert _run() == (found, 5)  # a cached violation is reported again, not lost


def test_touching_the_shared_base_rechecks_exactly_the_leaves_under_it(project):
    _run()
    (project / "configs/fam/base.yaml").write_text("model:\n  depth: 3\n")
    assert _run() == ([], 0)  # the base itself and its four leaves: every file here reads it
    write_tree(project, {"configs/fam/other.yaml": "model: {depth: 1}\n"}, contract=False)
    _run()
    (project / "configs/fam/other.yaml").write_text("model: {depth: 4}\n")
    assert _run() == ([], 5)  # nothing extends other.yaml: only it is re-checked


def _hook_run(paths, cache_on=True):
    """The pre-commit hook's request (``--with-dependents --with-surface``): (the files it
    checked, their violations, the files it parsed)."""
    from stage2_lint.tree import store

    parsed, real_load = [], store.load_document
    settings = find_settings(".")
    cache = ResultCache.open(settings, result_cache.rule_choice([], [])) if cache_on else None
    store.load_document = lambda path, limits: parsed.append(path) or real_load(path, limits)
    try:
        report = lint_paths(list(paths), settings, select_rules(settings, [], []), with_dependents=True,
                            with_surface=True, cache=cache)
    finally:
        store.load_document = real_load
    return sorted(report.files), sorted(f"{v.path}:{v.code}" for v in report.violations), sorted(parsed)


def test_the_hooks_request_after_one_edit_parses_only_what_changed_and_finds_what_a_cold_run_finds(project):
    """Every commit: the leaves that depend on a changed file are found through the links the
    cache stored for unchanged bytes, so the other leaves are not parsed; the answer is the
    cold run's, for a changed leaf and for the changed shared base."""
    _hook_run(["configs/fam/prod/leaf2.yaml"])
    (project / "configs/fam/prod/leaf2.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 7\n")
    files, found, parsed = _hook_run(["configs/fam/prod/leaf2.yaml"])
    assert parsed == ["configs/fam/base.yaml", "configs/fam/prod/leaf2.yaml"]
    assert (files, found) == _hook_run(["configs/fam/prod/leaf2.yaml"], cache_on=False)[:2]
    assert found == ["configs/fam/prod/leaf2.yaml:S2L040"]
    (project / "configs/fam/base.yaml").write_text("model:\n  depth: 3\n")
    files, found, parsed = _hook_run(["configs/fam/base.yaml"])
    assert (files, found) == _hook_run(["configs/fam/base.yaml"], cache_on=False)[:2]
    assert files == ["configs/fam/base.yaml", *sorted(LEAVES)]  # every leaf under the base, again


@pytest.mark.parametrize("mutation", ["leaf", "parent", "missing parent", "surface", "settings", "schema", "tool"])
def test_no_entry_outlives_a_change_of_any_input(project, monkeypatch, mutation):
    leaf = project / "configs/fam/prod/leaf1.yaml"
    if mutation == "missing parent":
        leaf.write_text("extends: [../base.yaml, ../extra.yaml]\nmodel:\n  name: m\n")
    if mutation == "surface":  # leaf1 takes a detour (S2L012); nothing extends it yet
        write_tree(project, {"configs/fam/variants/v.yaml": "extends: ../base.yaml\n"}, contract=False)
        leaf.write_text("extends: ../variants/v.yaml\nmodel:\n  name: m\n")
    before, files = _run()[0], len(list(project.glob("configs/**/*.yaml")))
    assert _run() == (before, files)
    if mutation == "leaf":
        leaf.write_text("extends: ../base.yaml\nmodel:\n  name: 3\n")
        expected = "configs/fam/prod/leaf1.yaml:S2L040"
    elif mutation == "parent":
        (project / "configs/fam/base.yaml").write_text("model:\n  depth: deep\n")
        expected = "configs/fam/base.yaml:S2L040"
    elif mutation == "missing parent":  # the parent appears, and it breaks the schema
        (project / "configs/fam/extra.yaml").write_text("model:\n  colour: red\n")
        expected = "configs/fam/extra.yaml:S2L060"
    elif mutation == "surface":  # a new leaf chains onto leaf1, which becomes an intermediate parent
        (project / "configs/fam/prod/zchild.yaml").write_text("extends: leaf1.yaml\nmodel:\n  name: z\n")
        expected = "configs/fam/prod/leaf1.yaml:S2L050"
    elif mutation == "settings":
        (project / "setup.cfg").write_text(SETTINGS.replace("required_keys = model.name",
                                                            "required_keys = model.name model.depth"))
        expected = "configs/fam/prod/leaf1.yaml:S2L020"
    elif mutation == "schema":
        schema = json.loads(json.dumps(SCHEMA))
        schema["properties"]["model"]["properties"]["name"] = {"type": "integer"}
        (project / "schemas/fam.json").write_text(json.dumps(schema))
        expected = "configs/fam/prod/leaf1.yaml:S2L040"
    else:  # the tool: a new version whose rules find more (an edited module counts as one too)
        monkeypatch.setattr(result_cache, "__version__", "9.9.9")
        monkeypatch.setattr(engine, "lint_file", _finding_more(engine.lint_file))
        expected = "configs/fam/prod/leaf1.yaml:S2L999"
    after, cached = _run()
    assert expected in after and cached < len(list(project.glob("configs/**/*.yaml"))), (after, cached)


def test_a_parent_reached_through_a_directory_symlink_is_checked_again_when_the_link_moves(project):
    """``extends: ../shared/base.yaml`` where ``shared`` is a symlink: retargeting the link
    changes the parent while no file's bytes change (in one process too: the run forgets
    where directories led)."""
    import os

    write_tree(project, {"configs/fam/v1/base.yaml": "model:\n  depth: 2\n",
                         "configs/fam/v2/base.yaml": "extends: ../exp/x.yaml\n",
                         "configs/fam/exp/x.yaml": "extends: ../shared/base.yaml\nmodel:\n  name: m\n"},
               contract=False)
    os.symlink("v1", project / "configs/fam/shared")
    assert _run(["configs/fam/exp/x.yaml"]) == ([], 0) and _run(["configs/fam/exp/x.yaml"]) == ([], 1)
    os.unlink(project / "configs/fam/shared")
    os.symlink("v2", project / "configs/fam/shared")  # now x.yaml -> v2/base.yaml -> x.yaml
    assert _run(["configs/fam/exp/x.yaml"]) == (["configs/fam/exp/x.yaml:S2L011"], 0)


def test_dependents_follow_a_directory_symlink_that_moved_while_no_bytes_changed(project):
    """The cache keeps each file's ``extends`` as written (a function of its bytes) and asks the
    disk where it leads: ``shared`` retargeted from v1 to v2 makes the leaf a dependent of v2."""
    import os

    write_tree(project, {"configs/fam/v1/base.yaml": "model:\n  depth: 2\n",
                         "configs/fam/v2/base.yaml": "model:\n  depth: 3\n",
                         "configs/fam/prod/linked.yaml": "extends: ../shared/base.yaml\nmodel:\n  name: m\n"},
               contract=False)
    os.symlink("v1", project / "configs/fam/shared")
    settings = find_settings(".")

    def dependents_of(parent: str, cache_on: bool) -> list:
        cache = ResultCache.open(settings, result_cache.rule_choice([], [])) if cache_on else None
        report = lint_paths([parent], settings, select_rules(settings, [], []), with_dependents=True, cache=cache)
        return sorted(report.files)

    assert "configs/fam/prod/linked.yaml" in dependents_of("configs/fam/v1/base.yaml", True)
    assert "configs/fam/prod/linked.yaml" in dependents_of("configs/fam/v1/base.yaml", True)  # from the cache
    os.unlink(project / "configs/fam/shared")
    os.symlink("v2", project / "configs/fam/shared")
    found = dependents_of("configs/fam/v2/base.yaml", True)
    assert "configs/fam/prod/linked.yaml" in found and found == dependents_of("configs/fam/v2/base.yaml", False)
    assert "configs/fam/prod/linked.yaml" not in dependents_of("configs/fam/v1/base.yaml", True)


def _finding_more(lint_file):
    from stage2_lint.core.records import Violation

    def newer(path, resolver, rules):
        extra = [Violation(path, 1, 1, "S2L999", "a new rule")] if path.endswith("leaf1.yaml") else []
        return lint_file(path, resolver, rules) + extra
    return newer


def test_a_cache_planted_in_the_repository_matches_nothing(project, tmp_path, monkeypatch):
    """A cache made under another user's key (committed, or planted by a pull request) claims
    a broken leaf is clean; it is never believed."""
    bad = project / "configs/fam/prod/leaf2.yaml"
    clean = bad.read_text()
    bad.write_text(clean.replace("name: m2", "name: [1]"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker"))
    assert _run()[0] == ["configs/fam/prod/leaf2.yaml:S2L040"]
    results = project / ".stage2_lint_cache/results.json"
    forged = json.loads(results.read_text())
    for entry in forged["entries"].values():
        entry["violations"] = []  # the forgery: every file clean
    results.write_text(json.dumps(forged))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "victim"))
    assert _run() == (["configs/fam/prod/leaf2.yaml:S2L040"], 0)


@pytest.mark.parametrize("damage", [b"", b"{not json", b"[]", b'{"salt": 1}', b"\xff" * 100])
def test_a_damaged_cache_is_an_empty_one(project, damage):
    (project / "configs/fam/prod/leaf3.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 1\n")
    _run()
    (project / ".stage2_lint_cache/results.json").write_bytes(damage)
    assert _run() == (["configs/fam/prod/leaf3.yaml:S2L040"], 0)
    assert _run()[1] == 5  # and it is whole again


def test_the_directory_is_ignored_by_git_and_bounded(project, monkeypatch):
    monkeypatch.setattr(result_cache, "MAX_ENTRIES", 3)
    _run()
    directory = project / ".stage2_lint_cache"
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project,
                            capture_output=True, text=True, check=True).stdout
    assert ".stage2_lint_cache" not in status
    assert len(json.loads((directory / "results.json").read_text())["entries"]) == 3


def test_no_cache_and_the_setting_leave_no_directory(project):
    result = run_cli_process(["--no-cache", "configs"], cwd=project)
    assert result.returncode == 0 and not (project / ".stage2_lint_cache").exists()
    (project / "setup.cfg").write_text("[stage2_lint]\ncache = false\n" + SETTINGS)
    assert run_cli_process(["configs"], cwd=project).returncode == 0
    assert not (project / ".stage2_lint_cache").exists()
    (project / "setup.cfg").write_text("[stage2_lint]\ncache_dir = build/lint-cache\n" + SETTINGS)
    run_cli_process(["configs"], cwd=project)
    assert (project / "build/lint-cache/results.json").is_file()
    second = run_cli_process(["configs"], cwd=project)
    assert "(5 from the cache)" in second.stderr


def test_a_cache_directory_symlinked_out_of_the_project_is_not_written(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".stage2_lint_cache").symlink_to(outside)
    assert run_cli_process(["configs"], cwd=project).returncode == 0
    assert list(outside.iterdir()) == []


def test_two_runs_sharing_the_cache_both_report_truly_and_leave_it_whole(project):
    (project / "configs/fam/prod/leaf0.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 0\n")
    command = [sys.executable, "-m", "stage2_lint", "configs"]
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(project.parent / "user-cache")}
    runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env) for _ in range(4)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert all(run.returncode == 1 for run in runs)
    assert all(out.startswith("configs/fam/prod/leaf0.yaml:3:9: S2L040") for out, _ in outputs)
    json.loads((project / ".stage2_lint_cache/results.json").read_text())  # one whole file
    assert _run() == (["configs/fam/prod/leaf0.yaml:S2L040"], 5)


def test_a_change_in_a_schema_file_reached_by_ref_rechecks_everything(project):
    model = SCHEMA["properties"]["model"]
    (project / "schemas/model.json").write_text(json.dumps(model))
    (project / "schemas/fam.json").write_text(json.dumps(
        {**SCHEMA, "properties": {"extends": {}, "model": {"$ref": "model.json"}}}))
    assert _run() == ([], 0) and _run() == ([], 5)
    changed = json.loads(json.dumps(model))
    changed["properties"]["name"] = {"type": "integer"}
    (project / "schemas/model.json").write_text(json.dumps(changed))
    found, cached = _run()
    assert cached == 0 and "configs/fam/prod/leaf0.yaml:S2L040" in found


def test_a_mark_the_disk_cannot_take_is_left_absent_not_torn_and_made_by_the_next_run(project, monkeypatch):
    """The marks are created whole or not at all: when the disk refuses (full, at the sync),
    no ``.gitignore`` is left empty or cut short (which would let the cache be committed),
    no temp file stays, nothing is cached, and the run's verdict is the same."""
    import errno
    import os

    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    first = _run()
    directory = project / ".stage2_lint_cache"
    assert sorted(path.name for path in directory.iterdir()) == []
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert _run() == first
    assert (directory / ".gitignore").read_text() == "# stage2-lint's result cache: never commit it\n*\n"
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert _run()[1] == 5


def test_planted_symlinks_inside_the_cache_directory_lead_no_write_outside(project, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    directory = project / ".stage2_lint_cache"
    directory.mkdir()
    for name in ("results.json", ".gitignore", "CACHEDIR.TAG"):
        (directory / name).symlink_to(victim)
    assert run_cli_process(["configs"], cwd=project).returncode == 0
    assert victim.read_text() == "keep me\n"
    assert not (directory / "results.json").is_symlink()  # replaced, not written through


def test_the_tool_fingerprint_covers_every_module_of_the_package():
    """An edited module anywhere in the package is another tool (the cache module lives in a
    folder of its own: its fingerprint must still start at the package root)."""
    from stage2_lint.checking.cache import _tool_fingerprint

    package = REPO / "stage2_lint"
    printed = _tool_fingerprint()
    for module in package.rglob("*.py"):
        assert f"\n{module.relative_to(package)}:" in printed, module
