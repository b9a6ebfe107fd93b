"""The run memo answers a repeated request by ``lstat`` alone, and never outlives a change:
every input kind the result cache's tests mutate, and what only a walk sees (a file added,
deleted or renamed, a symlink retargeted), sends the run through the linter again; a file
too recent to trust by its signature is never recorded; a planted, damaged or foreign record
is ignored; the command line answers from it without importing the engine or PyYAML.

The racy-clean rule trusts a signature only when its times are 2 s older than the run. The
tests do not wait: they set every time in the project 100 s into the past, so any change a
test makes moves a time to now, and let the memo trust signatures of any age."""
import json
import os
import subprocess
import sys
import time

import pytest

from stage2_lint.checking import cache as result_cache, engine, run_memo
from stage2_lint.checking.cache import ResultCache
from stage2_lint.checking.engine import lint_paths, select_rules
from stage2_lint.contracts.settings import find_settings

from conftest import REPO, write_tree
from test_cache import LEAVES, SCHEMA, SETTINGS, make_project

PAST_NS = 100 * 10**9


@pytest.fixture(autouse=True)
def private_secret(tmp_path, monkeypatch):
    """Each test its own user cache directory (where the seal's key lives)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


@pytest.fixture
def trusting(monkeypatch):
    """Signatures of any age are trusted (the times are set in the past instead)."""
    monkeypatch.setattr(run_memo, "SETTLE_NS", -PAST_NS)


def _into_the_past(root) -> None:
    """Every time under ``root``, and of ``root`` itself, 100 s ago (symlinks too, not their targets)."""
    past = time.time_ns() - PAST_NS
    for directory, subdirs, names in os.walk(root):
        for name in subdirs + names:
            os.utime(os.path.join(directory, name), ns=(past, past), follow_symlinks=False)
    os.utime(root, ns=(past, past))


def _cache():
    settings = find_settings(".")
    return settings, ResultCache.open(settings, result_cache.rule_choice([], []))


def _run(paths=("configs",), **options):
    """(codes of the violations, whether the run memo answered)."""
    settings, cache = _cache()
    request = run_memo.request_of(list(paths), options.get("with_dependents", False),
                                  options.get("with_surface", False))
    recalled = run_memo.recall(cache, request) is not None
    report = lint_paths(list(paths), settings, select_rules(settings, [], []), cache=cache, **options)
    return sorted(f"{v.path}:{v.code}" for v in report.violations), recalled


def _records(project):
    return sorted(path.name for path in (project / ".stage2_lint_cache").glob(f"{run_memo.PREFIX}*"))


def test_a_repeated_request_is_answered_by_the_memo_alone(project, trusting, monkeypatch):
    bad = project / "configs/fam/prod/leaf2.yaml"
    bad.write_text("extends: ../base.yaml\nmodel:\n  name: 2\n")
    _into_the_past(project)
    first = _run()
    assert first == (["configs/fam/prod/leaf2.yaml:S2L040"], False) and len(_records(project)) == 1
    monkeypatch.setattr(engine, "discover", _must_not_run)
    monkeypatch.setattr(engine, "lint_file", _must_not_run)
    assert _run() == (first[0], True)


def _must_not_run(*args, **kwargs):
    raise AssertionError("the memo should have answered")


def _new_leaf(project):
    (project / "configs/fam/prod/leaf9.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 9\n")
    return "configs/fam/prod/leaf9.yaml:S2L040"


def _deleted_leaf(project):
    (project / "configs/fam/prod/leaf2.yaml").unlink()
    return None  # leaf2's violation is gone


def _renamed_leaf(project):
    os.rename(project / "configs/fam/prod/leaf2.yaml", project / "configs/fam/prod/moved.yaml")
    return "configs/fam/prod/moved.yaml:S2L040"


def _changed_leaf(project):
    (project / "configs/fam/prod/leaf1.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 3\n")  # same size
    return "configs/fam/prod/leaf1.yaml:S2L040"


def _changed_parent(project):
    (project / "configs/fam/base.yaml").write_text("model:\n  depth: x\n")
    return "configs/fam/base.yaml:S2L040"


def _settings_changed(project):
    (project / "setup.cfg").write_text(SETTINGS.replace("required_keys = model.name",
                                                        "required_keys = model.name model.depth"))
    return "configs/fam/prod/leaf1.yaml:S2L020"


def _schema_changed(project):
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["model"]["properties"]["name"] = {"type": "integer"}
    (project / "schemas/fam.json").write_text(json.dumps(schema))
    return "configs/fam/prod/leaf1.yaml:S2L040"


MUTATIONS = {"a new leaf": _new_leaf, "a deleted leaf": _deleted_leaf, "a renamed leaf": _renamed_leaf,
             "a leaf changed, same size": _changed_leaf, "the parent": _changed_parent,
             "the settings": _settings_changed, "the schema": _schema_changed}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_no_record_outlives_a_change(project, trusting, mutation):
    (project / "configs/fam/prod/leaf2.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 2\n")
    _into_the_past(project)
    before = _run()[0]
    assert _run() == (before, True)
    expected = MUTATIONS[mutation](project)
    after, recalled = _run()
    assert not recalled
    if expected is None:
        assert after == [code for code in before if "leaf2" not in code]
    else:
        assert expected in after, after
    assert _run() == (after, True)  # and the new state is recorded in turn


def test_a_retargeted_directory_symlink_on_a_parents_path_is_seen(project, trusting):
    write_tree(project, {"configs/fam/v1/base.yaml": "model:\n  depth: 2\n",
                         "configs/fam/v2/base.yaml": "extends: ../exp/x.yaml\n",
                         "configs/fam/exp/x.yaml": "extends: ../shared/base.yaml\nmodel:\n  name: m\n"},
               contract=False)
    os.symlink("v1", project / "configs/fam/shared")
    _into_the_past(project)
    named = ["configs/fam/exp/x.yaml"]
    assert _run(named) == ([], False) and _run(named) == ([], True)
    os.unlink(project / "configs/fam/shared")
    os.symlink("v2", project / "configs/fam/shared")
    assert _run(named) == (["configs/fam/exp/x.yaml:S2L011"], False)


def test_a_hook_record_made_from_stored_links_sees_a_retargeted_directory_symlink(project, trusting):
    """A run whose dependents came from the result cache's stored ``extends`` parsed no leaf;
    its record still sees ``shared`` retargeted, and the leaf becomes a dependent of v2."""
    write_tree(project, {"configs/fam/v1/base.yaml": "model:\n  depth: 2\n",
                         "configs/fam/v2/base.yaml": "model:\n  depth: 3\n",
                         "configs/fam/prod/linked.yaml": "extends: ../shared/base.yaml\nmodel:\n  name: 5\n"},
               contract=False)
    os.symlink("v1", project / "configs/fam/shared")
    _into_the_past(project)
    named = ["configs/fam/v2/base.yaml"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_memo, "SETTLE_NS", 10**12)  # the first run makes no record
        assert _run(named, with_dependents=True) == ([], False)
    assert _run(named, with_dependents=True) == ([], False) and len(_records(project)) == 1  # links from the cache
    assert _run(named, with_dependents=True) == ([], True)
    os.unlink(project / "configs/fam/shared")
    os.symlink("v2", project / "configs/fam/shared")
    assert _run(named, with_dependents=True) == (["configs/fam/prod/linked.yaml:S2L012",
                                                  "configs/fam/prod/linked.yaml:S2L040"], False)


def test_a_retargeted_symlink_named_on_the_command_line_is_seen(project, trusting):
    (project / "configs/fam/prod/leaf2.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 2\n")
    os.symlink("leaf1.yaml", project / "configs/fam/prod/chosen.yaml")
    _into_the_past(project)
    named = ["configs/fam/prod/chosen.yaml"]
    assert _run(named) == ([], False) and _run(named) == ([], True)
    os.unlink(project / "configs/fam/prod/chosen.yaml")
    os.symlink("leaf2.yaml", project / "configs/fam/prod/chosen.yaml")
    assert _run(named) == (["configs/fam/prod/chosen.yaml:S2L040"], False)


def test_a_profile_added_where_the_walk_found_none_is_seen(project, trusting):
    """A directory holding no profile yet is above no file the run read: only the walk's own
    record of it (and of the surface's glob base, on a run with no path) sees a file arrive."""
    (project / "configs/fam/prod/later").mkdir()
    (project / "configs/fam/exp").mkdir()
    _into_the_past(project)
    for named in (["configs"], []):
        assert _run(named) == ([], False) and _run(named) == ([], True)
    (project / "configs/fam/exp/x.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 1\n")
    assert _run(["configs"]) == (["configs/fam/exp/x.yaml:S2L040"], False)


def test_a_retargeted_directory_symlink_named_on_the_command_line_is_seen(project, trusting):
    write_tree(project, {"configs/fam/a/x.yaml": "extends: ../base.yaml\nmodel:\n  name: a\n",
                         "configs/fam/b/x.yaml": "extends: ../base.yaml\nmodel:\n  name: 1\n"}, contract=False)
    os.symlink("a", project / "configs/fam/chosen")
    _into_the_past(project)
    named = ["configs/fam/chosen"]
    assert _run(named) == ([], False) and _run(named) == ([], True)
    os.unlink(project / "configs/fam/chosen")
    os.symlink("b", project / "configs/fam/chosen")
    assert _run(named) == (["configs/fam/chosen/x.yaml:S2L040"], False)


def test_the_hooks_request_sees_a_new_dependent_leaf(project, trusting):
    """``--with-dependents --with-surface base.yaml``: a new leaf under the base is linted."""
    _into_the_past(project)
    named = ["configs/fam/base.yaml"]
    assert _run(named, with_dependents=True, with_surface=True) == ([], False)
    assert _run(named, with_dependents=True, with_surface=True) == ([], True)
    expected = _new_leaf(project)
    assert _run(named, with_dependents=True, with_surface=True) == ([expected], False)


def test_a_parallel_run_records_what_its_workers_read(project, trusting, monkeypatch):
    """Each worker reads its share's parents: the parent process must learn of them to see a change."""
    monkeypatch.setattr(engine, "PARALLEL_FROM", 2)
    write_tree(project, {f"configs/fam/deep/p{index}.yaml": f"model:\n  depth: {index}\n" for index in range(6)},
               contract=False)
    write_tree(project, {f"configs/fam/deep/c{index}.yaml": f"extends: p{index}.yaml\n" for index in range(6)},
               contract=False)
    _into_the_past(project)
    assert _run(jobs=2) == ([], False) and _run(jobs=2) == ([], True)
    (project / "configs/fam/deep/p5.yaml").write_text("model:\n  depth: z\n")
    assert "configs/fam/deep/p5.yaml:S2L040" in _run(jobs=2)[0]


def test_a_record_made_by_a_run_the_result_cache_answered_knows_every_input(project, trusting):
    """A run whose every verdict came from the result cache parses nothing: what the record
    knows of each file's inputs comes from the digests that checked them."""
    _into_the_past(project)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_memo, "SETTLE_NS", 10**12)  # this first run makes no record
        assert _run() == ([], False) and _records(project) == []
    assert _run() == ([], False) and len(_records(project)) == 1  # every verdict from the result cache
    (project / "configs/fam/base.yaml").write_text("model:\n  depth: x\n")
    assert "configs/fam/base.yaml:S2L040" in _run()[0]


