"""The hook through the real pre-commit binary: an installed hook and real `git commit`s."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, install_contract

BIN = Path(sys.executable).parent


def _git(repo, *args, check=True):
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check, timeout=120,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                               "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
                               "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})


def _local_hook() -> dict:
    """The exported hook of .pre-commit-hooks.yaml as a local hook running this venv's
    stage2-lint: same arguments, file filter and always_run, so the two cannot drift."""
    exported = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    command, *arguments = exported["entry"].split()
    assert command == "stage2-lint"
    return {**exported, "entry": " ".join([str(BIN / "stage2-lint"), *arguments]), "language": "system"}


@pytest.fixture
def repo(tmp_path):
    """A git repository holding a copy of the canonical configs, with the hook installed."""
    root = tmp_path / "work"
    shutil.copytree(REPO / "configs", root / "configs")
    install_contract(root)
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [_local_hook()]}]}))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "canonical configs", "--no-verify")
    subprocess.run([str(BIN / "pre-commit"), "install"], cwd=root, check=True, capture_output=True, timeout=60,
                   env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})
    return root


def _commit(repo, message):
    _git(repo, "add", "-A")
    result = _git(repo, "commit", "-m", message, check=False)
    return result.returncode, result.stdout + result.stderr


def test_commit_adding_the_legacy_namespace_is_blocked(repo):
    leaf = repo / "configs/stage2_ab/prod/b_only.yaml"
    leaf.write_text(leaf.read_text() + "custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 2\n")
    status, output = _commit(repo, "legacy knob")
    assert status != 0
    lines = len(leaf.read_text().splitlines())
    assert (f"configs/stage2_ab/prod/b_only.yaml:{lines}:7: S2L030 custom.extra.rollout_matching.decode_batch_size "
            f"is in the retired namespace; move it to rollout_matching.decode_batch_size") in output
    assert _git(repo, "log", "--oneline").stdout.count("\n") == 1  # nothing was committed


def test_commit_breaking_the_base_is_reported_at_the_leaves(repo):
    base = repo / "configs/stage2_ab/base.yaml"
    base.write_text(base.read_text() + "training: [broken\n")
    status, output = _commit(repo, "edit only the base")
    assert status != 0
    for leaf in ("prod/a_only", "prod/ab_mixed", "smoke/b_only"):
        assert (f"configs/stage2_ab/{leaf}.yaml:4:10: S2L011 parent configs/stage2_ab/base.yaml cannot be loaded: "
                in output), output


def test_conforming_commit_passes(repo):
    leaf = repo / "configs/stage2_ab/prod/ab_mixed.yaml"
    leaf.write_text(leaf.read_text().replace("eval_steps: 100", "eval_steps: 120"))
    (repo / "configs/stage2_ab/smoke/b_only.yaml").unlink()  # a deleted leaf crashes nothing
    status, output = _commit(repo, "tune eval cadence")
    assert status == 0, output
    assert "stage2-lint" in output and "Passed" in output


def test_exported_hook_manifest_through_try_repo(repo, tmp_path):
    """`pre-commit try-repo <this checkout> stage2-lint`: the manifest installs and runs."""
    leaf = repo / "configs/stage2_ab/prod/b_only.yaml"
    leaf.write_text(leaf.read_text().replace("  run_name: prod_b_only_bbox_max60_ckpt1516_ep2\n", ""))
    _git(repo, "add", "-A")
    result = subprocess.run([str(BIN / "pre-commit"), "try-repo", str(REPO), "stage2-lint", "--files",
                             "configs/stage2_ab/prod/b_only.yaml"], cwd=repo, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "S2L020 training.run_name is not set in this leaf" in result.stdout


def test_commit_deleting_the_base_is_blocked(repo):
    _git(repo, "rm", "-q", "configs/stage2_ab/base.yaml")
    status, output = _commit(repo, "drop the base")
    assert status != 0, output
    for leaf in ("prod/a_only", "prod/ab_mixed", "smoke/b_only"):
        assert (f"configs/stage2_ab/{leaf}.yaml:4:10: S2L011 parent '../base.yaml' does not exist" in output), output
    assert _git(repo, "log", "--oneline").stdout.count("\n") == 1


def test_commit_renaming_the_base_is_blocked(repo):
    _git(repo, "mv", "configs/stage2_ab/base.yaml", "configs/stage2_ab/base_v2.yaml")
    status, output = _commit(repo, "rename the base")
    assert status != 0, output
    assert "configs/stage2_ab/prod/b_only.yaml:4:10: S2L011 parent '../base.yaml' does not exist" in output


def test_commit_touching_no_config_still_checks_the_surface_cheaply(repo):
    (repo / "README.md").write_text("notes\n")
    status, output = _commit(repo, "docs only")
    assert status == 0, output
    assert "stage2-lint" in output and "Passed" in output
