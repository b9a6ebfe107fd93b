"""The runtime side: loader, normalizer, trainers and the trainer entry point."""
import json
import shutil
import subprocess
import sys

import pytest

from stage2_lint.guard import ConfigContractError
from stage2_tree import BASE, LEAF

from src.config.loader import ConfigLoader
from src.config.rollout import RolloutMatchingConfig, normalize_rollout, preflight
from src.trainers import RolloutMatchingTrainer, Stage2ABTrainer

from conftest import REPO, install_contract, write_tree

CANONICAL = ["prod/a_only", "prod/b_only", "prod/ab_mixed", "smoke/a_only", "smoke/b_only", "smoke/ab_mixed"]


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("leaf", CANONICAL)
def test_canonical_leaves_load_typed(leaf):
    train_args, config = ConfigLoader().load_training_config(str(REPO / f"configs/stage2_ab/{leaf}.yaml"))
    assert train_args["run_name"] == config.training.run_name
    assert config.rollout_matching.decode_batch_size == 4
    assert config.rollout_matching.vllm.server.servers[0].base_url == "http://127.0.0.1:8000"


def test_legacy_key_fails_fast_with_the_replacement_path(tree):
    tree({"configs/stage2_ab/base.yaml": BASE,
          "configs/stage2_ab/prod/leaf.yaml": LEAF + "custom:\n  extra:\n    rollout_matching:\n      vllm:\n"
                                                     "        mode: server\n"})
    with pytest.raises(ConfigContractError) as raised:
        ConfigLoader().load_training_config("configs/stage2_ab/prod/leaf.yaml")
    assert ("configs/stage2_ab/prod/leaf.yaml:24:9: S2L030 custom.extra.rollout_matching.vllm.mode is in the retired "
            "namespace; move it to rollout_matching.vllm.mode") in str(raised.value)


def test_unknown_key_in_an_unscoped_parent_fails_at_its_line(tree):
    tree({"configs/other/base.yaml": "training:\n  eval_stepz: 3\n",
          "configs/stage2_ab/base.yaml": "extends: ../other/base.yaml\n" + BASE,
          "configs/stage2_ab/prod/leaf.yaml": LEAF})
    with pytest.raises(ConfigContractError) as raised:
        ConfigLoader().load_training_config("configs/stage2_ab/prod/leaf.yaml")
    assert ("configs/other/base.yaml:2:3: S2L060 unknown key training.eval_stepz; did you mean training.eval_steps?"
            in str(raised.value))


def test_base_config_path_is_merged_under_the_profile(tree):
    tree({"configs/stage2_ab/base.yaml": BASE, "configs/stage2_ab/prod/leaf.yaml": LEAF,
          "configs/stage2_ab/extra_base.yaml": "training:\n  seed: 99\n  eval_steps: 1\n"})
    _, config = ConfigLoader().load_training_config("configs/stage2_ab/prod/leaf.yaml",
                                                    "configs/stage2_ab/extra_base.yaml")
    assert (config.training.seed, config.training.eval_steps) == (99, 80)


def test_normalizer_mapping_and_defaults():
    rollout = normalize_rollout({"rollout_matching": {"vllm": {"mode": "server", "server": {"servers": [
        {"base_url": "http://a:1", "group_port": 5}, {"base_url": "http://b:2"}]}}, "max_new_tokens": 7}})
    assert isinstance(rollout, RolloutMatchingConfig)
    assert rollout["decode_batch_size"] == 1  # unset: 1, never per_device_eval_batch_size
    assert (rollout["rollout_backend"], rollout["vllm_mode"]) == ("vllm", "server")
    assert rollout["server_base_urls"] == ("http://a:1", "http://b:2")
    assert rollout["max_new_tokens"] == 7 and rollout["vllm"]["server"]["servers"][0]["group_port"] == 5
    config = {"model": {"model": "ckpt/m"}, "custom": {"train_jsonl": "data/lvis/train.jsonl"}}
    assert preflight(rollout, config, "/repo") == {
        "rollout_backend": "vllm", "vllm_mode": "server", "server_base_urls": ["http://a:1", "http://b:2"],
        "decode_batch_size": 1, "server_model": "ckpt/m", "server_torch_dtype": "bfloat16",
        "root_image_dir_resolved": "/repo/data/lvis", "vllm_max_model_len": None, "vllm_enable_lora": False,
        "vllm_tensor_parallel_size": 1, "vllm_gpu_memory_utilization": 0.9, "repeat_terminate_config": {},
        "repeat_terminate_enabled": False}
    assert normalize_rollout({"rollout_matching": {"rollout_backend": "hf"}})["vllm_mode"] is None
    with pytest.raises(TypeError):
        rollout["vllm"]["mode"] = "colocate"
    with pytest.raises(AttributeError):
        rollout.extra = 1


def test_eval_batch_size_never_reaches_the_normalized_contract():
    config = {"training": {"per_device_eval_batch_size": 8}, "rollout_matching": {}}
    assert normalize_rollout(config)["decode_batch_size"] == 1


def test_trainers_refuse_a_raw_mapping():
    with pytest.raises(TypeError, match="normalized rollout config"):
        RolloutMatchingTrainer(rollout_matching_cfg={"decode_batch_size": 4})
    with pytest.raises(TypeError):
        Stage2ABTrainer(rollout_matching_cfg={"decode_batch_size": 4}, b_ratio=0.5, n_softctx_iter=2)


