"""--fix and flatten: the legacy tree migrates with every value and comment kept."""
import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from stage2_lint.documents.document import load_text
from stage2_lint.editing.fix import Move, fix_moved, relocated
from stage2_lint.tree.resolver import Resolver
from stage2_lint.core.textedit import comment_lines

from conftest import (LEGACY, MOVED_ROLLOUT, copy_writable, flatten_to_one_hop, repo_settings, requires_shared,
                      run_cli_process, write_tree)

MOVES = (Move.parse(*MOVED_ROLLOUT),)

LEAVES = ["prod/a_only_base.yaml", "prod/a_only_iter-1.yaml", "prod/a_only_iter-3.yaml", "prod/a_only_iter-4.yaml",
          "prod/ab_mixed.yaml", "prod/b_only.yaml", "smoke/a_only_iter1.yaml", "smoke/ab_mixed.yaml",
          "smoke/b_only.yaml"]


def _resolved_all(root):
    resolver = Resolver(repo_settings(str(root)))
    return {leaf: resolver.merge.resolve(str(root / "configs/stage2_ab" / leaf)).config for leaf in LEAVES}


def _comments(root):
    found = []
    for path in sorted((root / "configs/stage2_ab").rglob("*.yaml")):
        found.extend(comment_lines(path.read_text()))
    return sorted(found)


@requires_shared
def test_fix_then_flatten_migrates_the_legacy_tree(tmp_path):
    root = tmp_path / "legacy"
    copy_writable(LEGACY, root)
    before = {leaf: relocated(config, MOVES) for leaf, config in _resolved_all(root).items()}
    comments_before = _comments(root)

    result = run_cli_process(["--fix", "configs/stage2_ab"], cwd=root)
    assert "fixed 9 file(s)" in result.stderr
    assert " S2L030 " not in result.stdout
    assert _comments(root) == comments_before  # --fix moves comments, never drops one

    flatten_to_one_hop(root, LEAVES)

    result = run_cli_process(["configs/stage2_ab"], cwd=root)
    assert result.returncode == 0, result.stdout
    assert _resolved_all(root) == before
    for leaf in LEAVES:
        text = (root / "configs/stage2_ab" / leaf).read_text()
        original = (LEGACY / "configs/stage2_ab" / leaf).read_text()
        assert set(comment_lines(original)) <= set(comment_lines(text)), leaf


@requires_shared
def test_fix_is_idempotent_and_diff_writes_nothing(tmp_path):
    root = tmp_path / "legacy"
    copy_writable(LEGACY, root)
    target = root / "configs/stage2_ab/prod/ab_mixed.yaml"
    original = target.read_text()
    result = run_cli_process(["--diff", "configs/stage2_ab/prod/ab_mixed.yaml"], cwd=root)
    assert result.returncode == 1
    assert "+rollout_matching:" in result.stdout and "-    rollout_matching:" in result.stdout
    assert target.read_text() == original
    run_cli_process(["--fix", "configs/stage2_ab/prod/ab_mixed.yaml"], cwd=root)
    fixed = target.read_text()
    assert fixed != original
    result = run_cli_process(["--diff", "configs/stage2_ab/prod/ab_mixed.yaml"], cwd=root)
    assert (result.returncode, result.stdout) == (0, "")
    run_cli_process(["--fix", "configs/stage2_ab/prod/ab_mixed.yaml"], cwd=root)
    assert target.read_text() == fixed


def test_conflicting_namespaces_change_nothing(tmp_path):
    text = ("rollout_matching:\n  decode_batch_size: 8\n"
            "custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 4\n")
    write_tree(tmp_path, {"configs/stage2_ab/x.yaml": text})
    result = run_cli_process(["--fix", "configs/stage2_ab/x.yaml"], cwd=tmp_path)
    assert (tmp_path / "configs/stage2_ab/x.yaml").read_text() == text
    assert ("configs/stage2_ab/x.yaml:5:5: S2L030 not fixed: rollout_matching.decode_batch_size is set in both namespaces "
            "to different values; keep one value by hand (nothing was changed in this file)") in result.stderr
    assert "(conflict: rollout_matching.decode_batch_size is 8; keep one value)" in result.stdout
    assert result.returncode == 1


@pytest.mark.parametrize("text,where,section", [
    ("custom: {extra: {rollout_matching: {decode_batch_size: 4}}}\n", "1:18", "custom"),
    ("custom:\n  extra: {rollout_matching: {decode_batch_size: 4}}\n", "2:11", "custom.extra"),
])
def test_a_flow_style_section_is_refused_saying_so(tmp_path, text, where, section):
    write_tree(tmp_path, {"configs/stage2_ab/x.yaml": text})
    result = run_cli_process(["fix", "configs/stage2_ab/x.yaml"], cwd=tmp_path)
    assert result.returncode == 1 and (tmp_path / "configs/stage2_ab/x.yaml").read_text() == text
    assert (f"configs/stage2_ab/x.yaml:{where}: S2L030 not fixed: {section} is written in flow style ({{...}}); the "
            f"fix moves block-style keys only: write it as a block or move it by hand") in result.stderr


