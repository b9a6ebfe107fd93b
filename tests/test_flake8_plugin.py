"""The S2P rules through the real flake8 binary: exact lines, and # noqa as flake8 users expect."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

FIXTURE = "tests/flake8_fixtures/legacy_reads.py"


def _flake8(*args):
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_flake8_reports_exact_lines_and_honours_noqa():
    result = _flake8("--select", "S2", FIXTURE)
    assert result.returncode == 1, result.stderr
    legacy = ("S2P001 reads the retired custom.extra.rollout_matching namespace; read rollout_matching (the "
              "normalized config) instead")
    decode = ("S2P002 sized from training.per_device_eval_batch_size; the contract makes "
              "rollout_matching.decode_batch_size the one knob for this, read it instead")
    assert result.stdout.splitlines() == [
        f"{FIXTURE}:2:9: {legacy}",
        f"{FIXTURE}:3:9: {legacy}",
        f"{FIXTURE}:4:9: {legacy}",
        f"{FIXTURE}:5:21: S2P001 looks up 'custom.extra.rollout_matching.decode_batch_size', under the retired "
        f"custom.extra.rollout_matching namespace; use 'rollout_matching.decode_batch_size'",
        f"{FIXTURE}:7:25: {decode}",
        f"{FIXTURE}:8:43: {decode}",
    ]  # lines 6 and 9 carry `# noqa: S2P001` / `# noqa: S2P002`; line 10 sizes only eval batches


def test_plugin_is_registered_and_selectable():
    assert "stage2-lint" in _flake8("--version").stdout
    only_decode = _flake8("--select", "S2", "--extend-ignore", "S2P001", FIXTURE).stdout.splitlines()
    assert [line.split()[1] for line in only_decode] == ["S2P002", "S2P002"]


def test_project_source_is_clean_with_the_plugin():
    result = subprocess.run([sys.executable, "-m", "flake8", "stage2_lint", "tests", "bench"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout


def test_the_moved_prefixes_come_from_the_settings_near_the_file(tmp_path):
    """Another repository's contract moved another prefix: S2P001 follows its settings."""
    (tmp_path / "setup.cfg").write_text("[stage2_lint.contract.other]\nscope = configs/**\n"
                                        "moved = train.opts.optim -> optimizer\n")
    (tmp_path / "reads.py").write_text("a = cfg['opts']['optim']\nb = cfg['custom']['extra']['rollout_matching']\n"
                                       "c = lookup(cfg, 'train.opts.optim.lr')\n")
    result = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "S2", "reads.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines() == [
        "reads.py:1:5: S2P001 reads the retired train.opts.optim namespace; read optimizer (the normalized config) "
        "instead",
        "reads.py:3:17: S2P001 looks up 'train.opts.optim.lr', under the retired train.opts.optim namespace; use "
        "'optimizer.lr'"]


PER_PACKAGE = 300  # files of one installed distribution: torch alone has thousands


def _python_files():
    """The standard library, and the first files (sorted) of every installed package: every
    package's style is met, and the run stays minutes long with torch and ms-swift installed."""
    import sysconfig

    yield from sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))
    for package in sorted(Path(sysconfig.get_paths()["purelib"]).iterdir()):
        if package.is_dir():
            yield from sorted(package.rglob("*.py"))[:PER_PACKAGE]
        elif package.suffix == ".py":
            yield package


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CI") and not os.environ.get("STAGE2_LINT_SLOW"),
                    reason="slow (minutes): CI runs it; set STAGE2_LINT_SLOW=1 to run it here")
def test_no_real_python_source_crashes_the_plugin():
    """The standard library and every installed package, with a moved prefix declared (the case
    that once crashed on `getattr(obj, name, None)`)."""
    import ast
    import warnings

    from stage2_lint.flake8_plugin import SourceContract, check_source
    from stage2_lint.contracts.settings import Move

    contract = SourceContract((Move.parse("custom.extra.rollout_matching", "rollout_matching"),),  # noqa: S2P001
                              (("rollout_matching.decode_batch_size", "training.per_device_eval_batch_size"),))
    checked = 0
    for path in _python_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(path.read_bytes(), str(path))
        except (SyntaxError, ValueError, RecursionError):
            continue  # not Python this interpreter reads (test data, other versions)
        list(check_source(str(path), tree, contract))
        checked += 1
    assert checked > 2000


def test_getattr_with_a_variable_name_and_a_default_is_not_a_crash():
    import ast

    from stage2_lint.flake8_plugin import SourceContract, check_source
    from stage2_lint.contracts.settings import Move

    tree = ast.parse("x = getattr(obj, name, None)\ny = cfg.get(key, 1)\n")
    assert list(check_source("x.py", tree, SourceContract((Move.parse("a.b", "c"),)))) == []