@pytest.mark.parametrize("ratio", [0.0, 0.05, 0.85, 1.0, 0.333])
def test_channel_schedule_is_deterministic_and_exact(ratio):
    rollout = normalize_rollout({"rollout_matching": {"decode_batch_size": 2}})
    trainer = Stage2ABTrainer(rollout_matching_cfg=rollout, b_ratio=ratio, n_softctx_iter=2)
    schedule = trainer.schedule(1000)
    assert schedule == trainer.schedule(1000)
    assert schedule.count("B") == int(ratio * 1000)
    for prefix in (10, 99, 500):
        assert abs(schedule[:prefix].count("B") - ratio * prefix) < 1


def test_sft_dry_run_prints_the_manifest():
    result = _run("-m", "src.sft", "--config", "configs/stage2_ab/smoke/ab_mixed.yaml", "--dry-run")
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["config_path"] == "configs/stage2_ab/smoke/ab_mixed.yaml"
    assert manifest["contract"] == "stage2_ab"  # which contract the guard applied, by name
    assert (manifest["run_name"], manifest["seed"]) == ("smoke_ab_mixed", 17)
    assert manifest["output_dir"] == "output/stage2_ab/smoke/ab_mixed"
    assert manifest["logging_dir"] == "tb/stage2_ab/smoke/ab_mixed"
    assert len(manifest["resolved_config_sha256"]) == 64
    assert manifest["trainer"] == {"trainer": "Stage2ABTrainer", "decode_batch_size": 4, "b_ratio": 0.85,
                                   "n_softctx_iter": 2}
    assert manifest["rollout_matching_cfg"]["server_base_urls"] == ["http://127.0.0.1:8000"]


def test_sft_refuses_a_legacy_profile(tmp_path):
    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": BASE, "configs/stage2_ab/prod/leaf.yaml": LEAF
                          + "custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 2\n"})
    leaf = tmp_path / "configs/stage2_ab/prod/leaf.yaml"
    result = _run("-m", "src.sft", "--config", str(leaf), "--dry-run")
    assert result.returncode == 1
    assert (f"{leaf}:23:7: S2L030 custom.extra.rollout_matching.decode_batch_size is in the retired namespace; "
            f"move it to rollout_matching.decode_batch_size") in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("settings", ["[stage2_lint]\nmax_depth = x\n", "[stage2_lint\n", "[stage2_lint]\nnope = 1\n",
                                      b"\xff\xfe[stage2_lint]\n"])
@pytest.mark.parametrize("entry", [["-m", "src.sft", "--config"], ["-m", "src.launch_preflight"]])
def test_trainer_entry_points_never_print_a_traceback_for_bad_settings(tmp_path, settings, entry):
    """The settings that govern a profile are found from its location, whatever the cwd."""
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    install_contract(tmp_path)
    (tmp_path / "setup.cfg").write_bytes(settings if isinstance(settings, bytes) else settings.encode())
    result = subprocess.run([sys.executable, *entry, str(tmp_path / "configs/stage2_ab/prod/ab_mixed.yaml")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{tmp_path}" in result.stderr or "stage2_lint setting" in result.stderr, result.stderr


def test_the_loader_works_on_the_class_as_upstream_calls_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # any working directory: settings come from the profile's location
    leaf = str(REPO / "configs/stage2_ab/prod/ab_mixed.yaml")
    train_args, config = ConfigLoader.load_training_config(leaf)
    assert config.training.run_name == "prod_ab_mixed_bbox_max60_ckpt1516_ep2"
    assert train_args["run_name"] == config.training.run_name
    assert ConfigLoader.load_yaml_with_extends(leaf) == ConfigLoader().load_yaml_with_extends(leaf)
    assert ConfigLoader.load_training_config(leaf, base_config_path=None)[1] == config


def test_without_ms_swift_the_message_says_what_to_install(tmp_path):
    code = ("import importlib.metadata as m, runpy, sys\n"
            "real = m.version\n"
            "def version(name):\n"
            "    if name == 'ms-swift':\n"
            "        raise m.PackageNotFoundError(name)\n"
            "    return real(name)\n"
            "m.version = version\n"
            "sys.argv = ['src.sft', '--config', 'configs/stage2_ab/smoke/ab_mixed.yaml']\n"
            "runpy.run_module('src.sft', run_name='__main__')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "sft: training needs ms-swift and torch (ms-swift is not installed): pip install -r requirements/training.txt"]


def test_keys_the_typed_classes_do_not_model_are_kept_and_listed():
    """An open section's extra keys stay in the resolved config (what the trainer receives)
    and the manifest lists them: the typed view never drops one unseen."""
    import attrs

    from src.config.schema import untyped_keys

    @attrs.frozen
    class Inner:
        a: int = 1

    @attrs.frozen
    class Outer:
        inner: Inner = attrs.field(factory=Inner)

    assert untyped_keys(Outer, {"inner": {"a": 1, "b": 2}, "zz": 3}) == ("inner.b", "zz")
    manifest = json.loads(_run("-m", "src.sft", "--config", "configs/stage2_ab/smoke/ab_mixed.yaml",
                               "--dry-run").stdout)
    assert manifest["untyped_keys"] == []  # this repository's sections are all closed
