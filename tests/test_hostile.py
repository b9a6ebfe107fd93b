"""Hostile input: each case is exit 1 with a code and a location, within 2 s and 500 MB,
while a valid leaf linted in the same run stays clean; the guard raises for each."""
import os
import re

import pytest

from stage2_lint.guard import ConfigContractError, enforce
from stage2_tree import BASE, LEAF

from conftest import run_cli_process, write_tree

BOMB = ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{','.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi")))

# name -> (files to write, file to lint, expected code)
CASES = {
    "syntax-unclosed-flow": ({"configs/x.yaml": "a: [1, 2\n"}, "S2L001"),
    "syntax-tab-indent": ({"configs/x.yaml": "a:\n\tb: 1\n"}, "S2L001"),
    "syntax-undefined-alias": ({"configs/x.yaml": "a: *nope\n"}, "S2L001"),
    "bad-int-tag": ({"configs/x.yaml": "a: !!int twelve\n"}, "S2L001"),
    "duplicate-block": ({"configs/x.yaml": "a: 1\nb: 2\na: 3\n"}, "S2L002"),
    "duplicate-flow-nested": ({"configs/x.yaml": "t: {u: {v: 1, v: 2}}\n"}, "S2L002"),
    "empty-file": ({"configs/x.yaml": ""}, "S2L003"),
    "scalar-root": ({"configs/x.yaml": "just a string\n"}, "S2L003"),
    "multi-document": ({"configs/x.yaml": "a: 1\n---\na: 2\n"}, "S2L003"),
    "python-object-tag": ({"configs/x.yaml": "a: !!python/object/apply:os.system ['touch pwned']\n"}, "S2L004"),
    "custom-local-tag": ({"configs/x.yaml": "a: !include other.yaml\n"}, "S2L004"),
    "set-tag": ({"configs/x.yaml": "a: !!set {x, y}\n"}, "S2L004"),
    "binary-tag": ({"configs/x.yaml": "a: !!binary aGVsbG8=\n"}, "S2L004"),
    "billion-laughs": ({"configs/x.yaml": BOMB}, "S2L004"),
    "merge-key-bomb": ({"configs/x.yaml": "a: &a {k0: 1}\n" + "".join(
        f"m{i}: &m{i}\n  <<: [{', '.join(['*a' if i == 0 else f'*m{i - 1}'] * 1)}]\n  l{i}: [{','.join(['*a'] * 50)}]\n"
        for i in range(40))}, "S2L004"),
    "recursive-alias": ({"configs/x.yaml": "a: &a\n  b: *a\n"}, "S2L004"),
    "recursive-merge": ({"configs/x.yaml": "a: &a\n  <<: *a\n"}, "S2L004"),
    "deep-flow-nesting": ({"configs/x.yaml": "a: " + "[" * 60000 + "]" * 60000 + "\n"}, "S2L004"),
    "deep-block-nesting": ({"configs/x.yaml": "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v\n"},
                           "S2L004"),
    "oversized-file": ({"configs/x.yaml": "a: 1\n" + "# padding\n" * 1_100_000}, "S2L004"),
    "invalid-utf8": ({"configs/x.yaml": b"a: caf\xe9\n"}, "S2L004"),
    "nul-byte": ({"configs/x.yaml": b"a: 1\nb: x\x00y\n"}, "S2L004"),
    "control-character": ({"configs/x.yaml": "a: \x1b[31mred\n"}, "S2L004"),
    # The same refusal through the non-ASCII door (configs.documents checks ASCII text with a
    # smaller pattern): a control character beside an accent, and a C1 control.
    "control-character-in-non-ascii-text": ({"configs/x.yaml": "a: caf\u00e9 \x1b[31mred\n"}, "S2L004"),
    "c1-control-character": ({"configs/x.yaml": "a: x\u0086y\n"}, "S2L004"),
    "utf16-file": ({"configs/x.yaml": "a: 1\n".encode("utf-16")}, "S2L004"),
    "complex-key": ({"configs/x.yaml": "? [a, b]\n: 1\n"}, "S2L004"),
    "extends-cycle": ({"configs/x.yaml": "extends: y.yaml\n", "configs/y.yaml": "extends: x.yaml\n"}, "S2L011"),
    "extends-self": ({"configs/x.yaml": "extends: x.yaml\n"}, "S2L011"),
    "extends-escapes-root": ({"configs/x.yaml": "extends: ../../etc/passwd\n"}, "S2L011"),
    "extends-missing": ({"configs/x.yaml": "extends: [nope.yaml]\n"}, "S2L011"),
    "extends-wrong-type": ({"configs/x.yaml": "extends: {a: 1}\n"}, "S2L010"),
    "extends-null": ({"configs/x.yaml": "extends:\n"}, "S2L010"),
    "extends-nul-in-path": ({"configs/x.yaml": 'extends: "base\\0.yaml"\n'}, "S2L010"),
    "parent-is-broken": ({"configs/x.yaml": "extends: y.yaml\n", "configs/y.yaml": "a: !!python/none x\n"},
                         "S2L011"),
    "wrong-value-type": ({"configs/stage2_ab/x.yaml": "rollout_matching:\n  decode_batch_size: four\n"}, "S2L040"),
    "section-is-scalar": ({"configs/stage2_ab/x.yaml": "training: 3\n"}, "S2L040"),
    "nan-passes-no-range": ({"configs/stage2_ab/x.yaml": "training:\n  learning_rate: .nan\n"}, "S2L040"),
    "inf-without-maximum": ({"configs/stage2_ab/x.yaml": "training:\n  max_grad_norm: .inf\n"}, "S2L040"),
    "float-overflowing-to-inf": ({"configs/stage2_ab/x.yaml": "training:\n  learning_rate: 1.0e999\n"}, "S2L040"),
    "integer-of-5000-digits": ({"configs/x.yaml": "a: " + "7" * 5000 + "\n"}, "S2L040"),
}
VALID = {"configs/stage2_ab/base.yaml": BASE, "configs/stage2_ab/prod/leaf.yaml": LEAF}
LINE = re.compile(r"^configs/\S+:(\d+):(\d+): (S2L\d{3}) .+$")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_a_located_violation(name, tmp_path):
    files, code = CASES[name]
    write_tree(tmp_path, {**VALID, **files})
    result = run_cli_process(["configs/x.yaml" if "configs/x.yaml" in files else "configs/stage2_ab/x.yaml",
                              "configs/stage2_ab/prod/leaf.yaml"], cwd=tmp_path, timeout=10, memory_mb=500)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), result.stdout
    assert code in {LINE.match(line).group(3) for line in lines}
    assert not [line for line in lines if line.startswith("configs/stage2_ab/prod/leaf.yaml")]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", sorted(CASES))
