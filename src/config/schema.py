"""Typed training config: frozen attrs classes derived from the contract's schema.

The declarations live in ``stage2_lint.schema`` (the one source of known keys, which the
linter's S2L040/S2L060 rules read too); this module exposes their attrs classes.
"""
from stage2_lint import schema
from stage2_lint.schema import structure, walk

TrainingConfig = schema.typed(schema.Profile)
TrainingSection = schema.typed(schema.Training)
RolloutMatchingSection = schema.typed(schema.RolloutMatching)
Stage2ABSection = schema.typed(schema.Stage2AB)


def to_training_config(resolved: dict) -> "TrainingConfig":
    """The typed view of a resolved profile (call once :func:`schema_findings` is empty)."""
    return structure(schema.Profile, resolved)


def schema_findings(resolved: dict) -> list:
    """Every unknown key and wrong-typed value of a whole resolved profile."""
    return list(walk(resolved))


__all__ = ["TrainingConfig", "TrainingSection", "RolloutMatchingSection", "Stage2ABSection",
           "to_training_config", "schema_findings"]
