"""The one rollout normalizer: ``rollout_matching.*`` of a resolved profile ->
``rollout_matching_cfg``, the immutable mapping the trainers, the rollout client and the
launcher preflight all read.

Mapping (every other field of ``rollout_matching`` keeps its name and nesting):

| normalized key | source | when unset |
| --- | --- | --- |
| ``rollout_backend`` | ``rollout_matching.rollout_backend`` | ``"vllm"`` |
| ``decode_batch_size`` | ``rollout_matching.decode_batch_size`` (never ``per_device_eval_batch_size``) | ``1`` |
| ``vllm_mode`` | ``rollout_matching.vllm.mode`` | ``None`` when the backend is not vllm, else ``"colocate"`` |
| ``server_base_urls`` | ``rollout_matching.vllm.server.servers[].base_url`` | ``()`` |
| ``server_timeout_s`` | ``rollout_matching.vllm.server.timeout_s`` | ``240.0`` |
| ``infer_timeout_s`` | ``rollout_matching.vllm.server.infer_timeout_s`` (None: no timeout) | ``None`` |

Lists become tuples and mappings become read-only mappings, so nothing downstream can
mutate the contract it was handed.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Iterator


class RolloutMatchingConfig(Mapping):
    """An immutable, normalized rollout contract. Trainers accept nothing else."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping):
        object.__setattr__(self, "_data", MappingProxyType(dict(data)))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name, value):
        raise AttributeError("RolloutMatchingConfig is immutable")

    def __repr__(self) -> str:
        return f"RolloutMatchingConfig({dict(self._data)!r})"

    def to_dict(self) -> dict:
        return _thaw(self)


def normalize_rollout(config: Mapping) -> RolloutMatchingConfig:
    """``config`` is a whole resolved profile (plain mapping)."""
    section = dict(config.get("rollout_matching") or {})
    vllm = section.get("vllm") or {}
    server = vllm.get("server") or {}
    backend = section.get("rollout_backend", "vllm")
    normalized = dict(section)
    normalized.update({
        "rollout_backend": backend,
        "decode_batch_size": section.get("decode_batch_size", 1),
        "vllm_mode": vllm.get("mode", "colocate") if backend == "vllm" else None,
        "server_base_urls": tuple(entry["base_url"] for entry in server.get("servers") or ()),
        "server_timeout_s": server.get("timeout_s", 240.0),
        "infer_timeout_s": server.get("infer_timeout_s"),
    })
    return RolloutMatchingConfig({key: _freeze(value) for key, value in normalized.items()})


def preflight(rollout: RolloutMatchingConfig, config: Mapping, repo_root: str) -> dict:
    """The launcher's view (DESIGN.md section 6): JSON-ready, with extra keys allowed.
    ``config`` is the whole resolved profile; relative data paths resolve against
    ``repo_root`` (never the working directory)."""
    vllm = rollout.get("vllm") or {}
    repeat_terminate = _thaw(rollout.get("repeat_terminate") or {})
    model = config.get("model") or {}
    train_jsonl = (config.get("custom") or {}).get("train_jsonl")
    return {
        "rollout_backend": rollout["rollout_backend"],
        "vllm_mode": rollout["vllm_mode"],
        "server_base_urls": list(rollout["server_base_urls"]),
        "decode_batch_size": rollout["decode_batch_size"],
        "server_model": model.get("model"),
        "server_torch_dtype": model.get("torch_dtype", "bfloat16"),
        "root_image_dir_resolved": (os.path.normpath(os.path.join(repo_root, os.path.dirname(train_jsonl)))
                                    if isinstance(train_jsonl, str) and train_jsonl else None),
        "vllm_max_model_len": vllm.get("max_model_len"),
        "vllm_enable_lora": bool(vllm.get("enable_lora", False)),
        "vllm_tensor_parallel_size": vllm.get("tensor_parallel_size", 1),
        "vllm_gpu_memory_utilization": vllm.get("gpu_memory_utilization", 0.9),
        "repeat_terminate_config": repeat_terminate,
        "repeat_terminate_enabled": bool(repeat_terminate.get("enabled", False)),
    }


def launch_problems(plan: dict) -> list:
    """What stops the launcher from managing this profile's rollout server (one server,
    data-parallel across its GPUs), each naming the key to fix."""
    if plan["rollout_backend"] != "vllm" or plan["vllm_mode"] != "server":
        return []
    problems = []
    urls = plan["server_base_urls"]
    if len(urls) != 1:
        problems.append(f"rollout_matching.vllm.server.servers lists {len(urls)} servers; the launcher manages "
                        f"exactly one (it runs data-parallel across server_gpus)")
    if plan["vllm_max_model_len"] is None:
        problems.append("rollout_matching.vllm.max_model_len is required in server mode (the rollout server's "
                        "--vllm_max_model_len)")
    if not plan["server_model"]:
        problems.append("model.model is required in server mode (the rollout server's --model)")
    return problems


def _freeze(value):
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value):
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value