def test_guard_raises_contract_error(name, tmp_path, monkeypatch):
    files, code = CASES[name]
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    target = "configs/x.yaml" if "configs/x.yaml" in files else "configs/stage2_ab/x.yaml"
    with pytest.raises(ConfigContractError) as raised:
        enforce(target)
    assert isinstance(raised.value, ValueError)
    assert f"{target}:" in str(raised.value) and code in str(raised.value)


def test_fifo_is_refused_not_read(tmp_path):
    (tmp_path / "configs").mkdir()
    os.mkfifo(tmp_path / "configs" / "x.yaml")
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path, timeout=5)
    assert result.returncode == 1
    assert result.stdout.startswith("configs/x.yaml:1:1: S2L004 not a regular file")


def test_device_is_refused(tmp_path):
    result = run_cli_process(["/dev/zero"], cwd=tmp_path, timeout=5)
    assert result.returncode == 1 and "S2L004 not a regular file" in result.stdout


def test_symlinked_parent_leaving_the_root_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("secret: 1\n")
    write_tree(tmp_path, {"repo/configs/x.yaml": "extends: link.yaml\n"})
    os.symlink(outside, tmp_path / "repo" / "configs" / "link.yaml")
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path / "repo", timeout=5)
    assert result.returncode == 1
    assert "configs/x.yaml:1:10: S2L011 parent 'link.yaml' resolves outside the config root configs " \
           "through a symlink" in result.stdout


