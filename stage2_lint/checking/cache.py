"""The result cache: a file's violations, kept until anything they depend on changes.

Like ruff's cache, but keyed by what a verdict really read. While a file is linted, the
resolver records every file it opened or looked for (the file, its parents, a missing
parent) and the canonical children it asked about; the entry stores those with a digest of
each. A later run re-reads and re-digests them (each file once per run) and uses the entry
only if every one matches: a changed leaf, parent, missing parent that now exists, or a new
child on the surface re-checks exactly the files that read it. The settings file, every
schema file, the rules selected, the Python and PyYAML in use and the tool's own source
files are in a salt that every key includes, so a change to any of them re-checks all.

A cache can never hide a violation:
- digests are keyed with a secret that lives outside any repository (the user's cache
  directory), so a cache committed to a repository, or planted in one, matches nothing;
- what cannot be read, parsed or trusted is ignored (an empty cache), never an error;
- writes are atomic (a temp file and ``os.replace``), so two runs sharing it leave one
  whole file; the directory gets a ``.gitignore`` of its own and is bounded in entries.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Sequence

try:  # the builtin module: hashlib would load OpenSSL first, 4 ms of every hook's start-up
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

from stage2_lint import __version__
from stage2_lint.core import paths, witness
from stage2_lint.core.records import Violation

FILE_NAME = "results.json"
MAX_ENTRIES = 50_000  # files; older entries go first
MAX_FILE_BYTES = 64 << 20  # a cache file larger than this is ignored (and replaced)
MISSING = "missing"


class Inputs:
    """What linting one file read: canonical paths opened or looked for, the canonical
    children it was told of (``canonical path -> answer``), and each parent spelled through a
    symlinked directory (``absolute spelling -> the canonical path it led to``)."""

    __slots__ = ("files", "children", "spellings")

    def __init__(self):
        self.files: dict[str, None] = {}
        self.children: dict[str, list[str]] = {}
        self.spellings: dict[str, str] = {}


def user_secret() -> bytes | None:
    """The key of every digest, created once per user outside any repository; None (no cache)
    when it cannot be read or made."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "stage2-lint", "secret")
    try:
        with open(path, "rb") as handle:
            secret = handle.read(64)
        if len(secret) == 32:
            return secret
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        secret = os.urandom(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secret)
        return secret
    except FileExistsError:  # another run made it meanwhile
        return user_secret() if os.path.getsize(path) == 32 else None
    except OSError:
        return None


def _tool_fingerprint() -> str:
    """The tool as it runs: its version, Python, and the size and time of every module of the
    package (an edited checkout is another tool) and of PyYAML's (another version, or libyaml's
    binding there or not, is another parser). PyYAML is found, not imported: a recalled run
    never parses."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # stage2_lint/, every folder
    parts = [__version__, sys.version]
    for top in (package, _package_directory("yaml")):
        parts.append(f"{top}")
        parts += _module_stats(top) if top else []
    return "\n".join(parts)


def _module_stats(top: str) -> list[str]:
    """``name:size:mtime`` of every module below ``top``, names relative to it, sorted. Every
    cached run pays this, so it is one ``scandir`` a directory and one ``stat`` a module."""
    found, pending = [], [""]
    while pending:
        relative = pending.pop()
        with os.scandir(os.path.join(top, relative)) as entries:
            for entry in entries:
                name = f"{relative}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":  # byte code: what it was compiled from is counted
                        pending.append(f"{name}/")
                elif entry.name.endswith((".py", ".so", ".pyd")):
                    info = entry.stat()
                    found.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return sorted(found)


def _package_directory(name: str) -> str | None:
    """Where ``import name`` would load the package from, without importing it: the finders
    of ``sys.meta_path`` asked in order, as the import system asks them (importlib.util's
    find_spec would import importlib, contextlib and warnings: 1.5 ms of a commit's hook)."""
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None):
        return os.path.dirname(loaded.__file__)
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec(name, None) if find_spec is not None else None
        if spec is not None:
            return os.path.dirname(spec.origin) if spec.origin else None
    return None


def rule_choice(select: Sequence[str], ignore: Sequence[str]) -> list[str]:
    """The rules a command line chose, as the salt records them: the choice itself, not the
    rules it selects, so no rule need be imported to salt a run. With the settings file and
    the tool (both in the salt) it names the same rules every time."""
    return ["select", *(code.upper() for code in select), "ignore", *(code.upper() for code in ignore)]


