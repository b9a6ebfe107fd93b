"""The real hand-off to ms-swift, on CPU: every canonical profile's arguments through
ms-swift's own parser, and `python -m src.sft` training a tiny text model built here (random
weights, a BPE tokenizer trained on a few lines), with the network cut, against a local
stand-in for the rollout server (vLLM cannot run on CPU) that speaks its HTTP endpoints.

Needs requirements/training.txt (ms-swift and a CPU torch); without it these tests skip, saying so.
"""
import json
import math
import os
import shutil
import subprocess
import sys

import attrs
import pytest

from src.config import schema as profile_schema
from src.config.loader import ConfigLoader
from src.trainers import swift_args
from src.trainers.framework import installed_release

from conftest import REPO, write_tree

swift = pytest.importorskip("swift", reason="needs requirements/training.txt (ms-swift and torch)")

LEAVES = sorted(str(path.relative_to(REPO)) for pattern in ("prod", "smoke", "ci")
                for path in (REPO / "configs/stage2_ab" / pattern).glob("*.yaml"))


def _parser():
    from transformers import HfArgumentParser
    from swift.arguments import SftArguments

    return HfArgumentParser(SftArguments)


@pytest.fixture(scope="module")
def parser():
    return _parser()


@pytest.mark.parametrize("leaf", LEAVES)
def test_every_profiles_arguments_pass_ms_swifts_own_parser_with_nothing_left_over(parser, leaf):
    config = ConfigLoader().load_profile(str(REPO / leaf)).config
    argv = swift_args.swift_arguments(config, installed_release()[1], str(REPO))
    namespace, remaining = parser.parse_known_args(argv)  # argparse exits on a bad choice or type
    assert remaining == []
    training = config["training"]
    assert namespace.gradient_accumulation_steps == training["effective_batch_size"] // \
        training["per_device_train_batch_size"]
    assert namespace.max_length == config["global_max_length"]
    assert namespace.truncation_strategy == {"raise": "delete"}.get(config["template"]["truncation_strategy"],
                                                                    config["template"]["truncation_strategy"])
    jsonl, limit = config["custom"]["train_jsonl"], config["custom"].get("train_sample_limit")
    assert namespace.dataset == [str(REPO / jsonl) + (f"#{limit}" if limit else "")]
    for consumed in ("effective_batch_size", "save_delay_steps", "packing_buffer", "eval_packing", "train_type"):
        assert f"--{consumed}" not in argv


def test_the_translation_table_has_a_row_for_every_schema_field():
    sections = {field.name: field.type for field in attrs.fields(profile_schema.Profile)}
    every = {f"{name}.{field.name}": None for name in swift_args.SECTIONS for field in attrs.fields(sections[name])}
    assert swift_args.unknown_keys({name: {key.split(".")[1]: 1 for key in every if key.startswith(name + ".")}
                                    for name in swift_args.SECTIONS}) == []


def test_a_value_ms_swift_cannot_take_is_refused_naming_the_key():
    config = ConfigLoader().load_profile(str(REPO / "configs/stage2_ab/smoke/a_only.yaml")).config
    config["training"]["per_device_train_batch_size"] = 5
    with pytest.raises(swift_args.TranslationError, match="effective_batch_size 64 is not a multiple of "
                                                          "per_device_train_batch_size x world size = 5"):
        swift_args.swift_arguments(config, 4, str(REPO))


def test_a_value_the_schema_allows_but_ms_swift_lacks_is_refused_naming_it():
    config = ConfigLoader().load_profile(str(REPO / "configs/stage2_ab/smoke/a_only.yaml")).config
    config["tuner"]["lora_bias"] = "lora_only"
    with pytest.raises(swift_args.TranslationError, match="tuner.lora_bias: 'lora_only' has no ms-swift equivalent"):
        swift_args.swift_arguments(config, 4, str(REPO))


# -- a real run --------------------------------------------------------------------------

BUILD_MODEL = """
import json, os, sys
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

out = sys.argv[1]
lines = ["the cat sat on the mat", "a dog ran in the park", "describe image", "boxes and labels"] * 20
special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=300, special_tokens=special,
                                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                    additional_special_tokens=special)
tokenizer.save_pretrained(os.path.join(out, "model"))
torch.manual_seed(0)
Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                             eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
                             pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
                             tie_word_embeddings=True)).save_pretrained(os.path.join(out, "model"))
for name, rows in (("train", 16), ("val", 4)):
    with open(os.path.join(out, name + ".jsonl"), "w") as handle:
        for index in range(rows):
            handle.write(json.dumps({"messages": [{"role": "user", "content": f"describe image {index}"},
                                                  {"role": "assistant", "content": "the cat sat on the mat"}]}) + "\\n")
"""