def test_directory_walk_reports_symlinks_out_and_never_follows_loops(tmp_path):
    """A symlinked leaf leading out of the root is a violation (never read, never silently
    dropped); symlinked directories are not entered and the walk says so."""
    write_tree(tmp_path, {"elsewhere/bad.yaml": "a: [\n", "configs/ok.yaml": "a: 1\n"})
    os.symlink(tmp_path / "elsewhere", tmp_path / "configs" / "linked_dir")
    os.symlink(tmp_path / "elsewhere" / "bad.yaml", tmp_path / "configs" / "linked.yaml")
    os.symlink(tmp_path / "configs", tmp_path / "configs" / "loop")
    result = run_cli_process(["configs"], cwd=tmp_path, timeout=5)
    assert result.returncode == 1, result.stdout
    assert result.stdout == ("configs/linked.yaml:1:1: S2L011 this profile resolves to elsewhere/bad.yaml, outside "
                             "the config root configs; stage2-lint does not read it\n")
    assert "stage2-lint: skipped configs/linked_dir (symlinked directory, not followed)" in result.stderr
    assert "stage2-lint: skipped configs/loop (symlinked directory, not followed)" in result.stderr
    assert "in 2 files" in result.stderr


def test_bom_and_crlf_keep_line_numbers(tmp_path):
    write_tree(tmp_path, {"configs/x.yaml": b"\xef\xbb\xbfa: 1\r\nb: 2\r\na: 3\r\n"})
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path, timeout=5)
    assert result.stdout.startswith("configs/x.yaml:3:1: S2L002 duplicate key 'a' (first set at line 1)")


def test_merge_key_smuggling_is_reported_where_used(tmp_path):
    text = ("defaults: &d\n  extra:\n    rollout_matching:\n      decode_batch_size: 4\n"
            "custom:\n  <<: *d\n  train_jsonl: x\n")
    write_tree(tmp_path, {"configs/stage2_ab/x.yaml": text})
    result = run_cli_process(["--select", "S2L030", "configs/stage2_ab/x.yaml"], cwd=tmp_path, timeout=5)
    assert result.stdout.splitlines() == [
        "configs/stage2_ab/x.yaml:6:3: S2L030 custom.extra.rollout_matching.decode_batch_size is in the retired "
        "namespace; move it to rollout_matching.decode_batch_size"]


def test_diamond_of_25_levels_is_linear(tmp_path, monkeypatch):
    files = {"configs/l0a.yaml": "k0: a\n", "configs/l0b.yaml": "k0: b\n"}
    for level in range(1, 25):
        for side in "ab":
            files[f"configs/l{level}{side}.yaml"] = f"extends: [l{level - 1}a.yaml, l{level - 1}b.yaml]\nk{level}: {side}\n"
    files["configs/top.yaml"] = "extends: [l24a.yaml, l24b.yaml]\n"
    write_tree(tmp_path, files)
    result = run_cli_process(["configs/top.yaml"], cwd=tmp_path, timeout=10)
    assert result.returncode == 0, result.stdout
    # linear: each of the 51 files is read and each chain checked once (counted, not timed)
    from stage2_lint.tree import resolver, store
    from stage2_lint.contracts.settings import find_settings

    reads, real = [], store.load_document
    monkeypatch.setattr(store, "load_document", lambda path, *args: reads.append(path) or real(path, *args))
    resolved = resolver.Resolver(find_settings(str(tmp_path))).merge.resolve(str(tmp_path / "configs/top.yaml"))
    assert resolved is not None and len(reads) == len(set(reads)) == 51


