"""Settings: the engine's limits and the repository's named contracts.

``[stage2_lint]`` in setup.cfg (``[tool.stage2_lint]`` in pyproject.toml) holds engine settings;
each ``[stage2_lint.contract.NAME]`` section (``[tool.stage2_lint.contract.NAME]`` table) is one
contract: which files it governs, its canonical surface, required parent and keys, retired
parents, moved and removed keys, and its schema file. Every setting is declared once, in
``DECLARED`` (name, where it goes, parser, default, help); the README's table is checked
against it. The package itself knows no contract: a repository without settings gets the
generic rules only.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable

from stage2_lint.core import globs, ini, paths, reading
from stage2_lint.core.records import Limits, SettingsError, record  # noqa: F401 - SettingsError: API here too

# What marks the top of a project when a file lies outside the settings' own project.
PROJECT_MARKERS = (".git", "setup.cfg", "pyproject.toml")
SECTION = "stage2_lint"
CONTRACT_PREFIX = "stage2_lint.contract."


# -- parsers: (raw value, where it came from) -> value; a bad value raises SettingsError

def _words(raw, where: str) -> tuple[str, ...]:
    if isinstance(raw, (list, tuple)):
        if not all(isinstance(item, str) for item in raw):
            raise SettingsError(f"{where}: expected a list of strings")
        return tuple(raw)
    if not isinstance(raw, str):
        raise SettingsError(f"{where}: expected text or a list of strings, not {type(raw).__name__}")
    return tuple(raw.replace(",", " ").split())  # split on commas and whitespace (no regex to compile)


def _key_sets(raw, where: str) -> tuple[str, ...]:
    """Dotted keys, one per entry; ``a | b`` is one entry that either key satisfies."""
    if isinstance(raw, str):
        raw = "|".join(part.strip() for part in raw.split("|"))  # ``a | b`` is the word ``a|b``
    keys = _words(raw, where)
    bad = [key for key in keys if not all(_is_dotted(part) for part in key.split("|"))]
    if bad:
        raise SettingsError(f"{where}: {bad[0]!r} is not a dotted key (or keys joined by |)")
    return keys


def _is_dotted(key: str) -> bool:
    """Non-empty names joined by dots, none holding whitespace or ``|``."""
    return all(name and "|" not in name and not any(char.isspace() for char in name) for name in key.split("."))


def _choice(*allowed: str):
    def parse(raw, where: str) -> str:
        value = _text(raw, where)
        if value not in allowed:
            raise SettingsError(f"{where}: expected one of {', '.join(allowed)}, not {value!r}")
        return value
    return parse


SEVERITIES = ("error", "warning", "off")


def _severities(raw, where: str) -> tuple[tuple[str, str], ...]:
    """``CODE: error|warning|off`` a line (or comma-separated)."""
    pairs = _pairs(raw, where, ":")
    for code, level in pairs:
        if not re.fullmatch(r"S2[LP]\d{3}", code.upper()) or level not in SEVERITIES:
            raise SettingsError(f"{where}: {code}: {level} must be a rule code and one of {', '.join(SEVERITIES)}")
    return tuple((code.upper(), level) for code, level in pairs)


def _codes(raw, where: str) -> tuple[str, ...]:
    codes = tuple(code.upper() for code in _words(raw, where))
    bad = [code for code in codes if not re.fullmatch(r"S2[LP]\d{0,3}|S2[LP]?", code)]
    if bad:
        raise SettingsError(f"{where}: {', '.join(bad)} is not a rule code or prefix (see stage2-lint rules)")
    return codes


def _text(raw, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip() or "\n" in raw.strip():
        raise SettingsError(f"{where}: expected one line of text")
    return raw.strip()


def _globs(raw, where: str) -> tuple[str, ...]:
    """Glob settings: separated like words, but a comma inside ``{a,b}`` belongs to the glob;
    refused here when the matcher could not read them."""
    patterns = tuple(_split_outside_braces(raw)) if isinstance(raw, str) else _words(raw, where)
    for pattern in patterns:
        problem = globs.problem(pattern)
        if problem:
            raise SettingsError(f"{where}: glob {pattern!r}: {problem}")
    return patterns


def _split_outside_braces(text: str):
    word, depth = [], 0
    for char in text + " ":
        depth += (char == "{") - (char == "}" and depth > 0)
        if depth == 0 and (char.isspace() or char == ","):
            if word:
                yield "".join(word)
            word = []
        else:
            word.append(char)
    if word:  # an unclosed brace: the matcher refuses the glob by name
        yield "".join(word).rstrip()


def _flag(raw, where: str) -> bool:
    text = str(raw).strip().lower()
    if isinstance(raw, bool) or text in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        return raw if isinstance(raw, bool) else text in ("true", "yes", "1", "on")
    raise SettingsError(f"{where}: expected true or false, not {str(raw)!r}")


def _positive_int(raw, where: str) -> int:
    try:
        number = int(str(raw).strip()) if not isinstance(raw, bool) else 0
    except ValueError:
        number = 0
    if number < 1:
        raise SettingsError(f"{where} must be a whole number >= 1, not {str(raw)!r}")
    return number


def _pairs(raw, where: str, separator: str) -> tuple[tuple[str, str], ...]:
    """``left SEP right`` a line (text) or a table (pyproject)."""
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, str):
        items = []
        for line in raw.strip().splitlines():
            left, sep, right = line.partition(separator)
            if not sep or not left.strip() or not right.strip():
                raise SettingsError(f"{where}: {line.strip()!r} needs the form 'old {separator.strip()} new'")
            items.append((left.strip(), right.strip()))
    else:
        raise SettingsError(f"{where}: expected lines of 'a {separator.strip()} b' or a table")
    if not all(isinstance(value, str) for pair in items for value in pair):
        raise SettingsError(f"{where}: expected text on both sides")
    return tuple(items)


def _arrows(raw, where: str) -> tuple[tuple[str, str], ...]:
    return _pairs(raw, where, "->")


def _per_file_ignores(raw, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = tuple(raw.items()) if isinstance(raw, dict) else _pairs(raw, where, ":")
    return tuple((_globs(glob, where)[0], _codes(codes, where)) for glob, codes in pairs)


@record
class Setting:
    name: str
    where: str  # "engine" ([stage2_lint]) or "contract" ([stage2_lint.contract.NAME])
    parse: Callable
    default: object
    help: str


DECLARED: tuple[Setting, ...] = (
    Setting("select", "engine", _codes, (), "only these rule codes or prefixes"),
    Setting("ignore", "engine", _codes, (), "never these rule codes or prefixes"),
    Setting("per_file_ignores", "engine", _per_file_ignores, (), "`glob: CODES` a line"),
    Setting("exclude", "engine", _globs, (".*", ".venv", "node_modules", "build"),
            "name globs (files or directories) a directory walk skips"),
    Setting("require_contract", "engine", _flag, False,
            "a YAML file in a config tree (below `root`, or a `configs` directory) that no contract governs "
            "is an error (S2L080), not a notice; the runtime guard refuses any such profile regardless"),
    Setting("root", "engine", _text, None,
            "the directory `extends` may not leave, relative to the project (default: the outermost "
            "directory named `configs` at or below the project)"),
    Setting("moved", "engine", _arrows, (),
            "`old.prefix -> new.prefix` a line: keys that moved, for every profile linted (each contract may add "
            "its own)"),
    Setting("removed", "engine", _arrows, (),
            "`old.key -> what to use instead` a line: keys that are gone, for every profile linted"),
    Setting("cache", "engine", _flag, True,
            "keep each file's result until a file it read, the settings, a schema or the tool changes "
            "(`--no-cache` for one run)"),
    Setting("cache_dir", "engine", _text, ".stage2_lint_cache",
            "where the result cache lives, relative to the settings file (it gets its own `.gitignore`)"),
    Setting("key_aliases", "engine", _arrows, (),
            "`alias -> key` a line: a top-level key the repository's loader also accepts under another name "
            "(`inherit -> extends`)"),
    Setting("max_file_bytes", "engine", _positive_int, 1 << 20, "largest profile read, in bytes"),
    Setting("max_depth", "engine", _positive_int, 64, "deepest nesting of mappings and lists"),
    Setting("max_nodes", "engine", _positive_int, 50_000, "most nodes one file may build, alias copies counted"),
    Setting("scope", "contract", _globs, (), "globs of the files the contract governs (required)"),
    Setting("canonical", "contract", _globs, (), "globs of the canonical leaves (the profiles tooling enumerates)"),
    Setting("required_parent", "contract", _text, None, "what every canonical leaf extends, exactly"),
    Setting("required_keys", "contract", _key_sets, (),
            "dotted keys each canonical leaf sets; `a | b`: either one satisfies it"),
    Setting("required_keys_in", "contract", _choice("leaf", "chain"), "leaf",
            "where a required key must be set: in the `leaf` itself, or anywhere in its `chain` (after inheritance)"),
    Setting("max_hops", "contract", _positive_int, 1,
            "how many `extends` hops a canonical leaf may take to reach `required_parent` (1: exactly it)"),
    Setting("multiple_parents", "contract", _flag, False, "a canonical leaf may list several parents in `extends`"),
    Setting("severity", "contract", _severities, (),
            "`CODE: error|warning|off` a line: this contract's own severity for a rule (others keep theirs)"),
    Setting("retired_parents", "contract", _globs, (), "globs of parents nothing may extend any more"),
    Setting("schema", "contract", _text, None,
            "JSON Schema file of the profiles, relative to the settings file"),
    Setting("schema_source", "contract", _text, None,
            "`module:Class` of the typed config the schema is exported from (stage2-lint schema export)"),
    Setting("schema_stand_ins", "contract", _words, (),
            "modules (e.g. `torch`, `swift`) that export and check stand in for, so the config module imports "
            "without the training stack"),
    Setting("section_classes", "contract", _arrows, (),
            "`section -> module:Class` a line: the section's keys are also that class's fields (e.g. the training "
            "framework's argument dataclass); the exported section is closed over both"),
    Setting("catch_all", "contract", _words, (),
            "dotted fields (`custom.extra`) that collect the keys their section does not declare: the exported "
            "section accepts any key"),
    Setting("not_sized_from", "contract", _arrows, (),
            "`knob -> other.key` a line: Python code may not size the knob from the other key (S2P002): a name "
            "holding the knob's first word (`draw` of `draw_batch_size`) assigned from a read of the other key"),
    Setting("moved", "contract", _arrows, (), "`old.prefix -> new.prefix` a line: keys that moved"),
    Setting("removed", "contract", _arrows, (), "`old.key -> what to use instead` a line: keys that are gone"),
)
BY_NAME: dict[tuple[str, str], Setting] = {(s.where, s.name): s for s in DECLARED}
# Engine settings that say how one file is read: (setting, field of ``Limits``).
LIMIT_FIELDS = (("max_file_bytes", "max_bytes"), ("max_depth", "max_depth"), ("max_nodes", "max_nodes"),
                ("key_aliases", "key_aliases"))


def settings_table() -> str:
    """The README's settings table, made from ``DECLARED`` (a test keeps the README equal)."""
    rows = ["| section | setting | default | meaning |", "| --- | --- | --- | --- |"]
    for setting in DECLARED:
        section = "`[stage2_lint]`" if setting.where == "engine" else "`[stage2_lint.contract.NAME]`"
        default = setting.default
        shown = ("none" if default in (None, ()) else
                 ", ".join(f"`{item}`" for item in default) if isinstance(default, tuple) else f"`{default}`")
        rows.append(f"| {section} | `{setting.name}` | {shown} | {setting.help} |")
    return "\n".join(rows) + "\n"


