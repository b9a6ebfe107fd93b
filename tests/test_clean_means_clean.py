"""No spelling of a path, file or setting gets a broken profile past the contract: a clone
reached through a symlink, a symlinked config directory, a nested config root, a `.yml` leaf,
no settings at all, settings above the repository, a suppression inside a scalar, values that
Python's == confuses."""
import os
import shutil
import subprocess
import sys

import pytest

from stage2_lint.guard import ConfigContractError, enforce

from conftest import REPO, run_cli_process, write_tree

BROKEN = "configs/stage2_ab/prod/a_only.yaml"


@pytest.fixture
def clone(tmp_path):
    """A copy of this repository's profiles and contract (a checkout: it has .git), with one
    leaf broken, and a symlink to it as a symlinked workspace would be."""
    real = tmp_path / "real"
    for name in ("configs", "schemas"):
        shutil.copytree(REPO / name, real / name)
    shutil.copy(REPO / "setup.cfg", real / "setup.cfg")
    (real / ".git").mkdir()
    leaf = real / BROKEN
    leaf.write_text(leaf.read_text().replace("  eval_steps: 80\n", "  eval_steps: no\n"))
    assert "eval_steps: no" in leaf.read_text()
    os.symlink(real, tmp_path / "link")
    return tmp_path


def _findings(result):
    """Each violation without its path: line, column, code and message."""
    return [line.split(":", 1)[1] for line in result.stdout.splitlines()]


def test_a_clone_reached_through_a_symlink_gets_the_verdict_of_the_real_path(clone):
    real = run_cli_process([f"real/{BROKEN}"], cwd=clone)
    linked = run_cli_process([f"link/{BROKEN}"], cwd=clone)
    inside = run_cli_process([BROKEN], cwd=clone / "link")
    assert real.returncode == linked.returncode == inside.returncode == 1
    assert any(" S2L040 training.eval_steps: " in line for line in real.stdout.splitlines()), real.stdout
    assert _findings(real) == _findings(linked) == _findings(inside)
    with pytest.raises(ConfigContractError, match="S2L040 training.eval_steps"):
        enforce(str(clone / "link" / BROKEN))
    trained = subprocess.run([sys.executable, "-m", "src.sft", "--config", str(clone / "link" / BROKEN),
                              "--dry-run"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert trained.returncode != 0 and "S2L040 training.eval_steps" in trained.stderr, trained.stdout
    assert "Traceback" not in trained.stderr


def test_a_symlinked_config_directory_is_never_a_silent_pass(tmp_path):
    write_tree(tmp_path, {".git/HEAD": "", "elsewhere/stage2_ab/prod/x.yaml": "training:\n  eval_steps: 5\n"},
               contract=False)
    shutil.copy(REPO / "setup.cfg", tmp_path / "setup.cfg")
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    os.symlink(tmp_path / "elsewhere", tmp_path / "configs")
    linked = run_cli_process(["--no-cache", "configs/stage2_ab/prod/x.yaml"], cwd=tmp_path)
    real = run_cli_process(["--no-cache", "elsewhere/stage2_ab/prod/x.yaml"], cwd=tmp_path)
    assert (linked.returncode, linked.stdout, linked.stderr) == (real.returncode, real.stdout, real.stderr)
    assert "1 file is governed by no contract" in linked.stderr  # said, never a silent pass
    with pytest.raises(ConfigContractError, match="S2L080"):
        enforce(str(tmp_path / "configs/stage2_ab/prod/x.yaml"))


NESTED = """\
[stage2_lint]
root = training/configs
[stage2_lint.contract.family]
scope = training/configs/**/*.yaml
canonical = training/configs/family/prod/*.yaml
required_parent = ../base.yaml
required_keys = run.name
"""


def test_a_nested_config_root_uses_the_settings_file_directory_as_the_glob_base(tmp_path):
    write_tree(tmp_path, {"setup.cfg": NESTED, "training/configs/family/base.yaml": "run:\n  steps: 1\n",
                          "training/configs/family/prod/leaf.yaml": "extends: ../../other.yaml\n",
                          "training/configs/other.yaml": "run:\n  steps: 2\n"})
    result = run_cli_process([], cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert any(line.startswith("training/configs/family/prod/leaf.yaml:1:10: S2L012 ") for line in lines), lines
    assert any(line.startswith("training/configs/family/prod/leaf.yaml:1:1: S2L020 run.name ") for line in lines)


def test_a_yml_leaf_is_governed_and_the_loader_refuses_it(tmp_path):
    from src.config.loader import ConfigLoader

    for name in ("configs", "schemas"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "setup.cfg", tmp_path / "setup.cfg")
    (tmp_path / ".git").mkdir()
    good = (REPO / BROKEN).read_text()
    (tmp_path / "configs/stage2_ab/prod/x.yml").write_text(good.replace("  eval_steps: 80\n", ""))
    result = run_cli_process(["configs/stage2_ab/prod/x.yml"], cwd=tmp_path)
    assert "S2L020 training.eval_steps is not set in this leaf" in result.stdout, result.stdout
    with pytest.raises(ConfigContractError, match="S2L020 training.eval_steps"):
        ConfigLoader().load_training_config(str(tmp_path / "configs/stage2_ab/prod/x.yml"))
    preflight = subprocess.run([sys.executable, "-m", "src.launch_preflight",
                                str(tmp_path / "configs/stage2_ab/prod/x.yml")], cwd=REPO, capture_output=True,
                               text=True, timeout=60)
    assert preflight.returncode != 0 and "S2L020" in preflight.stderr


def test_without_settings_the_run_says_no_contract_applied(tmp_path):
    write_tree(tmp_path, {".git/HEAD": "", "configs/a.yaml": "a: 1\n", "configs/b.yaml": "b: 1\n"}, contract=False)
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "stage2-lint: 2 files checked, no violations",
        "stage2-lint: 2 files are governed by no contract (no settings file with a [stage2_lint] section was "
        "found): generic rules only"]


def test_require_contract_makes_an_ungoverned_profile_an_error(tmp_path):
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint]\nrequire_contract = true\n"
                                       "[stage2_lint.contract.c]\nscope = configs/c/*.yaml\n",
                          "configs/c/ok.yaml": "a: 1\n", "configs/d/stray.yaml": "a: 1\n", "ci/workflow.yml": "a: 1\n"})
    result = run_cli_process(["configs", "ci"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["configs/d/stray.yaml:1:1: S2L080 no contract governs this profile "
                                          "(contract scopes: configs/c/*.yaml), so only the generic rules checked it"]
    assert "2 files are governed by no contract" in result.stderr  # the CI file is noted, not an error


def test_a_settings_file_above_the_repository_never_applies(tmp_path):
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint]\nignore = S2L\n", "repo/.git/HEAD": "",
                          "repo/configs/x.yaml": "a: 1\na: 2\n"}, contract=False)
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path / "repo")
    assert result.returncode == 1 and " S2L002 duplicate key 'a'" in result.stdout


