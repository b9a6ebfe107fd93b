"""Nothing lost: --fix and flatten leave every file whole (old or new) whatever happens
mid-write, never write through a symlink, refuse a file that changed underneath, and the
show modes write nothing anywhere."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, write_tree

FAULTS = REPO / "tests" / "faults.py"

LEGACY_LEAF = """\
# a leaf still on the retired namespace
training:
  run_name: {name}
custom:
  extra:
    rollout_matching:
      decode_batch_size: {size}  # keep this comment
      max_new_tokens: 256
"""
FIXED_LEAF = """\
# a leaf still on the retired namespace
training:
  run_name: {name}

rollout_matching:
  decode_batch_size: {size}  # keep this comment
  max_new_tokens: 256
"""
NAMES = ("a", "b", "c")


def _legacy_tree(root: Path) -> dict:
    files = {f"configs/stage2_ab/ablation/{name}.yaml": LEGACY_LEAF.format(name=name, size=index + 2)
             for index, name in enumerate(NAMES)}
    write_tree(root, files)
    return {path: (text.encode(), FIXED_LEAF.format(name=Path(path).stem, size=NAMES.index(Path(path).stem) + 2)
                   .encode()) for path, text in files.items()}


def _run(args, cwd, fault=None, **kwargs):
    command = [sys.executable, str(FAULTS), fault, *args] if fault else [sys.executable, "-m", "stage2_lint", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, **kwargs)


def _assert_each_whole(root: Path, expected: dict) -> list:
    """Every file holds exactly its old or its new bytes; returns the paths that are new."""
    new = []
    for path, (old_bytes, new_bytes) in expected.items():
        data = (root / path).read_bytes()
        assert data in (old_bytes, new_bytes), f"{path} is neither whole old nor whole new:\n{data!r}"
        if data == new_bytes:
            new.append(path)
    return new


def _leftovers(root: Path) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if "stage2-lint-tmp" in p.name
                  or "flatten-check" in p.name)


def test_fix_rewrites_the_tree_with_the_expected_text(tmp_path):
    """The independent oracle for the fault tests below: hand-written expected files."""
    expected = _legacy_tree(tmp_path)
    result = _run(["--fix", "configs/stage2_ab/ablation"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(_assert_each_whole(tmp_path, expected)) == sorted(expected)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fault", ["os.write:1:kill", "os.fsync:1:kill", "os.replace:1:kill",
                                   "os.replace:1:kill-after", "os.replace:2:kill", "os.replace:2:kill-after"])
def test_fix_killed_mid_write_leaves_every_file_whole(tmp_path, fault):
    expected = _legacy_tree(tmp_path)
    result = _run(["--fix", "configs/stage2_ab/ablation"], tmp_path, fault=fault)
    assert result.returncode == -9
    written = _assert_each_whole(tmp_path, expected)
    replaced_before_kill = int(fault.split(":")[1]) - (0 if fault.endswith("after") else 1)
    assert len(written) == replaced_before_kill


def test_fix_interrupted_by_ctrl_c_leaves_files_whole_and_no_temp_file(tmp_path):
    expected = _legacy_tree(tmp_path)
    result = _run(["--fix", "configs/stage2_ab/ablation"], tmp_path, fault="os.write:1:sigint")
    assert result.returncode == 130
    assert "Traceback" not in result.stderr
    assert _assert_each_whole(tmp_path, expected) == []
    assert _leftovers(tmp_path) == []


def test_fix_on_a_full_disk_refuses_each_file_and_goes_on(tmp_path):
    expected = _legacy_tree(tmp_path)
    result = _run(["--fix", "configs/stage2_ab/ablation"], tmp_path, fault="os.write:1:enospc")
    assert result.returncode == 1
    assert "stage2-lint: refused 1 file(s), left as they were:\n  configs/stage2_ab/ablation/a.yaml: writing the " \
           "new text failed: the disk is full" in result.stderr
    assert "fixed 2 file(s): configs/stage2_ab/ablation/b.yaml, configs/stage2_ab/ablation/c.yaml" in result.stderr
    assert sorted(_assert_each_whole(tmp_path, expected)) == [f"configs/stage2_ab/ablation/{n}.yaml" for n in "bc"]
    assert _leftovers(tmp_path) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 64 KiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_fix_on_a_really_full_tmpfs_keeps_every_file(small_tmpfs):
    expected = _legacy_tree(small_tmpfs)
    fd = os.open(small_tmpfs / "filler", os.O_WRONLY | os.O_CREAT)
    try:  # fill the rest of the filesystem
        while os.write(fd, b"\0" * 512):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    result = _run(["--fix", "configs/stage2_ab/ablation"], small_tmpfs)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count(": writing the new text failed: the disk is full") + \
        result.stderr.count(": cannot create a temp file in") == 3, result.stderr
    assert _assert_each_whole(small_tmpfs, expected) == []
    assert _leftovers(small_tmpfs) == []


def test_fix_refuses_a_file_edited_after_it_was_read(tmp_path):
    expected = _legacy_tree(tmp_path)
    target = tmp_path / "configs/stage2_ab/ablation/a.yaml"
    result = _run(["--fix", "configs/stage2_ab/ablation"], tmp_path, fault=f"os.write:1:edit={target}")
    assert result.returncode == 1
    assert "configs/stage2_ab/ablation/a.yaml: it changed since it was read" in result.stderr
    assert target.read_bytes() == expected["configs/stage2_ab/ablation/a.yaml"][0] + b"# edited meanwhile\n"
    assert "fixed 2 file(s)" in result.stderr


def test_fix_never_writes_through_a_symlink(tmp_path):
    expected = _legacy_tree(tmp_path)
    os.symlink("a.yaml", tmp_path / "configs/stage2_ab/ablation/link.yaml")
    result = _run(["--fix", "configs/stage2_ab/ablation/link.yaml"], tmp_path)
    assert result.returncode == 1
    assert "configs/stage2_ab/ablation/link.yaml: it is a symlink; stage2-lint never writes through one" \
        in result.stderr
    assert _assert_each_whole(tmp_path, expected) == []


def test_a_symlinked_leaf_outside_the_repository_is_neither_read_nor_rewritten(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(LEGACY_LEAF.format(name="x", size=2))
    write_tree(tmp_path / "repo", {"setup.cfg": "[stage2_lint]\n"})
    (tmp_path / "repo/configs/stage2_ab/prod").mkdir(parents=True)
    os.symlink(outside, tmp_path / "repo/configs/stage2_ab/prod/leaf.yaml")
    result = _run(["--fix", "configs/stage2_ab/prod/leaf.yaml"], tmp_path / "repo")
    assert result.returncode == 1
    assert result.stdout.startswith("configs/stage2_ab/prod/leaf.yaml:1:1: S2L011 this profile resolves to ")
    assert outside.read_text() == LEGACY_LEAF.format(name="x", size=2)


def test_show_modes_write_nothing_even_where_a_probe_symlink_is_planted(tmp_path):
    """flatten --diff once wrote a probe beside the output, following a planted symlink."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": "training: {seed: 1}\n",
                          "configs/stage2_ab/mid.yaml": "extends: base.yaml\ntraining: {seed: 2}\n",
                          "configs/stage2_ab/prod/leaf.yaml": "extends: ../mid.yaml\ncustom:\n  extra:\n"
                                                              "    rollout_matching: {decode_batch_size: 2}\n"})
    os.symlink(victim, tmp_path / "configs/stage2_ab/prod/.leaf.yaml.flatten-check.yaml")
    before = {p: (p.lstat().st_mtime_ns, p.read_bytes() if not p.is_symlink() else None)
              for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink()}
    flat = _run(["flatten", "configs/stage2_ab/prod/leaf.yaml", "--diff"], tmp_path)
    assert flat.returncode == 0, flat.stderr
    assert "+training:\n+  seed: 2\n" in flat.stdout
    fix = _run(["--diff", "configs/stage2_ab"], tmp_path)
    assert fix.returncode == 1 and "+rollout_matching:" in fix.stdout
    after = {p: (p.lstat().st_mtime_ns, p.read_bytes() if not p.is_symlink() else None)
             for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink()}
    assert after == before
    assert victim.read_text() == "precious\n"


