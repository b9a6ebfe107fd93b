"""The boundary to the training framework: ms-swift with torch (``requirements/training.txt``).

``run_training`` finds ms-swift's SFT pipeline where the installed release keeps it,
translates the resolved profile into ``swift sft`` arguments through the explicit table in
``swift_args``, registers the project's trainer class in ms-swift's trainer factory (the
mapping ms-swift reads to pick a trainer), and injects the trainer's own keyword arguments
(the normalized rollout config, and for Stage-2 AB the channel schedule) through the
pipeline's ``_get_trainer_kwargs`` hook. Nothing here imports torch until a real run.
"""
from __future__ import annotations

import importlib
import os
from contextlib import contextmanager
from typing import Mapping, Tuple

from src.trainers.swift_args import swift_arguments

# Where each release keeps SwiftSft, newest first.
SWIFT_SFT_HOMES = (("swift.pipelines", 4), ("swift.llm.train", 3), ("swift.llm", 3))


class FrameworkMissing(RuntimeError):
    pass


def installed_release() -> Tuple[str, int]:
    """The installed ms-swift version and its major release (no import of swift itself)."""
    from importlib import metadata

    try:
        version = metadata.version("ms-swift")
    except metadata.PackageNotFoundError:
        raise FrameworkMissing("training needs ms-swift and torch (ms-swift is not installed): "
                               "pip install -r requirements/training.txt") from None
    return version, int(version.split(".")[0])


def load_swift_sft():
    """ms-swift's SwiftSft class and the major release it belongs to."""
    version, major = installed_release()
    try:
        import torch  # noqa: F401  (ms-swift needs it; say so before it fails deep inside)
    except ImportError:
        raise FrameworkMissing("training needs ms-swift and torch (torch is not installed): "
                               "pip install -r requirements/training.txt") from None
    failures = []
    for module, release in SWIFT_SFT_HOMES:
        if release != major:
            continue
        try:
            return getattr(importlib.import_module(module), "SwiftSft"), major
        except (ImportError, AttributeError) as error:
            failures.append(f"{module}: {error}")
    raise FrameworkMissing(f"ms-swift {version} is installed, but SwiftSft could not be imported "
                           f"({'; '.join(failures) or 'this release is not supported: 3.x and 4.x are'})")


@contextmanager
def registered_trainer(dotted_class: str):
    """ms-swift picks its trainer from ``TrainerFactory.TRAINER_MAPPING[task_type]``: point
    the causal-LM entry at the project's trainer for this run, and restore it after."""
    from swift.trainers import TrainerFactory

    mapping = TrainerFactory.TRAINER_MAPPING
    previous = mapping.get("causal_lm")
    mapping["causal_lm"] = dotted_class
    try:
        yield
    finally:
        mapping["causal_lm"] = previous


def run_training(trainer, config: Mapping, repo_root: str):
    """Train ``config`` with ms-swift using ``trainer``'s ms-swift class; the return value
    is the pipeline's own result."""
    swift_sft, release = load_swift_sft()
    argv = swift_arguments(config, release, repo_root, world_size=int(os.environ.get("WORLD_SIZE", "1")))
    extra = trainer.framework_kwargs()

    class ProjectSft(swift_sft):
        def _get_trainer_kwargs(self):
            return {**super()._get_trainer_kwargs(), **extra}

    with registered_trainer(trainer.swift_trainer):
        return ProjectSft(argv).main()