def test_nan_and_infinity_name_the_knob_and_the_value(tmp_path):
    write_tree(tmp_path, {"configs/stage2_ab/x.yaml": "training:\n  learning_rate: .nan\n  max_grad_norm: -.inf\n"})
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.stdout.splitlines() == [
        "configs/stage2_ab/x.yaml:2:18: S2L040 training.learning_rate: expected a finite number, got nan",
        "configs/stage2_ab/x.yaml:3:18: S2L040 training.max_grad_norm: expected a finite number, got -inf"]


def test_an_oversized_integer_is_a_value_error_with_its_digit_count(tmp_path):
    write_tree(tmp_path, {"configs/x.yaml": "a: 1\nb: " + "9" * 5000 + "\n"})
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.stdout == ("configs/x.yaml:2:4: S2L040 integer literal of 5000 characters; no config value needs "
                             "more than 4300 digits\n")
    assert "internal error" not in result.stderr


def test_one_file_named_three_ways_is_linted_once(tmp_path):
    write_tree(tmp_path, {"configs/x.yaml": "a: 1\na: 2\n"})
    os.symlink("x.yaml", tmp_path / "configs" / "alias.yaml")
    result = run_cli_process(["configs/x.yaml", "./configs/x.yaml", str(tmp_path / "configs/x.yaml"),
                              "configs/alias.yaml", "configs"], cwd=tmp_path)
    assert result.stdout == "configs/x.yaml:2:1: S2L002 duplicate key 'a' (first set at line 1); YAML keeps only " \
                            "the last value\n"
    assert "in 1 file" in result.stderr


def test_a_checkout_below_a_directory_named_configs_keeps_its_root(tmp_path):
    """Once, the outermost 'configs' above the checkout became the root: the canonical
    surface rules were lost and extends could leave the repository."""
    repo = tmp_path / "configs" / "work" / "repo"
    write_tree(tmp_path, {"configs/secret.yaml": "token: x\n"}, contract=False)
    write_tree(repo, {"configs/stage2_ab/base.yaml": BASE,
                      "configs/stage2_ab/prod/leaf.yaml": LEAF.replace("  vit_lr: 2.0e-5\n", ""),
                      "configs/stage2_ab/prod/escape.yaml": "extends: ../../../../../secret.yaml\n"})
    result = run_cli_process(["configs"], cwd=repo)
    lines = result.stdout.splitlines()
    assert "configs/stage2_ab/prod/escape.yaml:1:10: S2L011 parent '../../../../../secret.yaml' resolves outside " \
           f"the config root {os.path.relpath(repo / 'configs', repo)}" in lines
    assert any(line.startswith("configs/stage2_ab/prod/leaf.yaml:4:1: S2L020 training.vit_lr is not set")
               for line in lines), lines


def test_a_project_marker_made_between_two_runs_of_one_process_moves_the_root(tmp_path, monkeypatch, capsys):
    """Outside the settings' project, a tree's root stops at the nearest project marker. A
    run remembers the markers it asked about; the next run of the same process (the flake8
    plugin, an editor) asks the disk again, so a ``.git`` made in between counts."""
    from stage2_lint import cli

    write_tree(tmp_path / "project", {"setup.cfg": "[stage2_lint]\n"}, contract=False)
    outer = tmp_path / "outer"
    write_tree(outer, {"configs/x.yaml": "a: 1\n", "configs/inner/configs/leaf.yaml": "extends: ../../x.yaml\n"},
               contract=False)
    monkeypatch.chdir(outer / "configs" / "inner")
    argv = ["--no-cache", "--config", str(tmp_path / "project" / "setup.cfg"), "configs/leaf.yaml"]
    assert cli.main(argv) == 0, capsys.readouterr()
    capsys.readouterr()
    (outer / "configs" / "inner" / ".git").mkdir()
    assert cli.main(argv) == 1
    assert capsys.readouterr().out == ("configs/leaf.yaml:1:10: S2L011 parent '../../x.yaml' resolves outside the "
                                       "config root configs\n")
    (outer / "configs" / "inner" / ".git").rmdir()
    assert cli.main(argv) == 0, capsys.readouterr()