def test_flatten_keeps_a_bom_and_crlf(tmp_path):
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": "training: {seed: 1}\n",
                          "configs/stage2_ab/mid.yaml": "extends: base.yaml\ntraining: {seed: 2}\n",
                          "configs/stage2_ab/prod/leaf.yaml": b"\xef\xbb\xbfextends: ../mid.yaml\r\nmodel: {model: m}\r\n"})
    result = _run(["flatten", "configs/stage2_ab/prod/leaf.yaml"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "configs/stage2_ab/prod/leaf.yaml").read_bytes() == \
        b"\xef\xbb\xbfextends: ../base.yaml\r\nmodel: {model: m}\r\ntraining:\r\n  seed: 2\r\n"


def test_flatten_refuses_an_output_that_is_a_symlink(tmp_path):
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": "training: {seed: 1}\n",
                          "configs/stage2_ab/prod/leaf.yaml": "extends: ../base.yaml\n",
                          "configs/stage2_ab/prod/real.yaml": "old: 1\n"})
    os.symlink("real.yaml", tmp_path / "configs/stage2_ab/prod/out.yaml")
    result = _run(["flatten", "configs/stage2_ab/prod/leaf.yaml", "--output", "configs/stage2_ab/prod/out.yaml"],
                  tmp_path)
    assert result.returncode == 1
    assert "it is a symlink" in result.stderr
    assert (tmp_path / "configs/stage2_ab/prod/real.yaml").read_text() == "old: 1\n"


