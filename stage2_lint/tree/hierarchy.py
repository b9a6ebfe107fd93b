"""The extends graph: which parents each file names, whether they can be used, cycles and
chains too long, which canonical leaves name a file, and which leaves a changed file can break.

Each file's links are read once per run and each chain checked once, so a deep diamond of
shared parents costs one visit per file.
"""
from __future__ import annotations

import os
from enum import Enum

from stage2_lint.core import globs, paths, witness
from stage2_lint.core.escape import shown
from stage2_lint.core.records import Kind, Problem, record
from stage2_lint.contracts.settings import Settings
from stage2_lint.documents.document import Mark
from stage2_lint.tree.store import DocumentStore

EXTENDS = "extends"
MAX_CHAIN = 64  # files in one extends chain; real chains are two or three long


class Unusable(Enum):
    """Why a named parent cannot be used (the graph draws each apart)."""

    OUTSIDE_ROOT = "outside the config root"
    MISSING = "missing"
    NOT_A_FILE = "not a regular file"


@record
class ParentRef:
    raw: str  # as written in the child
    path: str  # joined to the child's directory, normalized (display form)
    key: str  # the same path, canonical (the document store's key)
    mark: Mark  # where the child writes it
    failure: str | None = None  # why it cannot be used, in words (None: usable)
    unusable: Unusable | None = None  # the same reason, as a kind


_OK = "ok"  # memo marker: this file's chain is sound


