"""Rollout-matching trainer: the part of the training loop that talks to rollout servers.

The model forward/backward belongs to the training framework (ms-swift); this class owns
what the contract governs: which rollout config it accepts, and how rollout and rollout-eval
requests are batched for decoding.
"""
from __future__ import annotations

from typing import Iterable, List, Sequence

from src.config.rollout import RolloutMatchingConfig


class RolloutMatchingTrainer:
    swift_trainer = "src.trainers.swift_trainers.RolloutMatchingSwiftTrainer"  # the ms-swift class of a real run

    def __init__(self, *, rollout_matching_cfg, rollout_client=None, per_device_eval_batch_size: int = 1):
        if not isinstance(rollout_matching_cfg, RolloutMatchingConfig):
            raise TypeError("the trainer accepts only the normalized rollout config "
                            "(src.config.rollout.normalize_rollout), not a raw mapping")
        self.rollout_matching_cfg = rollout_matching_cfg
        # The one decode knob. per_device_eval_batch_size sizes the eval dataloader only.
        self.decode_batch_size: int = rollout_matching_cfg["decode_batch_size"]
        self.per_device_eval_batch_size = per_device_eval_batch_size
        self._client = rollout_client

    @property
    def client(self):
        if self._client is None:
            from src.rollout.client import VllmServerClient

            self._client = VllmServerClient(self.rollout_matching_cfg)
        return self._client

    @property
    def servers(self) -> int:
        return max(1, len(self.rollout_matching_cfg["server_base_urls"]))

    def rollout(self, requests: Sequence[dict]) -> List[dict]:
        """Training rollouts for one step's requests."""
        return self.client.generate(list(requests), self.decode_batch_size)

    def evaluate_rollouts(self, eval_batches: Iterable[Sequence[dict]]) -> List[dict]:
        """Rollout evaluation over dataloader batches of any size: requests are pooled and
        decoded in full microbatches of ``decode_batch_size`` on every server."""
        pooled: List[dict] = []
        outputs: List[dict] = []
        flush_at = self.decode_batch_size * self.servers
        for batch in eval_batches:
            pooled.extend(batch)
            while len(pooled) >= flush_at:
                outputs += self.client.generate(pooled[:flush_at], self.decode_batch_size)
                del pooled[:flush_at]
        if pooled:
            outputs += self.client.generate(pooled, self.decode_batch_size)
        return outputs

    def describe(self) -> dict:
        return {"trainer": type(self).__name__, "decode_batch_size": self.decode_batch_size}

    def framework_kwargs(self) -> dict:
        """What the training framework's trainer is constructed with, besides its own arguments."""
        return {"rollout_matching_cfg": self.rollout_matching_cfg}

    def train(self, config: dict, repo_root: str):
        """Train the resolved profile ``config`` with the framework (ms-swift)."""
        from src.trainers.framework import run_training

        return run_training(self, config, repo_root)