class ResultCache:
    """One run's view of the cache directory: entries loaded once, checked on use, saved once."""

    def __init__(self, directory: str, secret: bytes, salt: str, project_dir: str):
        self.directory, self.secret, self.salt, self.project_dir = directory, secret, salt, project_dir
        self.started_ns = time.time_ns()  # before this run read any profile (the run memo's racy-clean rule)
        self._entries: dict[str, dict] | None = None  # loaded on first use: a recalled run needs none
        self._extends: dict[str, list[str]] = {}
        self.used: dict[str, None] = {}
        self.made: dict[str, dict] = {}  # entries and extends records this process added
        self.made_extends: dict[str, list[str]] = {}
        self.hits = self.misses = 0
        self._digests: dict[str, str] = {}
        self.recalled: dict[str, object] = {}  # the run memo's answer to each request, once a run

    @property
    def entries(self) -> dict[str, dict]:
        self._load_once()
        return self._entries

    @property
    def extends(self) -> dict[str, list[str]]:
        self._load_once()
        return self._extends

    def _load_once(self) -> None:
        if self._entries is None:
            self._entries = {}
            self._load()

    # -- opening and saving

    @classmethod
    def open(cls, settings, choice: Sequence[str]) -> "ResultCache" | None:
        """The cache of ``settings``' project, or None where there is none (no settings file,
        ``cache = false``, no user secret). ``choice``: the rules chosen (``rule_choice``)."""
        if settings.source is None or not settings.cache:
            return None
        secret = user_secret()
        if secret is None:
            return None
        schema_files = _schema_files(settings)
        if schema_files is None:
            return None  # a schema that does not load: the run reports it, file by file
        directory = os.path.join(settings.project_dir, settings.cache_dir)
        inputs = [_tool_fingerprint(), os.getcwd(), ",".join(choice), _file_digest(settings.source, secret)]
        inputs += [f"{path}:{_file_digest(path, secret)}" for path in schema_files]
        salt = blake2b("\0".join(inputs).encode("utf-8", "surrogateescape"), key=secret, digest_size=16).hexdigest()
        return cls(directory, secret, salt, settings.project_dir)

    def _load(self) -> None:
        try:
            path = os.path.join(self.directory, FILE_NAME)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return
            with open(path, "rb") as handle:
                data = json.loads(handle.read())
        except (OSError, ValueError, RecursionError):
            return
        if isinstance(data, dict) and data.get("salt") == self.salt and isinstance(data.get("entries"), dict) \
                and isinstance(data.get("extends"), dict):
            self._entries, self._extends = data["entries"], data["extends"]

    def save(self) -> None:
        """Write the entries used or made this run first, then older ones, up to the bound;
        quietly nothing when the directory cannot be written."""
        if not self.made and not self.made_extends:  # a warm run: the file on disk already says it all
            return
        kept = dict.fromkeys(list(self.used) + [key for key in self.entries if key not in self.used])
        entries = {key: self.entries[key] for key in list(kept)[:MAX_ENTRIES] if key in self.entries}
        extends = dict(list(self.extends.items())[-MAX_ENTRIES:])
        self._replace(FILE_NAME, json.dumps({"salt": self.salt, "entries": entries, "extends": extends},
                                            separators=(",", ":")))

    def _replace(self, name: str, text: str) -> bool:
        """Write ``name`` in the cache directory whole or not at all (a temp file and a rename);
        False, quietly, when the directory cannot be written."""
        if not self.make_directory():
            return False
        try:
            temp = os.path.join(self.directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
            _write_new(temp, text)
            os.replace(temp, os.path.join(self.directory, name))
            return True
        except OSError:
            return False

    def make_directory(self) -> bool:
        """Make (and mark) the cache directory inside the project if it is not there; False,
        quietly, when it cannot be (a symlink out of the project, a read-only checkout)."""
        from stage2_lint.core import safe_write

        try:
            safe_write.ensure_directory(self.directory, self.project_dir)
            _mark_directory(self.directory)
            return True
        except (OSError, safe_write.WriteRefused):
            return False

    # -- records of whole runs (``run_memo``): named and sealed with the secret

    def keyed(self, text: str) -> str:
        """A name for ``text`` under this salt that nobody without the secret can compute."""
        return self._key(text)

    def write_record(self, name: str, text: str) -> bool:
        return self._replace(name, self._seal(text) + "\n" + text)

    def read_record(self, name: str):
        """The JSON value of record ``name``, or None when missing, damaged or not sealed by this user."""
        try:
            path = os.path.join(self.directory, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return None
            with open(path, "rb") as handle:
                seal, _, text = handle.read().decode("utf-8").partition("\n")
            return json.loads(text) if seal == self._seal(text) else None
        except (OSError, ValueError, RecursionError):
            return None

    def _seal(self, text: str) -> str:
        return blake2b(text.encode("utf-8", "surrogateescape"), key=self.secret, digest_size=16).hexdigest()

    # -- digests

    def digest(self, path: str) -> str:
        """A keyed digest of what ``path`` is now (its bytes, or that it is missing, a symlink's
        target too), computed once per run."""
        key = paths.canonical(path)
        witness.saw(key)
        found = self._digests.get(key)
        if found is None:
            found = self._digests[key] = _file_digest(key, self.secret)
        return found

    def _key(self, path: str) -> str:
        return blake2b(f"{self.salt}\0{path}".encode("utf-8", "surrogateescape"), key=self.secret,
                       digest_size=16).hexdigest()

    # -- entries

    def lookup(self, path: str, surface_parents) -> list[Violation] | None:
        """The violations stored for ``path`` (as spelled), if nothing they read has changed.
        ``surface_parents(path)`` answers canonical children again (the resolver's own question)."""
        key = self._key(path)
        entry = self.entries.get(key)
        if entry is None or not self._still_valid(entry, surface_parents):
            self.misses += 1
            return None
        try:
            violations = [Violation(*fields) for fields in entry["violations"]]
        except TypeError:
            self.misses += 1
            return None
        self.used[key] = None
        self.hits += 1
        return violations

    def _still_valid(self, entry, surface_parents) -> bool:
        try:
            if any(self.digest(file) != digest for file, digest in entry["files"]):
                return False
            for spelled, canonical in entry["spellings"]:
                witness.saw(spelled)
                if paths.canonical(spelled) != canonical:
                    return False  # a directory symlink on a parent's path now leads elsewhere
            return all(surface_parents(file) == answer for file, answer in entry["children"])
        except (TypeError, ValueError, KeyError):
            return False

    def remember(self, path: str, violations: list[Violation], inputs: Inputs) -> None:
        """Store a fresh verdict with what it read. A verdict that a file could not be read or
        was refused as unsafe (S2L004) is not kept: an I/O error is the machine's, not the file's."""
        from stage2_lint.checking.rules.s2l004_unsafe_yaml import RULE as UNSAFE  # (the cache's reader needs no rule)

        if any(violation.code == UNSAFE.code for violation in violations):
            self.misses += 1
            return
        key = self._key(path)
        for spelled in inputs.spellings:
            witness.saw(spelled)
        self.entries[key] = self.made[key] = {
            "files": [[file, self.digest(file)] for file in inputs.files],
            "children": [[file, answer] for file, answer in inputs.children.items()],
            "spellings": [[spelled, canonical] for spelled, canonical in inputs.spellings.items()],
            "violations": [list(violation) for violation in violations]}
        self.used[key] = None

    def remember_links(self, links) -> None:
        """(canonical path, its ``extends`` entries as written) of every file a run parsed, so a
        later run can follow its links without parsing it."""
        for file, targets in links:
            self.extends[f"{file}\0{self.digest(file)}"] = self.made_extends[f"{file}\0{self.digest(file)}"] = targets

    def absorb(self, made: dict[str, dict], made_extends: dict[str, list[str]]) -> None:
        """What a worker process added (it linted a share of the files with a copy of this)."""
        self.entries.update(made)
        self.extends.update(made_extends)
        self.made.update(made)
        self.made_extends.update(made_extends)
        self.used.update(dict.fromkeys(made))
        self.misses += len(made)

    def extends_of(self, path: str) -> list[str] | None:
        """The ``extends`` entries ``path``'s current bytes write (None: no record of them)."""
        return self.extends.get(f"{paths.canonical(path)}\0{self.digest(path)}")


def _schema_files(settings) -> list[str] | None:
    """Every schema file the contracts read, ``$ref`` targets included (None: one fails to load)."""
    from stage2_lint.contracts import schema

    files: list[str] = []
    try:
        for contract in settings.contracts:
            if contract.schema:
                files += schema.files_of(schema.load(contract.schema, settings.project_dir))
    except (schema.SchemaError, OSError, ValueError):
        return None
    return sorted(set(files))


def _file_digest(path: str, secret: bytes) -> str:
    try:
        info = os.lstat(path)
    except OSError:
        return MISSING
    hasher = blake2b(key=secret, digest_size=16)
    if stat.S_ISLNK(info.st_mode):
        hasher.update(f"link:{os.path.realpath(path)}\0".encode("utf-8", "surrogateescape"))
        try:
            info = os.stat(path)
        except OSError:
            return "dangling:" + hasher.hexdigest()
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device is never opened here
        hasher.update(f"special:{info.st_mode}".encode())
        return hasher.hexdigest()
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(1 << 20)
                if not chunk:
                    break
                hasher.update(chunk)
    except OSError as error:
        return f"unreadable:{error.errno}"
    return hasher.hexdigest()


def _mark_directory(directory: str) -> None:
    """A cache directory says what it is: git ignores it, backup tools may skip it. Each mark
    is created whole or not at all (``safe_write``: a synced temp file linked into place), so
    a crash never leaves a torn ``.gitignore`` that lets the cache be committed; one another
    run made meanwhile is kept."""
    from stage2_lint.core import safe_write

    for name, text in ((".gitignore", "# stage2-lint's result cache: never commit it\n*\n"),
                       ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                        "# stage2-lint's result cache (https://bford.info/cachedir/)\n")):
        target = os.path.join(directory, name)
        if not os.path.lexists(target):
            try:
                safe_write.replace(safe_write.Snapshot(target, None), text.encode("utf-8"))
            except safe_write.WriteRefused:
                if not os.path.lexists(target):
                    raise


def _write_new(path: str, text: str) -> None:
    """Create the temp file ``path`` (never an existing file, never through a symlink planted
    there), which ``_replace`` renames over the old one. Not synced: a cache file a crash left
    torn fails the load's checks and costs one cold run, and the sync would cost every run."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
