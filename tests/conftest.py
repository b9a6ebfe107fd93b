import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
LEGACY = SHARED / "corpus" / "legacy-stage2-ab"
REAL = SHARED / "corpus" / "real-configs"


def copy_writable(source: Path, target: Path) -> None:
    """Copy a tree as a checkout would have it: files and directories writable by their
    owner (the corpus beside the repository is read-only, and writers refuse read-only files)."""
    import shutil

    shutil.copytree(source, target, copy_function=shutil.copyfile)
    for directory, _, _ in os.walk(target):
        os.chmod(directory, 0o755)


def write_tree(root: Path, files: dict) -> None:
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


requires_shared = pytest.mark.skipif(not LEGACY.is_dir(), reason="../shared/corpus is not beside the checkout")