class ExtendsGraph:
    """The parents of one run's files, read from its document store and checked once."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self.layout = store.layout
        # Both memos are keyed by ``store.memo_key``: a parent is shown absolute to an absolute
        # asker and relative to the others, whichever asked first.
        self._links: dict[tuple[str, bool], tuple[list[ParentRef], list[Problem]]] = {}
        self._chain_failure: dict[tuple[str, bool], str] = {}
        self._surface_children: dict[str, dict[str, list[str]]] = {}
        self._reachability: dict[tuple[str, str], tuple[Unusable | None, str | None]] = {}
        # path -> the entries its extends writes, from the result cache (None: parse it)
        self.stored_links = None

    def parents(self, path: str) -> tuple[list[ParentRef], list[Problem]]:
        """The usable parents a file names, and what is wrong with naming the others."""
        links, problems = self.links(path)
        return [link for link in links if link.failure is None], problems

    def links(self, path: str) -> tuple[list[ParentRef], list[Problem]]:
        """Every parent a file names, in order, usable or not (``failure`` says), and the
        problems of the entries that are not paths at all."""
        key = self.store.memo_key(path)
        links = self._links.get(key)
        if links is None:
            links = self._links[key] = self._read_parents(path)
        return links

    def _read_parents(self, path: str) -> tuple[list[ParentRef], list[Problem]]:
        doc = self.store.get(path)
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
            key = paths.canonical(joined)
            unusable, failure = self._unreachable(joined, key, root)
            links.append(ParentRef(raw, paths.display(key, joined), key, mark, failure, unusable))
            if failure:
                problems.append(Problem(Kind.EXTENDS_UNRESOLVABLE, mark[0], mark[1], f"parent {shown(raw)} {failure}",
                                        EXTENDS))
        return links, problems

    def _unreachable(self, target: str, key: str, root: str) -> tuple[Unusable | None, str | None]:
        """Why a parent cannot be used (outside the root, missing), cached: leaves share parents."""
        recording = self.store.recording
        if recording is not None:  # a missing parent that appears later changes the verdict
            recording.files[key] = None
            spelled = os.path.abspath(target)
            if spelled != key:  # through a symlinked directory, which may lead elsewhere later
                recording.spellings[spelled] = key
        if (target, root) not in self._reachability:
            witness.saw(key)
            witness.saw(os.path.abspath(target))
            self._reachability[target, root] = _unreachable(target, root)
        return self._reachability[target, root]

    def problems(self, path: str) -> list[Problem]:
        """Why ``path`` cannot be resolved: its own load problems, else its chain's."""
        return self.store.get(path).problems or self.lineage_problems(path)

    def lineage_problems(self, path: str) -> list[Problem]:
        """Every reason this file's chain cannot be resolved, located at its ``extends``."""
        refs, problems = self.parents(path)
        problems = list(problems)
        for ref in refs:
            failure = self._failure(ref.path, [self.store.key(path)], [path])
            if failure:
                problems.append(Problem(Kind.EXTENDS_UNRESOLVABLE, ref.mark[0], ref.mark[1], failure, EXTENDS))
        return problems

    def _failure(self, path: str, stack_keys: list[str], stack_names: list[str]) -> str | None:
        key = self.store.key(path)
        if key in stack_keys:
            cycle = stack_names[stack_keys.index(key):] + [path]
            return "extends cycle: " + " -> ".join(cycle)
        memo_key = self.store.memo_key(path)
        memo = self._chain_failure.get(memo_key)
        if memo is not None:
            return None if memo is _OK else memo
        failure = self._failure_uncached(path, stack_keys + [key], stack_names + [path])
        self._chain_failure[memo_key] = failure or _OK
        return failure

    def _failure_uncached(self, path, stack_keys, stack_names) -> str | None:
        if len(stack_keys) > MAX_CHAIN:
            return f"extends chain longer than {MAX_CHAIN} files"
        doc = self.store.get(path)
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

    def merge_order(self, path: str) -> list[tuple[str, list[ParentRef]]] | None:
        """``path`` and every file its chain names, each once with its usable parents, every
        parent before the files that name it: the order a merge visits them in. None when the
        chain cannot be resolved (``lineage_problems`` says why)."""
        if self.lineage_problems(path):
            return None
        order: list[tuple[str, list[ParentRef]]] = []
        seen = set()

        def visit(file: str, key: str) -> None:
            seen.add(key)
            refs = self.parents(file)[0]
            for ref in refs:
                if ref.key not in seen:
                    visit(ref.path, ref.key)
            order.append((file, refs))

        visit(path, self.store.key(path))
        return order

    def canonical_children(self, path: str) -> list[str]:
        """Files on the canonical surface of ``path``'s own contract (in its config tree)
        that name ``path`` as a parent."""
        contract = self.layout.of(path).contract
        if contract is None or not contract.canonical:
            return []
        children = self._surface_children.get(contract.name)
        store = self.store
        if children is None:
            leaves = canonical_files(self.layout.settings, contract.canonical)
            self.know_surface(contract.name, leaves, self.surface_links(leaves))
            children = self._surface_children[contract.name]
        answer = children.get(store.key(path), [])
        if store.recording is not None:
            store.recording.children[store.key(path)] = list(answer)
        return answer

    def surface_links(self, leaves: list[str]) -> dict[str, list[str]]:
        """The canonical files each of ``leaves`` names as parents. A parallel run's workers
        each ask for the surface files of their own share and pool the answers."""
        store = self.store
        recording, store.recording = store.recording, None  # the answer is the input, not every leaf read
        try:
            return {leaf: self._link_targets(leaf) for leaf in leaves}
        finally:
            store.recording = recording

    def know_surface(self, contract_name: str, leaves: list[str], links: dict[str, list[str]]) -> None:
        """Take ``links`` (``surface_links`` of every one of ``leaves``, the contract's whole
        canonical surface in ``canonical_files`` order) as the surface of ``contract_name``."""
        children: dict[str, list[str]] = {}
        for leaf in leaves:
            for target in links[leaf]:
                children.setdefault(target, []).append(leaf)
        self._surface_children[contract_name] = children

    def _link_targets(self, path: str) -> list[str]:
        """The canonical files ``path``'s extends names: from the entries the result cache
        holds for these bytes (no parse), else parsed. Stored are the entries as written, a
        function of the bytes alone; where they lead is asked of the disk now, so a directory
        symlink that moved since is followed to where it leads today. A target that cannot be
        used (missing, outside the root) is no parent of an existing file inside it, so both
        answer alike for every file a rule asks about."""
        stored = self.stored_links(path) if self.stored_links is not None else None
        if isinstance(stored, list) and all(isinstance(raw, str) and raw.strip() and "\x00" not in raw
                                            for raw in stored):  # else a damaged record: parse
            directory = os.path.dirname(path)
            return [paths.canonical(os.path.normpath(os.path.join(directory, raw))) for raw in stored]
        return [ref.key for ref in self.parents(path)[0]]

    def parsed_links(self):
        """(canonical path, its ``extends`` entries as written) of every file parsed so far."""
        written = {key: [link.raw for link in links] for (key, _), (links, _) in self._links.items()}
        return list(written.items())

    def chain_files(self, path: str) -> list[str]:
        """Every file ``path`` names directly or through its parents (cycles stop the walk)."""
        seen, todo, found = {self.store.key(path)}, [path], []
        while todo and len(found) < MAX_CHAIN * 4:
            for ref in self.parents(todo.pop())[0]:
                if ref.key not in seen:
                    seen.add(ref.key)
                    found.append(ref.path)
                    todo.append(ref.path)
        return found

    def dependents(self, changed: list[str]) -> list[str]:
        """Canonical leaves whose chain includes one of ``changed`` (for a changed parent,
        the leaves it can break). Each chain is followed through ``_link_targets``, so with the
        result cache a leaf whose bytes it knows is not parsed for this (the hook asks on
        every commit)."""
        changed_keys = {self.store.key(path) for path in changed}
        leaves: list[str] = []
        for leaf in canonical_files(self.layout.settings):
            if leaf not in leaves and changed_keys & self._chain_keys(leaf):
                leaves.append(leaf)
        return leaves

    def _chain_keys(self, path: str) -> set[str]:
        """The canonical files ``path`` names directly or through its parents (not itself)."""
        own = self.store.key(path)
        seen, todo = {own}, [path]
        while todo and len(seen) <= MAX_CHAIN * 4:
            for target in self._link_targets(todo.pop()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen - {own}


def _located(path: str, problem: Problem) -> str:
    return f"{path}:{problem.line}:{problem.col}: {problem.message}"


def _extends_entries(value, mark: Mark) -> list[tuple[object, Mark]] | None:
    if isinstance(value, str):
        return [(value, mark)]
    if isinstance(value, list):
        return list(zip(value, value.item_marks))
    return None


def _unreachable(target: str, root: str) -> tuple[Unusable | None, str | None]:
    real = os.path.realpath(target)
    if not paths.inside(real, root):
        through = " through a symlink" if os.path.islink(target) or real != os.path.abspath(target) else ""
        return Unusable.OUTSIDE_ROOT, f"resolves outside the config root {os.path.relpath(root)}{through}"
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


def canonical_files(settings: Settings, patterns=None) -> list[str]:
    """The canonical surface (every contract's, or only ``patterns``), found from the glob
    base, as paths relative to the working directory."""
    found = set(globs.expand_all(settings.project_dir, settings.canonical if patterns is None else patterns))
    return sorted(paths.from_cwd(path) for path in found)