def test_the_remembered_project_tops_are_what_walking_up_finds_through_any_spelling(tmp_path):
    """The memo's answers, asked in an order where siblings and children reuse their
    ancestors', against a plain walk up (the oracle), for real and symlinked spellings, with
    and without a directory walk's listings (a marker that is a dangling link still counts
    as missing, as the walk up says)."""
    from stage2_lint.checking import engine
    from stage2_lint.contracts import settings
    from stage2_lint.contracts.settings import Settings

    def walked_up(directory):
        while True:
            if any(os.path.exists(os.path.join(directory, marker)) for marker in settings.PROJECT_MARKERS):
                return directory
            if os.path.dirname(directory) == directory:
                return directory
            directory = os.path.dirname(directory)

    write_tree(tmp_path, {"outer/a/b/c/x.yaml": "a: 1\n", "outer/a/m/setup.cfg": "", "outer/a/m/n/o/x.yaml": "a: 1\n",
                          "outer/p/.git/HEAD": "", "outer/p/q/x.yaml": "a: 1\n"}, contract=False)
    os.symlink(tmp_path / "outer" / "a" / "m" / "n", tmp_path / "outer" / "p" / "q" / "via")
    os.symlink(tmp_path / "outer", tmp_path / "linked")
    os.symlink(tmp_path / "nowhere", tmp_path / "outer" / "a" / "b" / ".git")
    spellings = [str(tmp_path / part) for part in (
        "outer/a/b/c", "outer/a/b", "outer/a/m/n/o", "outer/a/m/n", "outer/a/m", "outer/p/q", "outer/p/q/via",
        "outer/p/q/via/o", "linked/a/b/c", "linked/p/q/via/o", "linked/a/m/n/o", "outer")]
    for order in (spellings, spellings[::-1]):
        for listed_by_a_walk in (False, True):  # the walk's listings spare the probes of unmarked directories
            settings.forget_project_tops()
            if listed_by_a_walk:
                engine.discover([str(tmp_path / "outer")], Settings(project_dir="\0"))
            assert {d: settings.project_top(d, "\0") for d in order} == {d: walked_up(d) for d in order}
    settings.forget_project_tops()


def test_a_directory_walk_skips_hidden_and_excluded_names(tmp_path):
    write_tree(tmp_path, {".venv/lib/x.yaml": "a: [\n", ".pre-commit-hooks.yaml": "a: [\n",
                          "node_modules/p/x.yaml": "a: [\n", "build/x.yaml": "a: [\n", "configs/.hidden.yaml": "a: [\n",
                          "configs/ok.yaml": "a: 1\n", "vendor/x.yaml": "a: [\n"})
    result = run_cli_process(["."], cwd=tmp_path)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["vendor/x.yaml"]
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint]\nexclude = .* node_modules build vendor\n"})
    result = run_cli_process(["."], cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 file checked" in result.stderr


def test_a_walk_lints_a_file_and_its_symlink_once_in_walk_order(tmp_path):
    """Names sort within a directory, a directory's files come before its subdirectories, a
    symlinked file is the file it leads to (linted once, under the spelling met first), and a
    link to a directory named like a profile is a directory (not entered, not read)."""
    write_tree(tmp_path, {"configs/b.yaml": "a: [\n", "configs/sub/c.yaml": "a: [\n", "configs/z.yaml": "a: [\n",
                          "elsewhere/d/x.yaml": "a: 1\n"})
    os.symlink("b.yaml", tmp_path / "configs" / "a_link.yaml")
    os.symlink(tmp_path / "configs" / "sub", tmp_path / "configs" / "dir.yaml")
    result = run_cli_process(["configs"], cwd=tmp_path, timeout=5)
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "configs/a_link.yaml", "configs/sub/c.yaml", "configs/z.yaml"]
    assert "stage2-lint: skipped configs/dir.yaml (symlinked directory, not followed)" in result.stderr
    assert "in 3 files" in result.stderr
