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


def preflight(rollout: RolloutMatchingConfig) -> dict:
    """The launcher's view (DESIGN.md section 6): JSON-ready, with extra keys allowed."""
    return {
        "rollout_backend": rollout["rollout_backend"],
        "vllm_mode": rollout["vllm_mode"],
        "server_base_urls": list(rollout["server_base_urls"]),
        "decode_batch_size": rollout["decode_batch_size"],
    }


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