@record
class Move:
    """A contract's ``moved = old -> new`` entry, as key tuples."""

    old: tuple[str, ...]  # e.g. ("custom", "extra", "sampler")
    new: tuple[str, ...]  # e.g. ("sampler",)

    @classmethod
    def parse(cls, old: str, new: str) -> "Move":
        return cls(tuple(old.split(".")), tuple(new.split(".")))


@record
class Contract:
    """One family of profiles and the rules they obey. Globs, like every glob setting, are
    relative to the directory of the settings file (``Settings.project_dir``)."""

    name: str
    scope: tuple[str, ...]
    canonical: tuple[str, ...] = ()
    required_parent: str | None = None
    required_keys: tuple[str, ...] = ()
    required_keys_in: str = "leaf"
    max_hops: int = 1
    multiple_parents: bool = False
    severity: tuple[tuple[str, str], ...] = ()
    retired_parents: tuple[str, ...] = ()
    schema: str | None = None  # absolute path of the JSON Schema file
    schema_source: str | None = None
    schema_stand_ins: tuple[str, ...] = ()
    section_classes: tuple[tuple[str, str], ...] = ()
    catch_all: tuple[str, ...] = ()
    not_sized_from: tuple[tuple[str, str], ...] = ()
    moved: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()

    @property
    def moves(self) -> tuple[Move, ...]:
        return tuple(Move.parse(old, new) for old, new in self.moved)


