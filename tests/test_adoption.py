"""The README's "Use it in your repository", followed literally in a fresh repository: its
files written as the README shows them, its commands run as the README writes them, with real
git, pip, pre-commit and flake8. The README's repository URL is served by a clone of this
checkout (git's ``url.<base>.insteadOf``), tagged with the README's release tag, so nothing
in the section is rewritten. Then the GitHub Actions example's steps run against the result.
On the oldest supported Python and on the newest this machine has."""
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import REPO, interpreter

README = (REPO / "README.md").read_text()
SECTION = README[README.index("## Use it in your repository"):README.index("## Where the contract is enforced")]
WORKFLOW = yaml.safe_load((REPO / "docs/github-actions-example.yml").read_text())
TOOL_URL, TAG = re.search(r"repo: (\S+)\n\s+rev: (\S+)", SECTION).groups()

BASE = "model:\n  name: tiny\noptim:\n  lr: 0.001\nsampler:\n  batch_size: 2\n"
GOOD_LEAF = "extends: ../base.yaml\nmodel:\n  name: tiny-prod\noptim:\n  lr: 0.0005\n"


def _blocks(kind: str):
    """(argument, text) of each block the section marks ``<!-- adoption:KIND ARG -->``."""
    pattern = rf"<!-- adoption:{kind} ?(\S*) -->\n```[a-z]*\n(.*?)```"
    return re.findall(pattern, SECTION, re.S)


class Adopter:
    """A team's fresh repository and its shell: a venv first on PATH, a private git config
    and pre-commit cache, nothing from this checkout on PYTHONPATH."""

    def __init__(self, root, python):
        self.root, self.repo = root, root / "team"
        self.repo.mkdir()
        tool = root / "tool"
        subprocess.run(["git", "clone", "-q", str(REPO), str(tool)], check=True, timeout=120)
        subprocess.run(["git", "-C", str(tool), "tag", "-f", TAG], check=True, capture_output=True)
        (root / "gitconfig").write_text("[user]\n\tname = Team\n\temail = team@example.com\n"
                                        "[init]\n\tdefaultBranch = main\n")
        # The URL redirect travels as GIT_CONFIG_KEY_n/VALUE_n: pre-commit drops other GIT_*
        # variables (GIT_CONFIG_GLOBAL too) before it runs git, but keeps these.
        redirect = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": f"url.file://{tool}.insteadOf",
                    "GIT_CONFIG_VALUE_0": TOOL_URL, "GIT_CONFIG_KEY_1": "protocol.file.allow",
                    "GIT_CONFIG_VALUE_1": "always"}
        subprocess.run([python, "-m", "venv", str(root / "venv")], check=True, timeout=120)
        keep = ("HOME", "LANG", "TMPDIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE")
        self.env = {**{key: os.environ[key] for key in keep if key in os.environ},
                    "PATH": f"{root / 'venv/bin'}:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV": str(root / "venv"),
                    "GIT_CONFIG_GLOBAL": str(root / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
                    "PRE_COMMIT_HOME": str(root / "pre-commit-home"), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                    **redirect}

    def sh(self, command: str, timeout=900, extra_env=None):
        return subprocess.run(["bash", "-e", "-c", command], cwd=self.repo, capture_output=True, text=True,
                              timeout=timeout, env={**self.env, **(extra_env or {})})

    def write(self, files: dict) -> None:
        for relative, text in files.items():
            target = self.repo / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, message: str):
        self.sh("git add -A")
        return self.sh(f"git commit -q -m '{message}'")


PYTHONS = ["3.9", "3.13"]


@pytest.fixture(scope="module", params=PYTHONS)
def adopted(request, tmp_path_factory):
    """A repository that has followed the section: files written, commands run."""
    python = interpreter(request.param)
    if python is None:
        pytest.skip(f"no Python {request.param} on this machine")
    team = Adopter(tmp_path_factory.mktemp(f"adoption{request.param}"), python)
    assert team.sh("git init -q").returncode == 0
    files = dict(_blocks("file"))
    assert set(files) == {"setup.cfg", "team_config.py", ".pre-commit-config.yaml"}
    team.write(files)
    team.write({"configs/recipes/base.yaml": BASE, "configs/recipes/prod/a.yaml": GOOD_LEAF})
    (commands,) = [text for _, text in _blocks("run")]
    for command in commands.strip().splitlines():
        done = team.sh(command)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return team


