"""The contract's parameters, from ``[stage2_lint]`` in setup.cfg or ``[tool.stage2_lint]``
in pyproject.toml, found by walking up from the working directory."""
from __future__ import annotations

import configparser
import os
import re
from functools import lru_cache
from typing import Dict, NamedTuple, Optional, Tuple

from stage2_lint.document import Limits

DEFAULT_CANONICAL = ("configs/stage2_ab/prod/*.yaml", "configs/stage2_ab/smoke/*.yaml")
DEFAULT_REQUIRED_KEYS = (
    "model.model",
    "training.run_name",
    "training.output_dir",
    "training.logging_dir",
    "training.learning_rate",
    "training.vit_lr",
    "training.aligner_lr",
    "training.effective_batch_size",
    "training.eval_strategy",
    "training.eval_steps",
    "training.save_strategy",
    "training.save_steps",
    "stage2_ab.schedule.b_ratio",
    "stage2_ab.n_softctx_iter",
)
DEFAULT_RETIRED = (
    "configs/stage2_ab/base_rollout_matching_sft.yaml",
    "configs/stage2_ab/prod/base.yaml",
    "configs/stage2_ab/base_smoke_runtime.yaml",
)
DEFAULT_SCHEMA_SCOPE = ("configs/base.yaml", "configs/stage2_ab/**/*.yaml")
# Names (files or directories) a directory walk never enters: hidden ones (.git, .venv,
# .pre-commit-hooks.yaml), dependencies and build output.
DEFAULT_EXCLUDE = (".*", ".venv", "node_modules", "build")
# What marks the top of a project when a file lies outside the settings' own project.
PROJECT_MARKERS = (".git", "setup.cfg", "pyproject.toml")


class SettingsError(ValueError):
    """A configuration file that cannot be used (exit code 2)."""


class Settings(NamedTuple):
    # Globs below are relative to the parent of the config root, so they start with "configs/".
    canonical: Tuple[str, ...] = DEFAULT_CANONICAL
    required_parent: str = "../base.yaml"
    required_keys: Tuple[str, ...] = DEFAULT_REQUIRED_KEYS
    retired_parents: Tuple[str, ...] = DEFAULT_RETIRED
    schema_scope: Tuple[str, ...] = DEFAULT_SCHEMA_SCOPE
    select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    # Directory that `extends` may not leave; None: the outermost directory named `configs`
    # at or below the project root (never one above it).
    root: Optional[str] = None
    project_dir: str = "."
    limits: Limits = Limits()

    def config_root(self, path: str) -> str:
        """The directory a file's parents must stay inside (absolute, symlinks resolved)."""
        if self.root is not None:
            return os.path.realpath(os.path.join(self.project_dir, self.root))
        return _outermost_configs_dir(os.path.dirname(os.path.abspath(path)), os.path.abspath(self.project_dir))

    def relative_to_anchor(self, path: str) -> Optional[str]:
        """``path`` relative to the config root's parent, in posix form, as globs are written."""
        return _relative_to_anchor(self.root, self.project_dir, path)

    def matches(self, path: str, patterns: Tuple[str, ...]) -> bool:
        relative = self.relative_to_anchor(path)
        return relative is not None and any(_glob_regex(p).match(relative) for p in patterns)

    def is_canonical(self, path: str) -> bool:
        return self.matches(path, self.canonical)

    def is_retired(self, path: str) -> bool:
        return self.matches(path, self.retired_parents)

    def in_schema_scope(self, path: str) -> bool:
        return self.matches(path, self.schema_scope)

    def ignored_codes(self, path: str) -> Tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(self.project_dir)).replace(os.sep, "/")
        codes: list = []
        for pattern, pattern_codes in self.per_file_ignores:
            if _glob_regex(pattern).match(relative):
                codes.extend(pattern_codes)
        return tuple(codes)


@lru_cache(maxsize=65536)
def _relative_to_anchor(root: Optional[str], project_dir: str, path: str) -> Optional[str]:
    if root is not None:
        anchor = os.path.dirname(os.path.abspath(os.path.join(project_dir, root)))
    else:
        anchor = os.path.dirname(_outermost_configs_dir(os.path.dirname(os.path.abspath(path)),
                                                        os.path.abspath(project_dir)))
    absolute = os.path.abspath(path)
    if not absolute.startswith(anchor.rstrip(os.sep) + os.sep):
        return None
    return absolute[len(anchor.rstrip(os.sep)) + 1:].replace(os.sep, "/")