@record
class Settings:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = BY_NAME["engine", "exclude"].default
    root: str | None = None
    require_contract: bool = False
    runtime: bool = False  # set by the runtime guard: every profile it is handed must be governed
    moved: tuple[tuple[str, str], ...] = ()  # repository-wide, for every profile
    cache: bool = True
    cache_dir: str = ".stage2_lint_cache"
    removed: tuple[tuple[str, str], ...] = ()
    limits: Limits = Limits()
    contracts: tuple[Contract, ...] = ()
    project_dir: str = "."  # canonical: the settings file's directory, the base of every glob
    source: str | None = None  # the settings file, None for defaults
    origins: tuple[tuple[str, str], ...] = ()  # (setting, where its value came from)

    def moves_for(self, contract: "Contract" | None) -> tuple[Move, ...]:
        """The moved prefixes a profile governed by ``contract`` (None: ungoverned) obeys: the
        repository's own, then its contract's."""
        return tuple(Move.parse(old, new) for old, new in self._removed_and_moved(contract)[1])

    def removals_for(self, contract: "Contract" | None) -> tuple[tuple[str, str], ...]:
        """The removed keys (``old``, what to use instead) such a profile obeys."""
        return self._removed_and_moved(contract)[0]

    def _removed_and_moved(self, contract: "Contract" | None):
        if contract is None:
            return self.removed, self.moved
        return self.removed + contract.removed, self.moved + contract.moved

    @property
    def canonical(self) -> tuple[str, ...]:
        return tuple(glob for contract in self.contracts for glob in contract.canonical)


