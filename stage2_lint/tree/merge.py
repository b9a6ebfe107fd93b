"""The deep merge of an extends chain, with provenance: which file and line set every resolved
key, and what it overrode. The child wins; later parents win over earlier ones; lists are
replaced whole; each file of a diamond is merged once.
"""
from __future__ import annotations


from stage2_lint.core.records import record
from stage2_lint.documents.keypath import deep_merge, plain
from stage2_lint.tree.hierarchy import EXTENDS, ExtendsGraph


class _Section:
    """The value an Origin records for a key that holds a mapping."""

    def __repr__(self) -> str:
        return "{...}"


SECTION = _Section()


class _Hidden:
    """A resolved config holds a value (not a mapping) at level ``depth`` of a key path: it
    replaces whatever older files hold there, and nothing of theirs below it survives."""

    __slots__ = ("depth",)

    def __init__(self, depth: int):
        self.depth = depth


class _Absent:
    """A resolved config does not hold a key path; it holds mappings along it down to level
    ``depth`` (-1: not even the first key). Such a mapping replaces an older file's value at
    or above that level, so what is below that value cannot come back."""

    __slots__ = ("depth",)

    def __init__(self, depth: int):
        self.depth = depth


@record
class Origin:
    """One file setting one key: a link in that key's override chain."""

    path: str
    line: int
    col: int
    value: object

    def where(self) -> str:
        return f"{self.path}:{self.line}"


@record
class Resolved:
    path: str
    config: dict  # plain nested dicts/lists, as yaml.safe_load of one flat file would give
    provenance: dict[tuple, tuple[Origin, ...]]  # key path -> origins, winner last
    files: tuple[str, ...]  # every file merged, root-most first

    def origin(self, keys: tuple) -> Origin | None:
        chain = self.provenance.get(tuple(keys))
        return chain[-1] if chain else None


class Merge:
    """The resolved configs of one run's files, each merged once."""

    def __init__(self, graph: ExtendsGraph):
        self.graph = graph
        self.store = graph.store
        # Keyed by ``store.memo_key``, as the extends memos are: an origin names its file in the
        # spelling of the chain that reached it.
        self._resolved: dict[tuple[str, bool], Resolved] = {}
        self._chains: dict[tuple[str, bool], dict | None] = {}

    def resolve(self, path: str) -> Resolved | None:
        """The merged config with provenance, or None when the file or its chain is broken
        (``ExtendsGraph.problems`` says why)."""
        key = self.store.memo_key(path)
        done = self._resolved.get(key)
        if done is not None:
            return done
        order = self.graph.merge_order(path) if self.store.get(path).usable else None
        if order is None:
            return None
        # each file of the chain once, in the spelling the chain first reached it by
        visited = {self.store.key(file): self.store.memo_key(file) for file, _ in order}
        for file, refs in order:  # parents first: each finds its own already merged
            file_key = visited[self.store.key(file)]
            if file_key not in self._resolved:
                parents = [(ref, self._resolved[visited[ref.key]]) for ref in refs]
                self._resolved[file_key] = self._merged(file, parents)
        return self._resolved[key]

    def resolvable(self, path: str) -> bool:
        return self._files(path) is not None

    def _files(self, path: str) -> dict | None:
        """canonical path -> (file, its usable parents) of every file ``path``'s chain visits,
        or None when the chain is broken (asked once per file: a leaf asks of several keys)."""
        key = self.store.memo_key(path)
        if key not in self._chains:
            order = self.graph.merge_order(path) if self.store.get(path).usable else None
            self._chains[key] = None if order is None else {
                self.store.key(file): (file, refs) for file, refs in order}
        return self._chains[key]

    def origin(self, path: str, keys: tuple) -> Origin | None:
        """``resolve(path).origin(keys)``, found by following ``keys`` alone through the chain,
        most derived file first, instead of merging every key of every file (a leaf asks this
        of a few required keys). None when no file sets them, or the chain is broken."""
        done = self._resolved.get(self.store.memo_key(path))
        if done is not None:
            return done.origin(keys)
        files = self._files(path)
        if files is None:
            return None
        found = self._answer(self.store.key(path), tuple(keys), files, {})
        return found if isinstance(found, Origin) else None

    def _answer(self, key: str, keys: tuple, files: dict, memo: dict) -> Origin | _Hidden | _Absent:
        """What one file's resolved config holds at ``keys``: its own keys win over its
        parents', a later parent's over an earlier one's (the order ``resolve`` merges in);
        ``memo`` asks each file of a diamond once."""
        if key in memo:
            return memo[key]
        file, refs = files[key]
        found = _own_answer(self.store.get(file).root, keys, file)
        if isinstance(found, _Absent):
            found = self._parents_answer(refs, keys, files, memo, found.depth)
        memo[key] = found
        return found

    def _parents_answer(self, refs, keys: tuple, files: dict, memo: dict, shield: int) -> Origin | _Hidden | _Absent:
        """What a file's parents give it at ``keys``, the last parent first; ``shield`` is
        the deepest level at which a newer file holds a mapping on the path."""
        for ref in reversed(refs):  # a parent listed twice answers alike both times
            older = self._answer(ref.key, keys, files, memo)
            if isinstance(older, _Absent):
                shield = max(shield, older.depth)
                continue
            if isinstance(older, Origin) or older.depth > shield:
                return older
            break  # a newer mapping replaced that value, and with it every older file's keys
        return _Absent(shield)

    def _merged(self, path: str, parents: list) -> Resolved:
        """``path``'s own keys over its parents' resolved configs (later parents win);
        ``parents`` pairs each reference with that parent's resolved config."""
        config: dict = {}
        provenance: dict[tuple, tuple[Origin, ...]] = {}
        files: list[str] = []
        last = {ref.key: index for index, (ref, _) in enumerate(parents)}
        for index, (ref, parent) in enumerate(parents):
            if last[ref.key] != index:
                continue  # listed again later, where it wins anyway: each parent is merged once
            config = deep_merge(config, parent.config)
            _merge_provenance(provenance, parent.provenance)
            files.extend(f for f in parent.files if f not in files)
        own = self.store.get(path).root
        config = deep_merge(config, {k: v for k, v in own.items() if k != EXTENDS})
        _record_own(provenance, own, config, path)
        files.append(path)
        return Resolved(path, config, provenance, tuple(files))