@lru_cache(maxsize=4096)
def _outermost_configs_dir(directory: str, project_dir: str) -> str:
    """The outermost directory named ``configs`` from ``directory`` up to the top of its
    project (else ``directory`` itself): where a checkout sits never widens the root."""
    top = _project_top(directory, project_dir)
    found, probe = None, directory
    while True:
        if os.path.basename(probe) == "configs":
            found = probe
        parent = os.path.dirname(probe)
        if probe == top or parent == probe:
            return os.path.realpath(found or directory)
        probe = parent


def _project_top(directory: str, project_dir: str) -> str:
    """The settings' project directory when ``directory`` is inside it; otherwise the
    nearest ancestor holding a project marker (a file linted from elsewhere), else ``/``."""
    if directory == project_dir or directory.startswith(project_dir.rstrip(os.sep) + os.sep):
        return project_dir
    probe = directory
    while True:
        if any(os.path.exists(os.path.join(probe, marker)) for marker in PROJECT_MARKERS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return probe
        probe = parent


@lru_cache(maxsize=None)
def _glob_regex(pattern: str) -> "re.Pattern":
    """``**/`` spans directories, ``*`` and ``?`` stay inside one path component."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _split_list(value: str) -> Tuple[str, ...]:
    return tuple(item for item in re.split(r"[\s,]+", value.strip()) if item)


def _from_mapping(raw: Dict[str, object], project_dir: str) -> Settings:
    known = {"canonical", "required_parent", "required_keys", "retired_parents", "schema_scope",
             "select", "ignore", "per_file_ignores", "exclude", "root", "max_file_bytes", "max_depth", "max_nodes"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(f"unknown stage2_lint setting(s): {', '.join(unknown)}")
    values: Dict[str, object] = {"project_dir": project_dir}
    for name in ("canonical", "required_keys", "retired_parents", "schema_scope", "select", "ignore", "exclude"):
        if name in raw:
            item = raw[name]
            values[name] = tuple(item) if isinstance(item, list) else _split_list(str(item))
    for name in ("required_parent", "root"):
        if name in raw:
            values[name] = str(raw[name])
    if "per_file_ignores" in raw:
        values["per_file_ignores"] = _per_file_ignores(raw["per_file_ignores"])
    limits = {"max_bytes" if name == "max_file_bytes" else name: (name, raw[name])
              for name in ("max_file_bytes", "max_depth", "max_nodes") if name in raw}
    if limits:
        values["limits"] = Limits(**{field: _positive_int(name, value) for field, (name, value) in limits.items()})
    return Settings(**values)


def _positive_int(name: str, value) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1 or isinstance(value, bool):
        raise SettingsError(f"stage2_lint setting {name} must be a whole number >= 1, not {str(value)!r}")
    return number


def _per_file_ignores(raw) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """``glob: CODE,CODE`` entries, one a line (setup.cfg) or a table (pyproject)."""
    if isinstance(raw, dict):
        items = [(glob, codes if isinstance(codes, list) else _split_list(str(codes))) for glob, codes in raw.items()]
    else:
        items = []
        for line in str(raw).strip().splitlines():
            glob, sep, codes = line.partition(":")
            if not sep:
                raise SettingsError(f"per_file_ignores entry {line.strip()!r} needs the form 'glob: CODE,CODE'")
            items.append((glob.strip(), _split_list(codes)))
    return tuple((glob, tuple(codes)) for glob, codes in items)


def settings_for(path: str) -> Settings:
    """The settings that govern ``path``, found from the file's own location (walking up),
    so the runtime guard gives the same answer from any working directory. Without a
    settings file, the project is the nearest ancestor holding a project marker."""
    directory = os.path.dirname(os.path.abspath(path))
    found = _find_upwards(directory)
    return found if found is not None else Settings(project_dir=_project_top(directory, "\0"))


def find_settings(start: str = ".") -> Settings:
    """Settings from the nearest setup.cfg/pyproject.toml that has a stage2_lint section."""
    found = _find_upwards(os.path.abspath(start))
    return found if found is not None else Settings(project_dir=os.path.abspath(start))


def _find_upwards(directory: str) -> Optional[Settings]:
    while True:
        found = _read_directory(directory)
        if found is not None:
            return found
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _read_directory(directory: str) -> Optional[Settings]:
    setup_cfg = os.path.join(directory, "setup.cfg")
    if os.path.isfile(setup_cfg):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as error:
            raise SettingsError(f"{setup_cfg}: {error}")
        if parser.has_section("stage2_lint"):
            return _from_mapping(dict(parser.items("stage2_lint")), directory)
    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject):
        import tomllib

        try:
            with open(pyproject, "rb") as handle:
                data = tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SettingsError(f"{pyproject}: {error}")
        section = data.get("tool", {}).get("stage2_lint")
        if isinstance(section, dict):
            return _from_mapping(section, directory)
    return None