def project_top(directory: str, project_dir: str) -> str:
    """The settings' project directory when ``directory`` is inside it; otherwise the
    nearest ancestor holding a project marker (a file linted from elsewhere), else ``/``."""
    if directory == project_dir or directory.startswith(project_dir.rstrip(os.sep) + os.sep):
        return project_dir
    walked, probe = [], directory
    while probe not in _MARKED:
        walked.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe or _has_marker(probe):
            _MARKED[probe] = probe
            break
        probe = parent
    top = _MARKED[probe]
    _MARKED.update(dict.fromkeys(walked, top))
    return top


# directory -> the nearest directory at or above it holding a project marker (else "/"): every
# directory of a tree outside the project asks, and siblings share their ancestors' answers.
# One run's view of the disk (``forget_project_tops``).
_MARKED: dict[str, str] = {}
# Directories a walk listed with no marker among their names: none to probe for (every
# directory of a tree outside the project would cost a stat a marker otherwise).
_UNMARKED: set[str] = set()


def _has_marker(directory: str) -> bool:
    return directory not in _UNMARKED and any(os.path.exists(os.path.join(directory, marker))
                                              for marker in PROJECT_MARKERS)


def saw_listing(directory: str, names) -> None:
    """A walk's listing of ``directory``: without a marker's name, it has no marker."""
    if _MARKER_NAMES.isdisjoint(names):
        _UNMARKED.add(directory)


_MARKER_NAMES = frozenset(PROJECT_MARKERS)


def forget_project_tops() -> None:
    _MARKED.clear()
    _UNMARKED.clear()


# -- reading settings files

def _parse_section(raw: dict[str, object], where: str, source: str) -> tuple[dict[str, object], list]:
    values, origins = {}, []
    for name, value in raw.items():
        setting = BY_NAME.get((where, name))
        if setting is None:
            known = ", ".join(s.name for s in DECLARED if s.where == where)
            raise SettingsError(f"{source}: unknown setting {name!r} (known here: {known})")
        values[name] = setting.parse(value, f"{source}: {name}")
        origins.append((name, source))
    return values, origins


def _build(engine: dict[str, object], contracts: dict[str, dict[str, object]], path: str,
           project_dir: str) -> Settings:
    values, origins = _parse_section(engine, "engine", f"{path} [{SECTION}]")
    limits = {field: values.pop(name) for name, field in LIMIT_FIELDS if name in values}
    built = []
    for name, raw in contracts.items():
        where = f"{path} [{CONTRACT_PREFIX}{name}]"
        contract, contract_origins = _parse_section(raw, "contract", where)
        if not contract.get("scope"):
            raise SettingsError(f"{where}: a contract needs a scope (globs of the files it governs)")
        if contract.get("schema"):
            contract["schema"] = os.path.normpath(os.path.join(project_dir, contract["schema"]))
        built.append(Contract(name=name, **contract))
        origins += [(f"contract.{name}.{key}", origin) for key, origin in contract_origins]
    return Settings(**values, limits=Limits(**limits), contracts=tuple(built), project_dir=project_dir,
                    source=path, origins=tuple(origins))


