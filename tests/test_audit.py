"""resolve --blame / --key and diff, on the repository's canonical tree."""
import json

import pytest
import yaml

from stage2_lint.tree.resolver import Resolver
from stage2_lint.contracts.settings import find_settings

from src.config.loader import ConfigLoader

from conftest import LEGACY, REPO, flat, requires_shared, run_cli_process, repo_settings

LEAF = "configs/stage2_ab/prod/ab_mixed.yaml"


def _lines_of(path):
    return (REPO / path).read_text().splitlines()


def test_blame_names_the_leaf_for_pinned_keys_and_the_base_for_inherited_ones():
    result = run_cli_process(["resolve", LEAF, "--blame"], cwd=REPO)
    assert result.returncode == 0, result.stderr
    blamed = {}
    stack = []
    for line in result.stdout.splitlines():
        indent = (len(line) - len(line.lstrip())) // 2
        key, _, rest = line.strip().partition(":")
        stack[indent:] = [key]
        if "  # " in rest:
            blamed[".".join(stack)] = rest.rsplit("  # ", 1)[1]
    for dotted in find_settings(str(REPO)).contracts[0].required_keys:
        where = blamed[dotted]
        path, line = where.rsplit(":", 1)
        assert path == LEAF
        assert _lines_of(path)[int(line) - 1].strip().startswith(dotted.split(".")[-1] + ":")
    path, line = blamed["rollout_matching.decode_batch_size"].rsplit(":", 1)
    assert path == "configs/stage2_ab/base.yaml"
    assert _lines_of(path)[int(line) - 1].strip() == "decode_batch_size: 4"


def test_resolved_output_round_trips_to_the_resolved_mapping():
    expected = ConfigLoader(repo_settings(str(REPO))).load_yaml_with_extends(str(REPO / LEAF))
    for args in (["resolve", LEAF], ["resolve", LEAF, "--blame"]):
        assert yaml.safe_load(run_cli_process(args, cwd=REPO).stdout) == expected
    assert json.loads(run_cli_process(["resolve", LEAF, "--format", "json"], cwd=REPO).stdout) == expected
    blamed = json.loads(run_cli_process(["resolve", LEAF, "--blame", "--format", "json"], cwd=REPO).stdout)
    assert blamed["config"] == expected
    assert blamed["blame"]["training.run_name"] == {"file": LEAF, "line": 8}


def test_key_shows_the_whole_override_chain_in_order():
    result = run_cli_process(["resolve", LEAF, "--key", "training.eval_steps"], cwd=REPO)
    data = yaml.safe_load(result.stdout)
    assert data["value"] == 100
    assert [(link["file"], link["value"]) for link in data["chain"]] == [
        ("configs/base.yaml", 20), ("configs/stage2_ab/base.yaml", 80), (LEAF, 100)]
    for link in data["chain"]:
        assert _lines_of(link["file"])[link["line"] - 1].strip() == f"eval_steps: {link['value']}"


@pytest.mark.parametrize("a,b", [("prod/a_only", "prod/ab_mixed"), ("prod/b_only", "smoke/b_only"),
                                 ("smoke/ab_mixed", "prod/ab_mixed"), ("prod/ab_mixed", "prod/ab_mixed")])
def test_diff_lists_exactly_the_differing_keys(a, b):
    path_a, path_b = f"configs/stage2_ab/{a}.yaml", f"configs/stage2_ab/{b}.yaml"
    result = run_cli_process(["diff", path_a, path_b, "--format", "json"], cwd=REPO)
    reported = {entry["key"]: entry for entry in json.loads(result.stdout)["differences"]}
    resolver = Resolver(repo_settings(str(REPO)))
    left = dict(flat(resolver.merge.resolve(str(REPO / path_a)).config))
    right = dict(flat(resolver.merge.resolve(str(REPO / path_b)).config))
    missing = object()
    expected = {key for key in left.keys() | right.keys() if left.get(key, missing) != right.get(key, missing)}
    assert set(reported) == expected
    assert result.returncode == (1 if expected else 0)
    for key, entry in reported.items():
        if "a" in entry:
            assert entry["a"]["value"] == left[key] and entry["a"]["file"]
        if "b" in entry:
            assert entry["b"]["value"] == right[key] and entry["b"]["file"]


def test_diff_text_format_marks_each_kind():
    result = run_cli_process(["diff", "configs/stage2_ab/prod/a_only.yaml", LEAF], cwd=REPO)
    lines = result.stdout.splitlines()
    assert "~ training.eval_steps: 80 (configs/stage2_ab/prod/a_only.yaml:16) -> 100 (" \
           "configs/stage2_ab/prod/ab_mixed.yaml:16)" in lines
    assert any(line.startswith("+ rollout_matching.monitor_dump.enabled: true (") for line in lines)


@requires_shared
def test_diff_of_legacy_smoke_profile_shows_the_recorded_renames_and_the_namespace_move():
    legacy = str(LEGACY / "configs/stage2_ab/smoke/a_only_iter1.yaml")
    found = json.loads(run_cli_process(["diff", legacy, "configs/stage2_ab/smoke/a_only.yaml", "--format", "json"],
                                       cwd=REPO).stdout)["differences"]
    other = {e["key"] for e in found if not e["key"].startswith(("custom.extra.rollout_matching.", "rollout_matching."))}
    assert other == {"training.run_name", "training.output_dir", "training.logging_dir"}  # docs/migration.md
    migration_doc = (REPO / "docs/migration.md").read_text()
    for entry in found:
        if entry["key"] in other:
            assert str(entry["a"]["value"]).rsplit("/", 1)[-1] in migration_doc


@requires_shared
def test_diff_of_legacy_profile_and_its_migration_shows_only_the_namespace_move(tmp_path):
    result = run_cli_process(["diff", str(LEGACY / "configs/stage2_ab/prod/ab_mixed.yaml"), LEAF, "--format", "json"],
                             cwd=REPO)
    found = json.loads(result.stdout)["differences"]
    moved = {entry["key"] for entry in found}
    assert all(key.startswith(("custom.extra.rollout_matching.", "rollout_matching.")) for key in moved)
    removed = {e["key"][len("custom.extra."):]: e["a"]["value"] for e in found if e["kind"] == "removed"}
    added = {e["key"]: e["b"]["value"] for e in found if e["kind"] == "added"}
    assert removed == added  # the same values, relocated: nothing else differs


def test_unknown_key_suggestions(tree, cli):
    tree({"configs/stage2_ab/x.yaml": "rollout_matching:\n  decode_batchsize: 4\ntraining:\n  eval_step: 1\n"})
    _, out, _ = cli("--select", "S2L060", "configs/stage2_ab/x.yaml")
    assert out.splitlines() == [
        "configs/stage2_ab/x.yaml:2:3: S2L060 unknown key rollout_matching.decode_batchsize; did you mean "
        "rollout_matching.decode_batch_size?",
        "configs/stage2_ab/x.yaml:4:3: S2L060 unknown key training.eval_step; did you mean training.eval_steps?"]


def test_unresolvable_profile_exits_two(tree):
    root = tree({"configs/x.yaml": "extends: nope.yaml\n"})
    result = run_cli_process(["resolve", "configs/x.yaml"], cwd=root)
    assert result.returncode == 2
    assert "configs/x.yaml:1:10: S2L011 parent 'nope.yaml' does not exist" in result.stderr