def test_a_parallel_hook_run_records_the_chains_it_read_to_find_dependents(project, trusting, monkeypatch):
    """``--with-dependents base.yaml`` reads every canonical leaf's chain in the parent
    process; a leaf that comes to extend the base becomes a dependent and is linted."""
    monkeypatch.setattr(engine, "PARALLEL_FROM", 2)
    (project / "configs/fam/other.yaml").write_text("model:\n  depth: 1\n")
    (project / "configs/fam/prod/leaf3.yaml").write_text("extends: ../other.yaml\nmodel:\n  name: m3\n")
    _into_the_past(project)
    named = ["configs/fam/base.yaml"]
    assert _run(named, with_dependents=True, jobs=2) == ([], False)
    assert _run(named, with_dependents=True, jobs=2) == ([], True)
    (project / "configs/fam/prod/leaf3.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 3\n")
    assert _run(named, with_dependents=True, jobs=2) == (["configs/fam/prod/leaf3.yaml:S2L040"], False)


def test_a_canonical_surface_that_was_empty_is_seen_to_fill(project, trusting):
    for leaf in LEAVES:
        (project / leaf).unlink()
    _into_the_past(project)
    assert _run([]) == ([], False) and _run([]) == ([], True)
    (project / "configs/fam/prod/leaf0.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 0\n")
    assert _run([]) == (["configs/fam/prod/leaf0.yaml:S2L040"], False)