def test_the_section_exports_the_schema_and_installs_the_hooks(adopted):
    assert (adopted.repo / "schemas/recipes.schema.json").is_file()
    assert (adopted.repo / ".git/hooks/pre-commit").is_file()
    version = adopted.sh("stage2-lint --version")
    assert version.returncode == 0 and version.stdout.startswith("stage2-lint ")


def test_a_good_commit_passes_and_a_bad_one_fails_naming_the_file(adopted):
    good = adopted.commit("profiles that conform")
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    adopted.write({"configs/recipes/smoke/b.yaml": "extends: ../base.yaml\nmodel:\n  name: tiny-smoke\n",
                   "train.py": "def batch(cfg):\n    return cfg['custom']['extra']['sampler']\n"})
    bad = adopted.commit("a leaf without optim.lr and code reading the retired namespace")
    said = bad.stdout + bad.stderr  # git prints what the hooks said on stderr
    assert bad.returncode == 1
    assert ("configs/recipes/smoke/b.yaml:1:1: S2L020 optim.lr is not set in this leaf (it inherits 0.001 from "
            "configs/recipes/base.yaml:4); canonical leaves pin it explicitly") in said, said
    assert "train.py:2:12: S2P001 reads the retired custom.extra.sampler namespace" in said, said
    assert adopted.sh("git log --format=%s").stdout.splitlines() == ["profiles that conform"]
    adopted.sh("git reset -q --hard && git clean -qfd")


def _workflow_steps():
    steps = WORKFLOW["jobs"]["contract"]["steps"]
    install = [step["run"] for step in steps if "pip install" in step.get("run", "")]
    assert install == [f'python -m pip install "stage2-lint @ git+{TOOL_URL}@{TAG}"']  # what the section installed
    return {step["name"]: step["run"] for step in steps if "run" in step and "name" in step}


def test_the_actions_example_tells_violations_from_could_not_run(adopted, tmp_path):
    """The workflow's own shell steps, run as Actions runs them (``bash -e``): violations make
    the gate fail and the summary report them; settings that cannot be read fail every step."""
    assert "OWNER" not in str(WORKFLOW) and "REV" not in str(WORKFLOW) and "|| true" not in str(WORKFLOW)
    steps = _workflow_steps()
    summary = tmp_path / "summary.md"
    adopted.write({"configs/recipes/smoke/b.yaml": "extends: ../base.yaml\nmodel:\n  name: tiny-smoke\n"})

    def run(name):
        return adopted.sh(steps[name], timeout=120, extra_env={"GITHUB_STEP_SUMMARY": str(summary)})

    assert run("job summary").returncode == 0
    assert "S2L020" in summary.read_text() and "```mermaid" in summary.read_text()
    gate = run("contract gate")
    assert gate.returncode == 1 and "::error file=configs/recipes/smoke/b.yaml,line=1,col=1,title=S2L020::" \
        in gate.stdout
    assert run("SARIF report").returncode == 0 and (adopted.repo / "stage2-lint.sarif").stat().st_size > 0
    assert run("schema is current").returncode == 0
    shutil.copy(adopted.repo / "setup.cfg", tmp_path / "setup.cfg")
    adopted.write({"setup.cfg": (tmp_path / "setup.cfg").read_text().replace("scope =", "scpoe =")})
    try:
        for name in ("job summary", "contract gate", "SARIF report"):
            failed = run(name)
            assert failed.returncode == 2, (name, failed.stdout, failed.stderr)
            assert "unknown setting 'scpoe'" in failed.stderr
    finally:
        shutil.copy(tmp_path / "setup.cfg", adopted.repo / "setup.cfg")
        adopted.sh("rm -f configs/recipes/smoke/b.yaml stage2-lint.sarif")