def _own_answer(tree: dict, keys: tuple, path: str) -> Origin | _Hidden | _Absent:
    """What one file's own keys hold at ``keys`` (``Merge._answer``)."""
    if not keys or keys[0] == EXTENDS:
        return _Absent(-1)  # the top-level extends is never part of a resolved config
    *path_to, last = keys
    for depth, key in enumerate(path_to):
        if key not in tree:
            return _Absent(depth - 1)
        tree = tree[key]
        if not isinstance(tree, dict):
            return _Hidden(depth)
    if last not in tree:
        return _Absent(len(path_to) - 1)
    value = tree[last]
    line, col = tree.key_marks[last]
    return Origin(path, line, col, SECTION if isinstance(value, dict) else plain(value))


def _merge_provenance(into: dict[tuple, tuple[Origin, ...]], parent: dict[tuple, tuple[Origin, ...]]) -> None:
    """A later parent's override chains over an earlier one's. An origin both hold (a file
    they share, a diamond) moves to where the later parent has it: the later parent merged it
    last, so when it is that parent's winner it is the resolved config's too."""
    hidden = {keys for keys, chain in parent.items() if chain[-1].value is not SECTION}
    for stale in [keys for keys in into if _below_any(keys, hidden)]:
        del into[stale]  # an earlier parent's mapping that the later parent's value replaces
    for keys, chain in parent.items():
        mine = into.get(keys)
        into[keys] = chain if not mine else tuple(origin for origin in mine if origin not in chain) + chain


def _below_any(keys: tuple, prefixes: set) -> bool:
    return any(keys[:depth] in prefixes for depth in range(1, len(keys)))


def _record_own(provenance: dict[tuple, tuple[Origin, ...]], tree: dict, merged: dict, path: str,
                prefix: tuple = ()) -> None:
    """Record ``path`` as the winner of every key its own ``tree`` sets; ``merged`` is the
    config after that tree was merged in, so its value at each such key is the plain form of
    the file's own (the child wins)."""
    for key, value in tree.items():
        if not prefix and key == EXTENDS:
            continue
        keys = prefix + (key,)
        line, col = tree.key_marks[key]
        earlier = provenance.get(keys, ())
        if earlier and earlier[-1].value is SECTION and not isinstance(value, dict):
            _drop_below(provenance, keys)  # a scalar replacing a mapping hides what was below
        origin = Origin(path, line, col, SECTION if isinstance(value, dict) else merged[key])
        provenance[keys] = earlier + (origin,)
        if isinstance(value, dict):
            _record_own(provenance, value, merged[key], path, keys)


def _drop_below(provenance: dict[tuple, tuple[Origin, ...]], keys: tuple) -> None:
    depth = len(keys)
    for stale in [k for k in provenance if len(k) > depth and k[:depth] == keys]:
        del provenance[stale]
