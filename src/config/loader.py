"""ConfigLoader: a profile the guard passed (stage2_lint.guard: the CLI's rules, then its
contract on the whole resolved mapping), as typed training arguments."""
from __future__ import annotations

import hashlib
import json
from typing import NamedTuple, Optional, Tuple

from stage2_lint.guard import checked_profile, resolved_or_refused
from stage2_lint.tree.resolver import Resolver
from stage2_lint.contracts.settings import Settings, settings_for

from src.config.schema import TrainingConfig, to_training_config
from src.trainers.swift_args import SECTIONS, TranslationError, unknown_keys

# Sections handed to the training framework as keyword arguments, in this order.
TRAIN_ARG_SECTIONS = SECTIONS


class LoadedProfile(NamedTuple):
    path: str
    config: dict  # the resolved mapping
    train_args: dict
    training_config: TrainingConfig
    contract: Optional[str] = None  # the name of the contract the guard held it to


class _ClassOrInstance:
    """A method that works on an instance and on the class itself, as upstream training code
    calls it (``ConfigLoader.load_training_config(path)``): on the class, a loader with the
    settings found from the profile's own location does the work."""

    def __init__(self, function):
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance, owner):
        return self.function.__get__(instance if instance is not None else owner(), owner)


class ConfigLoader:
    """Loads training profiles; every path goes through the contract guard first. Without
    explicit settings, each profile is governed by the settings found from its location."""

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings

    def settings_for(self, path: str) -> Settings:
        return self.settings if self.settings is not None else settings_for(path)

    @_ClassOrInstance
    def load_yaml_with_extends(self, path: str) -> dict:
        """The resolved mapping of ``path`` (the project's one ``extends`` implementation)."""
        return resolved_or_refused(path, Resolver(self.settings_for(path))).config

    @_ClassOrInstance
    def load_training_config(self, path: str, base_config_path: Optional[str] = None) -> Tuple[dict, TrainingConfig]:
        """(training arguments, typed config). ``base_config_path`` is merged under the
        profile (the profile wins), as an extra root parent."""
        profile = self.load_profile(path, base_config_path)
        return profile.train_args, profile.training_config

    @_ClassOrInstance
    def load_profile(self, path: str, base_config_path: Optional[str] = None) -> LoadedProfile:
        """Guard (every rule, the resolved profile against its contract), then type."""
        checked = checked_profile(path, self.settings, base_config_path)  # None: the guard finds them
        unknown = unknown_keys(checked.config)
        if unknown:  # a schema field with no row in the translation table: refuse before training
            raise TranslationError(f"{path}: no ms-swift translation for {', '.join(unknown)} "
                                   f"(add a row to src/trainers/swift_args.py)")
        config = checked.config
        return LoadedProfile(path, config, train_arguments(config), to_training_config(config),
                             checked.contract.name if checked.contract else None)


def train_arguments(config: dict) -> dict:
    """Keyword arguments for the training framework: the sections it owns, flattened."""
    arguments: dict = {}
    for section in TRAIN_ARG_SECTIONS:
        arguments.update(config.get(section) or {})
    return arguments


def config_hash(config: dict) -> str:
    """A stable hash of a resolved config (key order does not matter)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