def _unprivileged(command):
    """As root, run without the capabilities that override file permissions (what makes a
    normal user's read-only file read-only); as a normal user, as is."""
    if os.geteuid() != 0:
        return command
    if not shutil.which("setpriv"):
        pytest.skip("setpriv is needed to drop root's permission override")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--", *command]


def _run_unprivileged(args, cwd):
    return subprocess.run(_unprivileged([sys.executable, "-m", "stage2_lint", *args]), cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_read_only_files_are_refused_one_by_one_as_a_normal_user(tmp_path):
    """A read-only file and a read-only directory each cost one refusal; the rest is fixed."""
    expected = _legacy_tree(tmp_path)
    (tmp_path / "configs/stage2_ab/ablation/b.yaml").chmod(0o444)
    write_tree(tmp_path, {"configs/stage2_ab/frozen/d.yaml": LEGACY_LEAF.format(name="d", size=9)})
    (tmp_path / "configs/stage2_ab/frozen").chmod(0o555)
    try:
        result = _run_unprivileged(["--fix", "configs/stage2_ab"], tmp_path)
        assert result.returncode == 1, result.stderr
        assert "  configs/stage2_ab/ablation/b.yaml: it is read-only" in result.stderr
        assert "  configs/stage2_ab/frozen/d.yaml: cannot create a temp file in " in result.stderr
        assert "fixed 2 file(s): configs/stage2_ab/ablation/a.yaml, configs/stage2_ab/ablation/c.yaml" \
            in result.stderr
        assert "internal error" not in result.stderr
        assert sorted(_assert_each_whole(tmp_path, expected)) == [f"configs/stage2_ab/ablation/{n}.yaml" for n in "ac"]
        assert stat_mode(tmp_path / "configs/stage2_ab/ablation/a.yaml") == 0o644  # the mode is kept
        diff = _run_unprivileged(["flatten", "configs/stage2_ab/frozen/d.yaml", "--onto",
                                  "configs/stage2_ab/ablation/a.yaml", "--diff"], tmp_path)
        assert diff.returncode == 0 and "internal error" not in diff.stderr, diff.stderr
        assert "+extends: ../ablation/a.yaml" in diff.stdout
    finally:
        (tmp_path / "configs/stage2_ab/frozen").chmod(0o755)


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


FLATTEN_TREE = {"configs/stage2_ab/base.yaml": "training: {seed: 1}\n",
                "configs/stage2_ab/mid.yaml": "extends: base.yaml\ntraining: {seed: 2, eval_steps: 5}\n",
                "configs/stage2_ab/prod/leaf.yaml": "# leaf\nextends: ../mid.yaml\nmodel: {model: m}\n"}
FLATTENED = "# leaf\nextends: ../base.yaml\nmodel: {model: m}\ntraining:\n  eval_steps: 5\n  seed: 2\n"


@pytest.mark.parametrize("fault,outcome", [("os.write:1:kill", -9), ("os.fsync:1:kill", -9),
                                           ("os.replace:1:kill", -9), ("os.replace:1:kill-after", -9),
                                           ("os.write:1:enospc", 1), ("os.write:1:sigint", 130)])
def test_flatten_killed_or_refused_mid_write_leaves_the_leaf_whole(tmp_path, fault, outcome):
    write_tree(tmp_path, FLATTEN_TREE)
    leaf = tmp_path / "configs/stage2_ab/prod/leaf.yaml"
    result = _run(["flatten", "configs/stage2_ab/prod/leaf.yaml"], tmp_path, fault=fault)
    assert result.returncode == outcome, result.stderr
    expected = FLATTENED if fault == "os.replace:1:kill-after" else FLATTEN_TREE["configs/stage2_ab/prod/leaf.yaml"]
    assert leaf.read_text() == expected
    if outcome != -9:  # a SIGKILL may leave a hidden temp file behind; nothing else may
        assert _leftovers(tmp_path) == []
        assert "Traceback" not in result.stderr


def test_flatten_writes_the_expected_one_hop_leaf(tmp_path):
    """The hand-written oracle the fault test above compares against."""
    write_tree(tmp_path, FLATTEN_TREE)
    assert _run(["flatten", "configs/stage2_ab/prod/leaf.yaml"], tmp_path).returncode == 0
    assert (tmp_path / "configs/stage2_ab/prod/leaf.yaml").read_text() == FLATTENED
