"""The legacy-shaped tree in tests/fixtures/legacy (written for these tests: retired parents,
chained prod leaves, a dual-parent smoke leaf, the retired rollout namespace) is reported as
the contract says, and migrates to a one-hop tree with every resolved value kept. The
expectations are written by hand from the fixture, not produced by the linter."""
import collections

import pytest

from stage2_lint.tree.resolver import Resolver

from conftest import REPO, copy_writable, flat, flatten_to_one_hop, repo_settings, run_cli_process

FIXTURE = REPO / "tests" / "fixtures" / "legacy"
LEAVES = ["prod/ab_mixed.yaml", "prod/b_only.yaml", "smoke/ab_mixed.yaml"]


def test_the_legacy_tree_gets_every_contract_violation_where_it_is(legacy):
    result = run_cli_process(["configs/stage2_ab"], cwd=legacy)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert ("configs/stage2_ab/smoke/ab_mixed.yaml:2:1: S2L013 canonical leaf extends 2 parents (../prod/ab_mixed.yaml, "
            "../base_smoke_runtime.yaml); it must extend exactly '../base.yaml' and inline the rest") in lines
    assert ("configs/stage2_ab/prod/ab_mixed.yaml:2:10: S2L012 canonical leaf extends 'base.yaml'; it must extend "
            "exactly '../base.yaml' (one hop, no chain): configs/stage2_ab/prod/ab_mixed.yaml -> "
            "configs/stage2_ab/prod/base.yaml -> configs/stage2_ab/base_rollout_matching_sft.yaml -> "
            "configs/base.yaml") in lines
    assert ("configs/stage2_ab/prod/base.yaml:1:1: S2L050 retired parent on the canonical surface; fold its values "
            "into '../base.yaml' and the leaves, then delete it") in lines
    assert ("configs/stage2_ab/smoke/ab_mixed.yaml:4:5: S2L050 extends retired parent '../base_smoke_runtime.yaml'; "
            "extend '../base.yaml' (the canonical base) instead") in lines
    assert ("configs/stage2_ab/prod/b_only.yaml:11:7: S2L030 custom.extra.rollout_matching.decode_batch_size is in "
            "the retired namespace; move it to rollout_matching.decode_batch_size") in lines
    assert ("configs/stage2_ab/base_rollout_matching_sft.yaml:17:9: S2L030 custom.extra.rollout_matching.vllm."
            "max_model_len is in the retired namespace; move it to rollout_matching.vllm.max_model_len") in lines
    codes = collections.defaultdict(collections.Counter)
    for line in lines:
        path, _, _, rest = line.split(":", 3)
        codes[path.rsplit("stage2_ab/", 1)[1]][rest.split()[0]] += 1
    assert codes == {
        "base_rollout_matching_sft.yaml": {"S2L030": 6},  # each legacy leaf key
        "base_smoke_runtime.yaml": {"S2L030": 1},
        "prod/base.yaml": {"S2L050": 2, "S2L030": 1},  # retired on the surface, extends a retired parent; inherits
        "prod/ab_mixed.yaml": {"S2L020": 12, "S2L012": 1, "S2L050": 2, "S2L030": 1},  # sets run_name, b_ratio
        "prod/b_only.yaml": {"S2L020": 11, "S2L012": 1, "S2L050": 1, "S2L030": 2},  # + eval_steps; own legacy key
        "smoke/ab_mixed.yaml": {"S2L020": 13, "S2L013": 1, "S2L050": 1, "S2L030": 1},  # only run_name
    }


# smoke/ab_mixed resolved by hand: base <- base_rollout_matching_sft <- prod/base <- prod/ab_mixed,
# then base_smoke_runtime (the later parent wins), then the leaf; legacy keys relocated.
SMOKE_AB_MIXED = {
    "model.torch_dtype": "bfloat16", "model.model": "ckpt/demo-merged", "template.template": "qwen3_vl",
    "training.seed": 7, "training.eval_strategy": "steps", "training.eval_steps": 5, "training.save_strategy": "steps",
    "training.save_steps": 10, "training.logging_steps": 10, "training.learning_rate": 2.0e-05,
    "training.per_device_eval_batch_size": 4, "training.run_name": "demo_smoke_ab_mixed",
    "training.output_dir": "output/demo/prod", "training.logging_dir": "tb/demo/prod", "training.vit_lr": 2.0e-05,
    "training.aligner_lr": 5.0e-05, "training.effective_batch_size": 32, "training.max_steps": 20,
    "custom.train_jsonl": "data/demo/train.jsonl", "custom.trainer_variant": "stage2_ab_training",
    "stage2_ab.n_softctx_iter": 2, "stage2_ab.schedule.b_ratio": 0.5,
    "rollout_matching.rollout_backend": "vllm", "rollout_matching.decode_batch_size": 2,
    "rollout_matching.max_new_tokens": 128, "rollout_matching.vllm.mode": "server",
    "rollout_matching.vllm.max_model_len": 4096,
    "rollout_matching.vllm.server.servers": [{"base_url": "http://127.0.0.1:8000"}],
}


def test_fix_then_flatten_migrates_the_legacy_tree_to_one_hop(tmp_path):
    root = tmp_path / "legacy"
    copy_writable(FIXTURE, root)
    result = run_cli_process(["--fix", "configs/stage2_ab"], cwd=root)
    assert "fixed 3 file(s)" in result.stderr, result.stderr
    flatten_to_one_hop(root, LEAVES)
    result = run_cli_process(["configs/stage2_ab"], cwd=root)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout
    resolved = Resolver(repo_settings(str(root))).merge.resolve(str(root / "configs/stage2_ab/smoke/ab_mixed.yaml"))
    assert dict(flat(resolved.config)) == SMOKE_AB_MIXED
    assert (root / "configs/stage2_ab/prod/b_only.yaml").read_text().startswith("extends: ../base.yaml\n")


@pytest.mark.parametrize("leaf", LEAVES)
def test_the_guard_refuses_every_legacy_leaf(leaf, legacy):
    from stage2_lint.guard import ConfigContractError, enforce

    with pytest.raises(ConfigContractError) as refused:
        enforce(str(legacy / "configs/stage2_ab" / leaf))
    assert " S2L030 " in str(refused.value)
