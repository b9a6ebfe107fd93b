"""The boundary to the training framework: ms-swift with torch (the ``[train]`` extra).

``run_training`` hands the resolved training arguments to ms-swift's SFT pipeline
(``swift.llm.SwiftSft``) as the command-line arguments ``swift sft`` would take, and injects
the trainer's own keyword arguments (the normalized rollout config, and for Stage-2 AB the
channel schedule) through the pipeline's ``_get_trainer_kwargs`` hook, which ms-swift calls
when it constructs its trainer.
"""
from __future__ import annotations

import json
from typing import List, Mapping


class FrameworkMissing(RuntimeError):
    pass


def swift_arguments(train_args: Mapping) -> List[str]:
    """``--name value`` pairs as ``swift sft`` parses them: booleans as true/false, lists as
    several values, mappings as JSON; unset (None) arguments are left to ms-swift's defaults."""
    argv: List[str] = []
    for name, value in train_args.items():
        if value is None:
            continue
        argv.append(f"--{name}")
        if isinstance(value, bool):
            argv.append("true" if value else "false")
        elif isinstance(value, (list, tuple)):
            argv.extend(str(item) for item in value)
        elif isinstance(value, Mapping):
            argv.append(json.dumps(value, sort_keys=True))
        else:
            argv.append(str(value))
    return argv


def run_training(trainer, train_args: Mapping):
    """Train with ms-swift; the return value is the pipeline's own result."""
    try:
        from swift.llm import SwiftSft
        import torch  # noqa: F401  (ms-swift needs it; say so before it fails deep inside)
    except ImportError as error:
        raise FrameworkMissing(f"training needs ms-swift and torch ({error.name} is missing): "
                               f"pip install -e '.[train]'") from error
    extra = trainer.framework_kwargs()

    class RolloutMatchingSft(SwiftSft):
        def _get_trainer_kwargs(self):
            return {**super()._get_trainer_kwargs(), **extra}

    return RolloutMatchingSft(swift_arguments(train_args)).main()