def test_fix_merges_into_an_existing_top_level_block(tmp_path):
    text = ("rollout_matching:  # new home\n  rollout_backend: vllm\n"
            "custom:\n  train_jsonl: x.jsonl\n  extra:  # legacy bag\n"
            "    rollout_matching:\n      decode_batch_size: 4  # one knob\n")
    doc = load_text(text, "x.yaml")
    result = fix_moved(doc, MOVES)
    assert result.changed
    assert result.new == ("rollout_matching:  # new home\n  rollout_backend: vllm\n  decode_batch_size: 4  # one knob\n"
                          "custom:\n  train_jsonl: x.jsonl\n  # legacy bag\n")


def test_flatten_refuses_when_the_new_parent_adds_a_key(tree):
    root = tree({"configs/stage2_ab/base.yaml": "extra_knob: 1\n",
                 "configs/stage2_ab/old.yaml": "a: 1\n",
                 "configs/stage2_ab/prod/leaf.yaml": "extends: ../old.yaml\nb: 2\n"})
    original = (root / "configs/stage2_ab/prod/leaf.yaml").read_text()
    result = run_cli_process(["flatten", "configs/stage2_ab/prod/leaf.yaml"], cwd=root)
    assert result.returncode == 1
    assert "extra_knob is set by the new parent but not by the old chain" in result.stderr
    assert (root / "configs/stage2_ab/prod/leaf.yaml").read_text() == original


# -- property: --fix is lossless and idempotent on generated configs

NAMES = st.sampled_from(["decode_batch_size", "rollout_backend", "vllm", "mode", "server", "servers", "timeout_s",
                         "max_new_tokens", "x", "y"])
VALUES = st.one_of(st.integers(-5, 5), st.booleans(), st.none(), st.sampled_from(["vllm", "hf", "no", "a b"]),
                   st.floats(allow_nan=False, allow_infinity=False, width=32))
TREES = st.recursive(VALUES, lambda inner: st.dictionaries(NAMES, inner, min_size=1, max_size=3), max_leaves=12)
COMMENTS = st.lists(st.sampled_from(["# note", "# keep me", "#x"]), max_size=2)


PREFIXES = {"": {}, "extends: base.yaml\n": {"extends": "base.yaml"},
            "training:\n  seed: 1  # s\n": {"training": {"seed": 1}}}


@st.composite
def legacy_files(draw):
    """A file with a generated legacy block, and what it must become, built from the same
    generated data (not by the code under test): the block under top-level rollout_matching."""
    legacy = draw(st.dictionaries(NAMES, TREES, min_size=1, max_size=4))
    body = yaml.safe_dump({"custom": {"train_jsonl": "t.jsonl", "extra": {"rollout_matching": legacy}}},
                          sort_keys=False, default_flow_style=False)
    lines = body.splitlines(keepends=True)
    for comment in draw(COMMENTS):  # comments at random depths stay attached as written
        index = draw(st.integers(0, len(lines)))
        indent = (len(lines[index - 1]) - len(lines[index - 1].lstrip())) if index else 0
        lines.insert(index, " " * indent + comment + "\n")
    prefix = draw(st.sampled_from(sorted(PREFIXES)))
    expected = {**PREFIXES[prefix], "custom": {"train_jsonl": "t.jsonl"}, "rollout_matching": legacy}
    return prefix + "".join(lines), expected


@settings(max_examples=int(os.environ.get("STAGE2_FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(legacy_files())
def test_fix_is_lossless_and_idempotent(case):
    text, expected = case
    doc = load_text(text, "x.yaml")
    assert doc.usable and not doc.problems
    result = fix_moved(doc, MOVES)
    assert result.problem is None, result.problem
    assert yaml.safe_load(result.new) == expected  # PyYAML's own reading of the new text
    assert comment_lines(result.new) == comment_lines(text)
    assert not fix_moved(load_text(result.new, "x.yaml"), MOVES).changed


def test_flatten_diff_shows_the_rewrite_and_writes_nothing(tree):
    root = tree({"configs/stage2_ab/base.yaml": "training:\n  seed: 1\n",
                 "configs/stage2_ab/mid.yaml": "extends: base.yaml\ntraining:\n  eval_steps: 9  # from mid\n",
                 "configs/stage2_ab/prod/leaf.yaml": "# my leaf\nextends: ../mid.yaml\nmodel:\n  model: m\n"})
    before = (root / "configs/stage2_ab/prod/leaf.yaml").read_text()
    result = run_cli_process(["flatten", "configs/stage2_ab/prod/leaf.yaml", "--diff"], cwd=root)
    assert result.returncode == 0, result.stderr
    assert "-extends: ../mid.yaml\n+extends: ../base.yaml\n" in result.stdout
    assert "+  eval_steps: 9\n" in result.stdout
    assert (root / "configs/stage2_ab/prod/leaf.yaml").read_text() == before
