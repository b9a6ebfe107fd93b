"""Stage-2 AB trainer: a deterministic channel A/B schedule on top of rollout matching.

Channel A trains on teacher-forced soft-context iterations (no rollout); channel B rolls
out and matches. Over any run of steps the share of B steps tracks ``b_ratio`` exactly
(Bresenham): step ``s`` is B when floor((s + 1) * r) > floor(s * r), with r taken as the
decimal the config wrote.
"""
from __future__ import annotations

from fractions import Fraction
from typing import List, Sequence

from src.trainers.rollout_matching import RolloutMatchingTrainer


class Stage2ABTrainer(RolloutMatchingTrainer):
    swift_trainer = "src.trainers.swift_trainers.Stage2ABSwiftTrainer"

    def __init__(self, *, b_ratio: float, n_softctx_iter: int, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= b_ratio <= 1:
            raise ValueError(f"stage2_ab.schedule.b_ratio must be in [0, 1], got {b_ratio}")
        self.b_ratio = Fraction(str(b_ratio))
        self.n_softctx_iter = n_softctx_iter

    def channel_for_step(self, step: int) -> str:
        return "B" if (self.b_ratio * (step + 1)).__floor__() > (self.b_ratio * step).__floor__() else "A"

    def schedule(self, steps: int) -> List[str]:
        return [self.channel_for_step(step) for step in range(steps)]

    def step_rollouts(self, step: int, requests: Sequence[dict]) -> List[dict]:
        """What a step sends to the rollout servers: everything on B steps, nothing on A."""
        return self.rollout(requests) if self.channel_for_step(step) == "B" else []

    def describe(self) -> dict:
        return {**super().describe(), "b_ratio": float(self.b_ratio), "n_softctx_iter": self.n_softctx_iter}

    def framework_kwargs(self) -> dict:
        return {**super().framework_kwargs(), "b_ratio": float(self.b_ratio), "n_softctx_iter": self.n_softctx_iter}