MAX_SETTINGS_BYTES = 4 << 20  # a setup.cfg or pyproject.toml is a few kilobytes


def read_settings_file(path: str) -> Settings | None:
    """Settings from one setup.cfg or pyproject.toml; None when it has no stage2_lint section."""
    path = os.path.abspath(path)
    project_dir = paths.real_directory(os.path.dirname(path))
    text = _settings_text(path, project_dir)
    if path.endswith(".toml"):
        tomllib = _toml()

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{path}: {error}")
        section = data.get("tool", {}).get(SECTION)
        if not isinstance(section, dict):
            return None
        contracts = section.get("contract", {})
        engine = {key: value for key, value in section.items() if key != "contract"}
        if not isinstance(contracts, dict) or not all(isinstance(v, dict) for v in contracts.values()):
            raise SettingsError(f"{path}: [tool.{SECTION}.contract] must hold one table per contract")
        return _build(engine, contracts, path, project_dir)
    sections = ini.plain_sections(text)
    if sections is None:
        sections = _configparser_sections(text, path)
    names = [name for name in sections if name == SECTION or name.startswith(CONTRACT_PREFIX)]
    if not names:
        return None
    engine = sections.get(SECTION, {})
    contracts = {name[len(CONTRACT_PREFIX):]: sections[name] for name in names if name != SECTION}
    return _build(engine, contracts, path, project_dir)


def _configparser_sections(text: str, path: str) -> dict[str, dict[str, str]]:
    """What configparser reads in a file that is not of ``core.ini``'s plain kind, or its refusal."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, path)
    except configparser.Error as error:
        raise SettingsError(f"{path}: {error}")
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _toml():
    """The TOML reader: the standard library's from Python 3.11, the same code as ``tomli`` before."""
    try:
        import tomllib
    except ImportError:  # Python 3.9 and 3.10
        import tomli as tomllib
    return tomllib


def _settings_text(path: str, project_dir: str) -> str:
    """A settings file read like a profile: regular, bounded, UTF-8, and (when it is a
    symlink) leading nowhere outside its repository."""
    real = os.path.realpath(path)
    top = paths.repository_top(project_dir) or project_dir
    if real != paths.canonical(path) and not paths.inside(real, top):
        raise SettingsError(f"{path}: a symlink to {real}, outside the repository; stage2-lint does not read it")
    try:
        return reading.read_bounded(path, MAX_SETTINGS_BYTES, "settings file").decode("utf-8")
    except reading.ReadRefused as refused:
        raise SettingsError(f"{path}: {refused}") from None
    except UnicodeDecodeError as error:
        raise SettingsError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None


def _read_directory(directory: str) -> Settings | None:
    for name in ("setup.cfg", "pyproject.toml"):
        candidate = os.path.join(directory, name)
        if os.path.lexists(candidate):  # a FIFO or dangling link named setup.cfg is refused, not skipped
            found = read_settings_file(candidate)
            if found is not None:
                return found
    return None


def _find_upwards(directory: str, top: str | None) -> Settings | None:
    while True:
        found = _read_directory(directory)
        if found is not None:
            return found
        parent = os.path.dirname(directory)
        if directory == top or parent == directory:
            return None
        directory = parent


def find_settings(start: str = ".") -> Settings:
    """Settings from the nearest setup.cfg/pyproject.toml at or above the directory ``start``
    that has a stage2_lint section, searching no higher than the repository's top (the first
    directory holding ``.git``): a file above the checkout never applies. Without one: no
    contract, and the project is the repository's top (else the nearest ancestor holding a
    project marker, else the filesystem root)."""
    directory = paths.real_directory(os.path.abspath(start))
    top = paths.repository_top(directory)
    found = _find_upwards(directory, top)
    if found is not None:
        return found
    if top:
        return Settings(project_dir=top)
    forget_project_tops()  # asked before a run starts (a long-lived caller): the disk's answer now
    return Settings(project_dir=project_top(directory, "\0"))


def settings_for(path: str) -> Settings:
    """The settings that govern ``path``, found from the file's own (canonical) location,
    so the runtime guard gives the same answer from any working directory."""
    return find_settings(os.path.dirname(paths.canonical(path)))
