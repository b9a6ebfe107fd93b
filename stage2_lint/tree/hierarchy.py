"""The project's one implementation of ``extends``: parents, cycles, roots, deep merge and
provenance (which file and line set every resolved key, and what it overrode).

Each file is loaded once per Resolver and each chain checked and merged once, so a deep
diamond of shared parents costs one visit per file.
"""
from __future__ import annotations

import os
from enum import Enum
from typing import Dict, List, NamedTuple, Optional, Tuple

from stage2_lint.documents.document import Document, Mark, load_document
from stage2_lint.core import globs, paths
from stage2_lint.core.escape import shown
from stage2_lint.documents.keypath import deep_merge, plain
from stage2_lint.tree.layout import Layout
from stage2_lint.contracts.settings import Settings
from stage2_lint.core.records import Kind, Problem

EXTENDS = "extends"
MAX_CHAIN = 64  # files in one extends chain; real chains are two or three long


class Unusable(Enum):
    """Why a named parent cannot be used (the graph draws each apart)."""

    OUTSIDE_ROOT = "outside the config root"
    MISSING = "missing"
    NOT_A_FILE = "not a regular file"


class ParentRef(NamedTuple):
    raw: str  # as written in the child
    path: str  # joined to the child's directory, normalized (display form)
    mark: Mark  # where the child writes it
    failure: Optional[str] = None  # why it cannot be used, in words (None: usable)
    unusable: Optional[Unusable] = None  # the same reason, as a kind


class _Section:
    """The value an Origin records for a key that holds a mapping."""

    def __repr__(self) -> str:
        return "{...}"


SECTION = _Section()


class Origin(NamedTuple):
    """One file setting one key: a link in that key's override chain."""

    path: str
    line: int
    col: int
    value: object

    def where(self) -> str:
        return f"{self.path}:{self.line}"


class Resolved(NamedTuple):
    path: str
    config: dict  # plain nested dicts/lists, as yaml.safe_load of one flat file would give
    provenance: Dict[tuple, Tuple[Origin, ...]]  # key path -> origins, winner last
    files: Tuple[str, ...]  # every file merged, root-most first

    def origin(self, keys: tuple) -> Optional[Origin]:
        chain = self.provenance.get(tuple(keys))
        return chain[-1] if chain else None


_OK = "ok"  # memo marker: this file's chain is sound