def test_a_file_changed_just_before_the_run_is_never_trusted_by_its_signature(project):
    """With the real rule: a file whose time is not 2 s older than the run's start keeps any
    record from being written (it may change again within one tick of the clock)."""
    _into_the_past(project)
    recent = time.time_ns() + 10**9  # as if written an instant after the run began
    os.utime(project / "configs/fam/prod/leaf1.yaml", ns=(recent, recent))
    _run()
    _run()
    assert _records(project) == []


def test_a_record_sealed_by_another_user_or_damaged_is_ignored(project, trusting, tmp_path, monkeypatch):
    bad = project / "configs/fam/prod/leaf2.yaml"
    bad.write_text("extends: ../base.yaml\nmodel:\n  name: 2\n")
    _into_the_past(project)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker"))
    _run()
    [name] = _records(project)
    record = project / ".stage2_lint_cache" / name
    seal, _, text = record.read_text().partition("\n")
    forged = json.loads(text)
    forged["report"][1] = []  # every file clean
    forged_text = json.dumps(forged)
    record.write_text(seal + "\n" + forged_text)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker"))
    assert _run() == (["configs/fam/prod/leaf2.yaml:S2L040"], False)  # a seal that does not match
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "victim"))
    for name in _records(project):  # the victim's own name for the request is another: plant under it too
        (project / ".stage2_lint_cache" / name).write_text(seal + "\n" + forged_text)
    assert _run() == (["configs/fam/prod/leaf2.yaml:S2L040"], False)
    for damage in ("", "x\n{", "\n\n", "\xff"):
        for name in _records(project):
            (project / ".stage2_lint_cache" / name).write_text(damage)
        assert _run() == (["configs/fam/prod/leaf2.yaml:S2L040"], False)


