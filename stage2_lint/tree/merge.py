"""The deep merge of an extends chain, with provenance: which file and line set every resolved
key, and what it overrode. The child wins; later parents win over earlier ones; lists are
replaced whole; each file of a diamond is merged once.
"""
from __future__ import annotations


from stage2_lint.core.records import record
from stage2_lint.documents.keypath import deep_merge
from stage2_lint.tree.hierarchy import EXTENDS, ExtendsGraph


class _Section:
    """The value an Origin records for a key that holds a mapping."""

    def __repr__(self) -> str:
        return "{...}"


SECTION = _Section()


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
        self._resolved: dict[str, Resolved] = {}

    def resolve(self, path: str) -> Resolved | None:
        """The merged config with provenance, or None when the file or its chain is broken
        (``ExtendsGraph.problems`` says why)."""
        key = self.store.key(path)
        done = self._resolved.get(key)
        if done is not None:
            return done
        order = self.graph.merge_order(path) if self.store.get(path).usable else None
        if order is None:
            return None
        for file, refs in order:  # parents first: each finds its own already merged
            file_key = self.store.key(file)
            if file_key not in self._resolved:
                self._resolved[file_key] = self._merged(file, refs)
        return self._resolved[key]

    def _merged(self, path: str, refs) -> Resolved:
        """``path``'s own keys over its parents' resolved configs (later parents win)."""
        config: dict = {}
        provenance: dict[tuple, tuple[Origin, ...]] = {}
        files: list[str] = []
        last = {ref.key: index for index, ref in enumerate(refs)}
        for index, ref in enumerate(refs):
            if last[ref.key] != index:
                continue  # listed again later, where it wins anyway: each parent is merged once
            parent = self._resolved[ref.key]
            config = deep_merge(config, parent.config)
            _merge_provenance(provenance, parent.provenance)
            files.extend(f for f in parent.files if f not in files)
        own = self.store.get(path).root
        config = deep_merge(config, {k: v for k, v in own.items() if k != EXTENDS})
        _record_own(provenance, own, config, path)
        files.append(path)
        return Resolved(path, config, provenance, tuple(files))


def _merge_provenance(into: dict[tuple, tuple[Origin, ...]], parent: dict[tuple, tuple[Origin, ...]]) -> None:
    for keys, chain in parent.items():
        mine = into.get(keys, ())
        into[keys] = mine + tuple(origin for origin in chain if origin not in mine)


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