STANDIN = REPO / "tests" / "rollout_standin.py"


def _network_cut() -> list:
    """A command prefix running its command with no network but its own loopback (the
    rollout stand-in listens there), or [] where this machine allows no namespace."""
    prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    if shutil.which("unshare") and shutil.which("ip") and \
            subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
        return prefix
    return []


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real training run of the CI profile, in a copy of the repository's configs."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(REPO / "configs", root / "configs")
    write_tree(root, {})  # this repository's contract and schema
    (root / ".git").mkdir()
    subprocess.run([sys.executable, "-c", BUILD_MODEL, str(root / "build/ci_tiny")], check=True, timeout=300,
                   capture_output=True)
    cut = _network_cut()
    listener = None if cut else _listening_socket()  # inside the namespace nothing else listens on 8000
    port = listener.getsockname()[1] if listener else 8000
    base = root / "configs/stage2_ab/base.yaml"
    base.write_text(base.read_text().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}"))
    record = root / "rollout_batches.json"
    offline = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MODELSCOPE_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    where = f"fd:{listener.fileno()}" if listener else str(port)
    try:
        result = subprocess.run([*cut, sys.executable, str(STANDIN), where, str(record), "--", sys.executable,
                                 "-m", "src.sft", "--config", "configs/stage2_ab/ci/cpu_smoke.yaml"], cwd=root,
                                capture_output=True, text=True, timeout=900, env={**os.environ, **offline},
                                pass_fds=[listener.fileno()] if listener else [])
    finally:
        if listener:
            listener.close()
    batches = json.loads(record.read_text()) if record.exists() else []
    return root, result, batches


def test_a_real_run_trains_saves_and_runs_both_channels(trained):
    root, result, batches = trained
    assert result.returncode == 0, result.stderr[-5000:]
    output = root / "build/ci_tiny/output"
    logs = [json.loads(line) for line in (output / "logging.jsonl").read_text().splitlines()]
    losses = [entry["loss"] for entry in logs if "loss" in entry]
    assert len(losses) == 2 and all(math.isfinite(float(loss)) for loss in losses)
    assert (output / "checkpoint-2" / "model.safetensors").is_file()
    channels = [json.loads(line) for line in (output / "stage2_channels.jsonl").read_text().splitlines()]
    assert [entry["channel"] for entry in channels] == ["A", "B"]  # b_ratio 0.5: step 0 is A, step 1 is B
    assert [entry["rollouts"] for entry in channels] == [None, 2]


def test_the_rollout_server_received_batches_of_exactly_decode_batch_size(trained):
    root, result, batches = trained
    assert result.returncode == 0, result.stderr[-5000:]
    assert batches and all(len(batch) == 2 for batch in batches)  # rollout_matching.decode_batch_size: 2
    # channel B's step (2 rows) and the evaluation (4 rows), in calls of 2
    assert len(batches) == 1 + 2
    assert all(request["messages"][0]["role"] == "user" for batch in batches for request in batch)


def test_evaluation_reports_the_metric_the_profile_selects_checkpoints_by(trained):
    root, result, _ = trained
    assert result.returncode == 0, result.stderr[-5000:]
    logs = [json.loads(line) for line in (root / "build/ci_tiny/output/logging.jsonl").read_text().splitlines()]
    f1 = [entry["eval_rollout/f1"] for entry in logs if "eval_rollout/f1" in entry]
    assert f1 and 0 < float(f1[0]) <= 1  # "the cat sat" against "the cat sat on the mat"


def test_a_broken_profile_is_refused_before_torch_is_imported(trained):
    root, _, _ = trained
    profile = root / "configs/stage2_ab/ci/cpu_smoke.yaml"
    broken = root / "configs/stage2_ab/ci/broken.yaml"
    broken.write_text(profile.read_text().replace("  decode_batch_size: 2\n", "  decode_batch_size: two\n"))
    code = ("import sys, runpy; sys.modules['torch'] = None; sys.argv = ['src.sft', '--config', sys.argv[1]]; "
            "runpy.run_module('src.sft', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code, str(broken)], cwd=root, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    broken.unlink()
    assert result.returncode == 1
    assert "S2L040 rollout_matching.decode_batch_size: expected an integer" in result.stderr, result.stderr
    assert "torch" not in result.stderr


def _listening_socket():
    """A socket listening on a port the kernel chose, for the stand-in to inherit: the port is
    never free between choosing it and serving on it."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener
