"""ConfigLoader: resolve a profile through stage2_lint's hierarchy, after the same rules the
CLI runs have passed (stage2_lint.guard), and return typed training arguments."""
from __future__ import annotations

import hashlib
import json
from typing import NamedTuple, Optional, Tuple

from stage2_lint.contract_check import contract_findings
from stage2_lint.escape import dotted
from stage2_lint.guard import ConfigContractError, enforce, runtime_settings
from stage2_lint.hierarchy import Resolved, Resolver
from stage2_lint.keypath import deep_merge
from stage2_lint.settings import Settings, settings_for
from stage2_lint.records import Finding, Problem, Violation
from stage2_lint.rules import as_violations

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
        return self._resolve(path, Resolver(self.settings_for(path))).config

    def _resolve(self, path: str, resolver: Resolver) -> Resolved:
        resolved = resolver.resolve(path)
        if resolved is None:
            raise ConfigContractError(path, tuple(as_violations(path, resolver.problems(path))))
        return resolved

    @_ClassOrInstance
    def load_training_config(self, path: str, base_config_path: Optional[str] = None) -> Tuple[dict, TrainingConfig]:
        """(training arguments, typed config). ``base_config_path`` is merged under the
        profile (the profile wins), as an extra root parent."""
        profile = self.load_profile(path, base_config_path)
        return profile.train_args, profile.training_config

    @_ClassOrInstance
    def load_profile(self, path: str, base_config_path: Optional[str] = None) -> LoadedProfile:
        """Guard, resolve, check every resolved key against the schema, type."""
        settings = runtime_settings(self.settings_for(path))
        resolver = Resolver(settings)  # one parse of each file, shared by the guard and the merge
        enforce(path, settings, resolver)
        resolved = self._resolve(path, resolver)
        config = resolved.config
        if base_config_path:
            enforce(base_config_path, settings, resolver)
            config = deep_merge(self._resolve(base_config_path, resolver).config, config)
        # The whole resolved profile must be known and typed, including keys set in files
        # outside the contract's scope; each finding points at the file:line that set it.
        contract = resolver.layout.of(path).contract
        problems = tuple(_located(resolved, finding) for finding in contract_findings(config, contract, settings))
        if problems:
            raise ConfigContractError(path, problems)
        unknown = unknown_keys(config)
        if unknown:  # a schema field with no row in the translation table: refuse before training
            raise TranslationError(f"{path}: no ms-swift translation for {', '.join(unknown)} "
                                   f"(add a row to src/trainers/swift_args.py)")
        return LoadedProfile(path, config, train_arguments(config), to_training_config(config),
                             contract.name if contract else None)


def _located(resolved: Resolved, finding: Finding) -> Violation:
    """A finding on the whole resolved profile, at the file:line that set its key (or the
    nearest key above it that some file set)."""
    keys = tuple(finding.keys)
    while keys and resolved.origin(keys) is None:
        keys = keys[:-1]
    origin = resolved.origin(keys)
    path, line, col = (origin.path, origin.line, origin.col) if origin else (resolved.path, 1, 1)
    problem = Problem(finding.kind, line, col, finding.message, dotted(finding.keys), finding.fix)
    return as_violations(path, [problem])[0]


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