class Resolver:
    """Loads, checks and merges extends chains, caching every file for one run."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.layout = Layout(settings)  # each file's contract, role and root, computed once
        self._documents: Dict[str, Document] = {}
        self._links: Dict[str, Tuple[List[ParentRef], List[Problem]]] = {}
        self._chain_failure: Dict[str, str] = {}
        self._resolved: Dict[str, Resolved] = {}
        self._surface_children: Dict[str, Dict[str, List[str]]] = {}
        self._keys: Dict[str, str] = {}
        self._reachability: Dict[Tuple[str, str], Optional[str]] = {}
        self.recording = None  # a cache.Inputs while one file is linted for the result cache
        # path -> the canonical targets its extends named, from the result cache (None: parse it)
        self.stored_links = None

    def _key(self, path: str) -> str:
        """The cache key of a path: its canonical form, computed once per spelling per run."""
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = paths.canonical(path)
        return key

    def preload(self, path: str, doc: Document) -> None:
        """Use ``doc`` as the content of ``path``: bytes a writer already read, or a candidate
        checked in memory before it is written (flatten resolves it where it will live). A
        path that leads outside the config root is refused here as when read from disk."""
        self._documents[self._key(path)] = self._refused(path) or doc

    def document(self, path: str) -> Document:
        key = self._key(path)
        if self.recording is not None:
            self.recording.files[key] = None
        doc = self._documents.get(key)
        if doc is None:
            doc = self._documents[key] = self._refused(path) or load_document(path, self.settings.limits)
        return doc

    def _refused(self, path: str) -> Optional[Document]:
        """An empty document carrying the reason, for a path that must not be read at all."""
        escape = self._escape(path)
        if not escape:
            return None
        doc = Document(path)
        doc.problems.append(Problem(Kind.EXTENDS_UNRESOLVABLE, 1, 1, escape))
        return doc

    def _escape(self, path: str) -> Optional[str]:
        """Why a file must not be read at all: it is a symlink (or sits in a symlinked
        directory) that leads outside its config root. One lstat per file; directories'
        real paths are cached."""
        key = self._key(path)
        real = os.path.realpath(key) if os.path.islink(key) else key
        root = self.layout.of(path).config_root
        if paths.inside(real, root):
            return None
        return (f"this profile resolves to {display_path(real)}, outside the config root {display_path(root)}; "
                f"stage2-lint does not read it")

    def parents(self, path: str) -> Tuple[List[ParentRef], List[Problem]]:
        """The usable parents a file names, and what is wrong with naming the others."""
        links, problems = self.links(path)
        return [link for link in links if link.failure is None], problems

    def links(self, path: str) -> Tuple[List[ParentRef], List[Problem]]:
        """Every parent a file names, in order, usable or not (``failure`` says), and the
        problems of the entries that are not paths at all."""
        key = self._key(path)
        if key not in self._links:
            self._links[key] = self._read_parents(path)
        return self._links[key]

    def _read_parents(self, path: str) -> Tuple[List[ParentRef], List[Problem]]:
        doc = self.document(path)
        if not doc.usable or EXTENDS not in doc.root:
            return [], []
        value, (line, col) = doc.root[EXTENDS], doc.root.value_marks[EXTENDS]
        entries = _extends_entries(value, doc.root.value_marks[EXTENDS])
        if entries is None:
            return [], [Problem(Kind.EXTENDS_MALFORMED, line, col, f"'extends' must be a path or a list of paths, not "
                                f"{_described(value)}", EXTENDS)]
        links, problems = [], []
        root = self.layout.of(path).config_root
        for raw, mark in entries:
            if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
                problems.append(Problem(Kind.EXTENDS_MALFORMED, mark[0], mark[1],
                                        f"'extends' entries must be non-empty paths, not {_described(raw)}", EXTENDS))
                continue
            joined = os.path.normpath(os.path.join(os.path.dirname(path), raw))
            unusable, failure = self._unreachable(joined, root)
            links.append(ParentRef(raw, paths.spelled(joined), mark, failure, unusable))
            if failure:
                problems.append(Problem(Kind.EXTENDS_UNRESOLVABLE, mark[0], mark[1], f"parent {shown(raw)} {failure}",
                                        EXTENDS))
        return links, problems

    def _unreachable(self, target: str, root: str) -> Tuple[Optional[Unusable], Optional[str]]:
        """Why a parent cannot be used (outside the root, missing), cached: leaves share parents."""
        key = (target, root)
        if self.recording is not None:  # a missing parent that appears later changes the verdict
            self.recording.files[self._key(target)] = None
        if key not in self._reachability:
            self._reachability[key] = _unreachable(target, root)
        return self._reachability[key]

    def problems(self, path: str) -> List[Problem]:
        """Why ``path`` cannot be resolved: its own load problems, else its chain's."""
        return self.document(path).problems or self.lineage_problems(path)

    def lineage_problems(self, path: str) -> List[Problem]:
        """Every reason this file's chain cannot be resolved, located at its ``extends``."""
        refs, problems = self.parents(path)
        problems = list(problems)
        for ref in refs:
            failure = self._failure(ref.path, [self._key(path)], [path])
            if failure:
                problems.append(Problem(Kind.EXTENDS_UNRESOLVABLE, ref.mark[0], ref.mark[1], failure, EXTENDS))
        return problems

    def _failure(self, path: str, stack_keys: List[str], stack_names: List[str]) -> Optional[str]:
        key = self._key(path)
        if key in stack_keys:
            cycle = stack_names[stack_keys.index(key):] + [path]
            return "extends cycle: " + " -> ".join(cycle)
        memo = self._chain_failure.get(key)
        if memo is not None:
            return None if memo is _OK else memo
        failure = self._failure_uncached(path, stack_keys + [key], stack_names + [path])
        self._chain_failure[key] = failure or _OK
        return failure

    def _failure_uncached(self, path, stack_keys, stack_names) -> Optional[str]:
        if len(stack_keys) > MAX_CHAIN:
            return f"extends chain longer than {MAX_CHAIN} files"
        doc = self.document(path)
        if not doc.usable:
            return f"parent {path} cannot be loaded: {_located(path, doc.problems[0])}"
        refs, problems = self.parents(path)
        if problems:
            return f"parent {path} is invalid: {_located(path, problems[0])}"
        for ref in refs:
            failure = self._failure(ref.path, stack_keys, stack_names)
            if failure:
                return failure
        return None

    def canonical_children(self, path: str) -> List[str]:
        """Files on the canonical surface of ``path``'s own contract (in its config tree)
        that name ``path`` as a parent."""
        contract = self.layout.of(path).contract
        if contract is None or not contract.canonical:
            return []
        children = self._surface_children.get(contract.name)
        if children is None:
            recording, self.recording = self.recording, None  # the answer is the input, not every leaf read
            try:
                children = self._surface_children[contract.name] = {}
                for leaf in canonical_files(self.settings, contract.canonical):
                    for target in self._link_targets(leaf):
                        children.setdefault(target, []).append(leaf)
            finally:
                self.recording = recording
        answer = children.get(self._key(path), [])
        if self.recording is not None:
            self.recording.children[self._key(path)] = list(answer)
        return answer

    def _link_targets(self, path: str) -> List[str]:
        """The canonical files ``path``'s extends names: from the result cache when it holds a
        record for these bytes (no parse), else parsed. A target that cannot be used (missing,
        outside the root) is no parent of an existing file inside it, so both answer alike for
        every file a rule asks about."""
        stored = self.stored_links(path) if self.stored_links is not None else None
        if stored is not None:
            return stored
        return [self._key(ref.path) for ref in self.parents(path)[0]]

    def parsed_links(self):
        """(canonical path, canonical targets of its ``extends``) of every file parsed so far."""
        return [(key, [self._key(link.path) for link in links]) for key, (links, _) in self._links.items()]

    def chain_files(self, path: str) -> List[str]:
        """Every file ``path`` names directly or through its parents (cycles stop the walk)."""
        seen, todo, found = {self._key(path)}, [path], []
        while todo and len(found) < MAX_CHAIN * 4:
            for ref in self.parents(todo.pop())[0]:
                if self._key(ref.path) not in seen:
                    seen.add(self._key(ref.path))
                    found.append(ref.path)
                    todo.append(ref.path)
        return found

    def dependents(self, changed: List[str]) -> List[str]:
        """Canonical leaves whose chain includes one of ``changed`` (for a changed parent,
        the leaves it can break)."""
        changed_keys = {self._key(path) for path in changed}
        leaves: List[str] = []
        for leaf in canonical_files(self.settings):
            if leaf not in leaves and changed_keys & {self._key(p) for p in self.chain_files(leaf)}:
                leaves.append(leaf)
        return leaves

    def resolve(self, path: str) -> Optional[Resolved]:
        """The merged config with provenance, or None when the file or its chain is broken."""
        if not self.document(path).usable or self.lineage_problems(path):
            return None
        return self._resolve(path)

    def _resolve(self, path: str) -> Resolved:
        key = self._key(path)
        done = self._resolved.get(key)
        if done is not None:
            return done
        config: dict = {}
        provenance: Dict[tuple, Tuple[Origin, ...]] = {}
        files: List[str] = []
        refs, _ = self.parents(path)
        last = {self._key(ref.path): index for index, ref in enumerate(refs)}
        for index, ref in enumerate(refs):  # later parents win over earlier ones
            if last[self._key(ref.path)] != index:
                continue  # listed again later, where it wins anyway: each parent is merged once
            parent = self._resolve(ref.path)
            config = deep_merge(config, parent.config)
            _merge_provenance(provenance, parent.provenance)
            files.extend(f for f in parent.files if f not in files)
        own = self.document(path).root
        config = deep_merge(config, {k: v for k, v in own.items() if k != EXTENDS})
        _record_own(provenance, own, path)
        files.append(path)
        done = self._resolved[key] = Resolved(path, config, provenance, tuple(files))
        return done


