"""Trainer entry: ``python -m src.sft --config PATH [--dry-run]``.

Load (the contract guard runs first, before torch is imported), normalize the rollout
config, construct the trainer and inject ``rollout_matching_cfg``. ``--dry-run`` prints a
reproducibility manifest as JSON and exits 0; a real run translates the profile into
ms-swift's arguments (``src.trainers.swift_args``) and trains with the project's trainer
registered in ms-swift (``src.trainers.framework``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from stage2_lint.core.escape import printable_lines
from stage2_lint.guard import ConfigContractError

from src.config.loader import ConfigLoader, config_hash
from src.config.rollout import normalize_rollout
from src.config.schema import Profile, untyped_keys
from src.trainers import TRAINERS
from src.trainers.framework import FrameworkMissing
from src.trainers.swift_args import TranslationError


def build_trainer(config: dict, training_config):
    """The trainer named by custom.trainer_variant, given only the normalized rollout config."""
    rollout = normalize_rollout(config)
    variant = training_config.custom.trainer_variant or "rollout_matching_sft"
    if variant not in TRAINERS:
        raise ValueError(f"custom.trainer_variant {variant!r} is not one of {', '.join(sorted(TRAINERS))}")
    kwargs = {"rollout_matching_cfg": rollout,
              "per_device_eval_batch_size": training_config.training.per_device_eval_batch_size}
    if variant == "stage2_ab_training":
        kwargs.update(b_ratio=training_config.stage2_ab.schedule.b_ratio,
                      n_softctx_iter=training_config.stage2_ab.n_softctx_iter)
    return TRAINERS[variant](**kwargs)


def manifest(path: str, config: dict, training_config, trainer, contract: Optional[str] = None) -> dict:
    training = training_config.training
    return {
        "config_path": path,
        "contract": contract,  # which contract the guard applied, by name
        "run_name": training.run_name,
        "seed": training.seed,
        "output_dir": training.output_dir,
        "logging_dir": training.logging_dir,
        "resolved_config_sha256": config_hash(config),
        "trainer": trainer.describe(),
        "rollout_matching_cfg": trainer.rollout_matching_cfg.to_dict(),
        # keys the schema allows (open sections) that the typed classes do not model: kept in
        # the resolved config the trainer receives, listed here so none is dropped unseen
        "untyped_keys": list(untyped_keys(Profile, config)),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.sft", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--dry-run", action="store_true", help="print the reproducibility manifest and exit")
    args = parser.parse_args(argv)
    try:  # settings errors (SettingsError is a ValueError) are refused like profile errors
        profile = ConfigLoader().load_profile(args.config)
        config, training_config = profile.config, profile.training_config
        trainer = build_trainer(config, training_config)
    except (ConfigContractError, ValueError, OSError) as error:
        print(printable_lines(f"sft: {error}"), file=sys.stderr)
        return 1
    if args.dry_run:
        try:
            shown = manifest(args.config, config, training_config, trainer, profile.contract)
            print(json.dumps(shown, indent=2, sort_keys=True), flush=True)
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        return 0
    try:
        trainer.train(config, repo_root_of(args.config))
    except (FrameworkMissing, TranslationError) as error:
        print(printable_lines(f"sft: {error}"), file=sys.stderr)
        return 1
    return 0


def repo_root_of(path: str) -> str:
    """The repository a profile belongs to: the directory holding its config tree (relative
    data and model paths are relative to it, whatever the working directory)."""
    from stage2_lint.contracts.settings import settings_for
    from stage2_lint.tree.layout import config_root

    return os.path.dirname(config_root(settings_for(path), path))


if __name__ == "__main__":
    sys.exit(main())