def test_text_inside_a_scalar_suppresses_nothing(tmp_path):
    write_tree(tmp_path, {".git/HEAD": "", "configs/x.yaml": (
        "a: 1\na: 2\nnote: |\n  # stage2-lint: disable-file=S2L\nq: \"# stage2-lint: disable-file=S2L002\"\n")},
        contract=False)
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path)
    assert result.returncode == 1 and "configs/x.yaml:2:1: S2L002" in result.stdout
    with pytest.raises(ConfigContractError):
        write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/*.yaml\n"})
        enforce(str(tmp_path / "configs/x.yaml"))


def test_diff_tells_numbers_from_booleans(tmp_path):
    write_tree(tmp_path, {".git/HEAD": "", "configs/a.yaml": "flags: [1, 0]\nrate: 1\n",
                          "configs/b.yaml": "flags: [true, false]\nrate: 1.0\n"}, contract=False)
    result = run_cli_process(["diff", "configs/a.yaml", "configs/b.yaml"], cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["flags:", "rate:"], result.stdout


def test_globs_that_the_matcher_cannot_read_are_refused_when_settings_are_read(tmp_path):
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/{a,b/*.yaml\n",
                          "configs/x.yaml": "a: 1\n"})
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 2 and "glob 'configs/{a,b/*.yaml': unclosed '{'" in result.stderr


def test_no_module_named_by_settings_runs_from_outside_the_repository(tmp_path):
    evil = "import pathlib\npathlib.Path(__file__).with_name('ran').write_text('x')\nclass Profile: pass\n"
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/*.yaml\nschema = s.json\n"
                                       "schema_source = evil:Profile\n", "evil.py": evil,
                          "repo/.git/HEAD": "", "repo/configs/x.yaml": "a: 1\n"}, contract=False)
    result = run_cli_process(["schema", "check"], cwd=tmp_path / "repo")
    assert not (tmp_path / "ran").exists() and "Traceback" not in result.stderr
    write_tree(tmp_path, {"repo/setup.cfg": "[stage2_lint.contract.c]\nscope = configs/*.yaml\nschema = s.json\n"
                                            "schema_source = json.decoder:JSONDecoder\n"})
    result = run_cli_process(["schema", "check"], cwd=tmp_path / "repo")
    assert result.returncode == 2 and "imports only the repository's own code" in result.stderr, result.stderr