def test_every_format_says_the_same_from_the_memo(project, trusting, capsys):
    """The command line in one process: each format of a recalled run is the fresh run's."""
    from stage2_lint import cli

    (project / "configs/fam/prod/leaf2.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: [2]\n")
    (project / "configs/fam/prod/leaf3.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: m3\n  x: 1\n")
    _into_the_past(project)
    for form in ("text", "json", "github", "sarif"):
        outputs = []
        for options in (["--no-cache"], [], []):  # fresh; recorded; recalled
            code = cli.main([*options, "--format", form, "--statistics", "configs"])
            outputs.append((code,) + tuple(capsys.readouterr()))
        fresh, _, recalled = outputs
        assert recalled[0] == fresh[0] == 1 and recalled[1] == fresh[1], form
        assert recalled[2].replace(" (5 from the cache)", "") == fresh[2], form  # the summary says where
    assert len(_records(project)) == 1  # one record serves every format: it holds the report, not its text


def test_a_file_system_that_keeps_no_times_is_never_trusted(project, trusting):
    _into_the_past(project)
    os.utime(project / "configs/fam/prod/leaf1.yaml", ns=(0, 0))
    _run()
    _run()
    assert _records(project) == []


def test_a_checkout_reached_through_a_symlink_sees_a_changed_yml_profile(project, trusting, tmp_path, monkeypatch):
    """The doors a check can slip through: a checkout entered through a symlink, a ``.yml``."""
    link = tmp_path / "checkout"
    link.symlink_to(project)
    monkeypatch.chdir(link)
    (project / "configs/fam/exp").mkdir()
    (project / "configs/fam/exp/x.yml").write_text("extends: ../base.yaml\nmodel:\n  name: x\n")
    _into_the_past(project)
    assert _run() == ([], False) and _run() == ([], True)
    (project / "configs/fam/exp/x.yml").write_text("extends: ../base.yaml\nmodel: {}\nmodel: {}\n")
    assert _run() == (["configs/fam/exp/x.yml:S2L002"], False)  # (out of the scope's *.yaml: generic rules)


def test_records_are_bounded(project, trusting, monkeypatch):
    monkeypatch.setattr(run_memo, "MAX_RECORDS", 2)
    _into_the_past(project)
    for leaf in sorted(LEAVES):
        _run([leaf])
    assert len(_records(project)) == 2


def test_the_command_line_answers_from_the_memo_without_the_engine_or_pyyaml(project):
    """Two processes, each run as the command line runs (``cli.main``); the second finds the
    record, says the same, and never imports the engine, a rule or PyYAML."""
    (project / "configs/fam/prod/leaf2.yaml").write_text("extends: ../base.yaml\nmodel:\n  name: 2\n")
    _into_the_past(project)
    script = ("import sys\nfrom stage2_lint.checking import run_memo\nrun_memo.SETTLE_NS = -10**11\n"
              "from stage2_lint import cli\ncode = cli.main(['configs'])\n"
              "heavy = sorted(m for m in sys.modules if m == 'yaml' or m.startswith(('stage2_lint.checking.engine', "
              "'stage2_lint.checking.rules', 'stage2_lint.documents', 'stage2_lint.tree')))\n"
              "print('imported:', heavy, file=sys.stderr)\nsys.exit(code)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cold, warm = (subprocess.run([sys.executable, "-c", script], cwd=project, env=env, capture_output=True,
                                 text=True, timeout=60) for _ in range(2))
    assert cold.returncode == warm.returncode == 1
    assert warm.stdout == cold.stdout and warm.stdout.startswith("configs/fam/prod/leaf2.yaml:3:9: S2L040")
    assert "imported: []" in warm.stderr and "(5 from the cache)" in warm.stderr
    assert "imported: []" not in cold.stderr
