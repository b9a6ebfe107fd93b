"""Trainers: they accept only the rollout normalizer's output."""
from src.trainers.rollout_matching import RolloutMatchingTrainer
from src.trainers.stage2_ab import Stage2ABTrainer

TRAINERS = {"rollout_matching_sft": RolloutMatchingTrainer, "stage2_ab_training": Stage2ABTrainer}

__all__ = ["RolloutMatchingTrainer", "Stage2ABTrainer", "TRAINERS"]