def _located(path: str, problem: Problem) -> str:
    return f"{path}:{problem.line}:{problem.col}: {problem.message}"


def _extends_entries(value, mark: Mark) -> Optional[List[Tuple[object, Mark]]]:
    if isinstance(value, str):
        return [(value, mark)]
    if isinstance(value, list):
        return list(zip(value, value.item_marks))
    return None


def _unreachable(target: str, root: str) -> Tuple[Optional[Unusable], Optional[str]]:
    real = os.path.realpath(target)
    if not paths.inside(real, root):
        through = " through a symlink" if os.path.islink(target) or real != os.path.abspath(target) else ""
        return Unusable.OUTSIDE_ROOT, f"resolves outside the config root {display_path(root)}{through}"
    if not os.path.exists(target):
        return Unusable.MISSING, "does not exist"
    if not os.path.isfile(target):
        return Unusable.NOT_A_FILE, "is not a regular file"
    return None, None


def _described(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list of mixed values"
    return f"{type(value).__name__} {shown(value)}"


def _merge_provenance(into: Dict[tuple, Tuple[Origin, ...]], parent: Dict[tuple, Tuple[Origin, ...]]) -> None:
    for keys, chain in parent.items():
        mine = into.get(keys, ())
        into[keys] = mine + tuple(origin for origin in chain if origin not in mine)


def _record_own(provenance: Dict[tuple, Tuple[Origin, ...]], tree: dict, path: str, prefix: tuple = ()) -> None:
    for key, value in tree.items():
        if not prefix and key == EXTENDS:
            continue
        keys = prefix + (key,)
        line, col = tree.key_marks[key]
        earlier = provenance.get(keys, ())
        if earlier and earlier[-1].value is SECTION and not isinstance(value, dict):
            _drop_below(provenance, keys)  # a scalar replacing a mapping hides what was below
        origin = Origin(path, line, col, SECTION if isinstance(value, dict) else plain(value))
        provenance[keys] = earlier + (origin,)
        if isinstance(value, dict):
            _record_own(provenance, value, path, keys)


def _drop_below(provenance: Dict[tuple, Tuple[Origin, ...]], keys: tuple) -> None:
    depth = len(keys)
    for stale in [k for k in provenance if len(k) > depth and k[:depth] == keys]:
        del provenance[stale]


def canonical_files(settings: Settings, patterns=None) -> List[str]:
    """The canonical surface (every contract's, or only ``patterns``), found from the glob
    base, as display paths."""
    found = set()
    for pattern in settings.canonical if patterns is None else patterns:
        found.update(globs.expand(settings.project_dir, pattern))
    return sorted(display_path(path) for path in found)


def display_path(path: str) -> str:
    return os.path.relpath(path)
