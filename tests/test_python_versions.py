"""The linter installs and runs on Python 3.9 and 3.10, as ML images and hook environments
still ship them: a fresh venv of each interpreter this machine has, ``pip install`` of this
checkout, then the README's lint command and a pyproject.toml-configured project (the TOML
reader is ``tomli`` before 3.11)."""
import shutil
import subprocess

import pytest

from conftest import REPO, interpreter as _interpreter, write_tree

OLDER = ("3.9", "3.10")


@pytest.fixture(scope="module", params=OLDER)
def older_venv(request, tmp_path_factory):
    python = _interpreter(request.param)
    if python is None:
        pytest.skip(f"no Python {request.param} on this machine")
    venv = tmp_path_factory.mktemp(f"py{request.param}") / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    source = tmp_path_factory.mktemp("source") / "stage2-lint"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                                "bench"))
    install = subprocess.run([str(venv / "bin/pip"), "install", "-q", str(source)], capture_output=True, text=True,
                             timeout=600)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return venv


def test_the_readme_lint_command_passes(older_venv):
    result = subprocess.run([str(older_venv / "bin/stage2-lint"), "configs/stage2_ab"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("stage2-lint: ") and "files checked, no violations" in result.stderr


def test_a_pyproject_toml_contract_is_read(older_venv, tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.stage2_lint.contract.fam]\nscope = ["configs/**/*.yaml"]\n'
                          'canonical = ["configs/fam/prod/*.yaml"]\nrequired_parent = "../base.yaml"\n',
        "configs/fam/base.yaml": "a: 1\n",
        "configs/fam/prod/leaf.yaml": "b: 2\n",
    }, contract=False)
    (tmp_path / ".git").mkdir()
    result = subprocess.run([str(older_venv / "bin/stage2-lint"), "configs"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ("configs/fam/prod/leaf.yaml:1:1: S2L012 canonical leaf has no 'extends'; it must "
                             "extend exactly '../base.yaml'\n")
