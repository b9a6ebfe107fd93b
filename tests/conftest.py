import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
LEGACY = SHARED / "corpus" / "legacy-stage2-ab"
REAL = SHARED / "corpus" / "real-configs"


def pytest_configure(config):
    """Give the tools these tests start the Ctrl-C a terminal user has. A suite started in the
    background (``nohup``, ``&`` in a script) inherits SIGINT ignored, every child would too,
    and the interrupt tests would test nothing; a caught signal resets to its default on exec."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def copy_writable(source: Path, target: Path) -> None:
    """Copy a tree as a checkout would have it: files and directories writable by their
    owner (the corpus beside the repository is read-only, and writers refuse read-only files),
    governed by this repository's contract."""
    import shutil

    shutil.copytree(source, target, copy_function=shutil.copyfile)
    for directory, _, _ in os.walk(target):
        os.chmod(directory, 0o755)
    install_contract(target)


def install_contract(root: Path) -> None:
    """Give the project at ``root`` this repository's contract settings and schema file."""
    write_tree(root, contract_files(), contract=False)


# This repository's one moved prefix, as its contract declares it (for the fixer's own tests).
MOVED_ROLLOUT = ("custom.extra.rollout_matching", "rollout_matching")  # noqa: S2P001


def repo_settings(project_dir):
    """This repository's settings (contracts with absolute schema paths) for a tree elsewhere."""
    from stage2_lint.contracts.settings import read_settings_file

    return read_settings_file(str(REPO / "setup.cfg"))._replace(project_dir=str(project_dir), require_contract=False)


# Engine settings of this repository that the tests of generic rules do without: with
# require_contract, every scratch file outside the contracts' scopes would be S2L080 (which
# tests/test_clean_means_clean.py tests on its own).
GENERIC_TESTS_DROP = ("require_contract",)


def contract_files() -> dict:
    """This repository's contract settings and schema file, for a temporary project that
    should be governed as this repository is (the linter itself knows no contract)."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "setup.cfg", encoding="utf-8")
    lines = []
    for name in parser.sections():
        if name == "stage2_lint" or name.startswith("stage2_lint.contract."):
            lines.append(f"[{name}]")
            lines.extend(f"{key} = " + value.replace("\n", "\n    ") for key, value in parser.items(name)
                         if key not in GENERIC_TESTS_DROP)
    schemas = {f"schemas/{path.name}": path.read_text() for path in (REPO / "schemas").glob("*.json")}
    return {"setup.cfg": "\n".join(lines) + "\n", **schemas}


def write_tree(root: Path, files: dict, contract: bool = True) -> None:
    """Write ``files`` under ``root``. Unless the files bring their own settings (or
    ``contract`` is False), the project also gets this repository's contract settings."""
    if contract and not any(name in files for name in ("setup.cfg", "pyproject.toml")) \
            and not (root / "setup.cfg").exists():
        files = {**contract_files(), **files}
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        target.write_bytes(data)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A temporary project: write files into it; the working directory is its root."""
    monkeypatch.chdir(tmp_path)

    def make(files: dict) -> Path:
        write_tree(tmp_path, files)
        return tmp_path

    return make


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from stage2_lint.cli import main

    def run(*args):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def run_cli_process(args, cwd, timeout=30, memory_mb=None):
    """Run stage2-lint as a real process, optionally under an address-space cap."""
    def limit():
        if memory_mb:
            import resource
            cap = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return subprocess.run([sys.executable, "-m", "stage2_lint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, env={**os.environ, "PYTHONPATH": str(REPO)})


def flat(tree, prefix=""):
    """dotted key path -> leaf value (lists and empty mappings are leaves): an independent
    flattening for tests that check what the audit commands report."""
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


FIXTURE_LEGACY = REPO / "tests" / "fixtures" / "legacy"


@pytest.fixture(scope="session")
def legacy(tmp_path_factory) -> Path:
    """The legacy-shaped fixture tree as a project of its own, governed by this repository's
    contract (globs are relative to the settings file, so a tree needs its own settings)."""
    root = tmp_path_factory.mktemp("legacy") / "project"
    copy_writable(FIXTURE_LEGACY, root)
    return root


@pytest.fixture(scope="session")
def legacy_corpus(tmp_path_factory) -> Path:
    """The real legacy corpus beside the checkout, governed by this repository's contract."""
    if not LEGACY.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    root = tmp_path_factory.mktemp("corpus") / "legacy-stage2-ab"
    copy_writable(LEGACY, root)
    return root


requires_shared = pytest.mark.skipif(not LEGACY.is_dir(), reason="../shared/corpus is not beside the checkout")


RETIRED_PARENTS = ("prod/base.yaml", "base_rollout_matching_sft.yaml", "base_smoke_runtime.yaml")


def flatten_to_one_hop(root: Path, leaves) -> None:
    """The documented migration after --fix: the retired prod/base becomes the new
    configs/stage2_ab/base.yaml, every leaf is flattened onto it, the retired parents go."""
    result = run_cli_process(["flatten", "configs/stage2_ab/prod/base.yaml", "--onto", "configs/base.yaml",
                              "--output", "configs/stage2_ab/base.yaml"], cwd=root)
    assert result.returncode == 0, result.stderr
    for leaf in leaves:
        result = run_cli_process(["flatten", f"configs/stage2_ab/{leaf}"], cwd=root)
        assert result.returncode == 0, result.stderr
    for retired in RETIRED_PARENTS:
        (root / "configs/stage2_ab" / retired).unlink()


def interpreter(version: str):
    """An interpreter of ``version`` (``3.9``) that really runs (a pyenv shim may not: 127), or None."""
    import shutil

    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}")) if pyenv.is_dir() else []
    for candidate in [*map(str, reversed(candidates)), shutil.which(f"python{version}")]:
        if candidate and subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    return None


def reference_resolve(path):
    """An independent extends: yaml.safe_load, parents first (later wins), child last, mappings
    merged key by key, anything else replaced whole."""
    def merge(base, top):
        out = dict(base)
        for key, value in top.items():
            out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        return out

    with open(path, encoding="utf-8") as handle:
        own = yaml.safe_load(handle) or {}
    parents = own.pop("extends", [])
    config = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        config = merge(config, reference_resolve(os.path.join(os.path.dirname(path), parent)))
    return merge(config, own)
