"""The extends graph of a set of files, as data: nodes are files (their kind, the keys they
set themselves, their error and warning counts), edges go from a child to each parent it
names, in order. A broken tree (missing parents, parents outside the root, cycles) is a graph
too, never a crash. ``reporting/pictures`` draws it.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

from stage2_lint.core.records import record
from stage2_lint.core import paths
from stage2_lint.documents.keypath import leaves
from stage2_lint.contracts.settings import Settings
from stage2_lint.tree.hierarchy import Unusable
from stage2_lint.tree.resolver import Resolver
from stage2_lint.tree.layout import RETIRED, Layout, glob_relative

# Node kinds, in the order the legend lists them (a node has its first matching kind); a file
# with errors keeps its kind and gets the "errors" outline on top.
KINDS = ("missing", "outside", "cycle", "retired", "required", "canonical", "file")


@record
class Node:
    id: str
    path: str  # as linted (display form)
    label: str  # below the config root
    kind: str
    keys: int  # keys the file sets itself (leaves of its own tree, extends aside)
    errors: int
    warnings: int


@record
class Edge:
    child: str  # node ids
    parent: str
    order: int  # 1-based position in the child's extends list
    broken: str | None  # why the parent cannot be used, or None


@record
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def counts(violations) -> dict[str, tuple[int, int]]:
    """(errors, warnings) by path, for ``build``."""
    found: dict[str, tuple[int, int]] = {}
    for v in violations:
        errors, warnings = found.get(v.path, (0, 0))
        found[v.path] = (errors + 1, warnings) if v.is_error else (errors, warnings + 1)
    return found


def build(start: Sequence[str], settings: Settings, tallies: dict[str, tuple[int, int]],
          resolver: Resolver | None = None) -> Graph:
    """The graph of ``start`` and every file their chains reach. ``tallies``: (errors,
    warnings) by display path, from a lint of the same files (see ``counts``); that lint's
    ``resolver``, when there is one, saves parsing the files again."""
    from collections import deque

    resolver = resolver or Resolver(settings)
    order: list[str] = []
    index: dict[str, int] = {}
    raw_edges: list[tuple[str, str, int, str | None]] = []
    unusable: dict[str, Unusable] = {}  # canonical path of a parent that cannot be used -> why
    todo = deque(start)
    while todo:
        path = todo.popleft()
        key = paths.canonical(path)
        if key in index:
            continue
        index[key] = len(order)
        order.append(path)
        if not os.path.isfile(path):
            continue
        for position, link in enumerate(resolver.extends.links(path)[0], start=1):
            raw_edges.append((path, link.path, position, link.failure))
            if link.failure is None:
                todo.append(link.path)
                continue
            unusable[link.key] = link.unusable
            if link.key not in index:
                index[link.key] = len(order)
                order.append(link.path)
    facts = _Facts(cycles=_in_cycles(raw_edges), unusable=unusable,
                   required=_required_parents(raw_edges, resolver.layout))
    nodes = tuple(_node(number, path, resolver, settings, tallies, facts) for number, path in enumerate(order))
    ids = {paths.canonical(node.path): node.id for node in nodes}
    edges = tuple(Edge(ids[paths.canonical(child)], ids[paths.canonical(parent)], position, why)
                  for child, parent, position, why in raw_edges)
    return Graph(nodes, edges)


def _in_cycles(edges) -> set:
    """Files on some extends cycle (strongly connected, or extending themselves)."""
    children: dict[str, list[str]] = {}
    for child, parent, _, why in edges:
        if why is None:
            children.setdefault(paths.canonical(child), []).append(paths.canonical(parent))
    found = set()
    for start in children:
        stack, seen = [start], set()
        while stack:
            current = stack.pop()
            for parent in children.get(current, ()):
                if parent == start:
                    found.add(start)
                elif parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return found


@record
class _Facts:
    cycles: set  # absolute paths on a cycle
    unusable: dict[str, Unusable]  # absolute path of a parent that cannot be used -> why
    required: set  # absolute paths that canonical leaves name as their required parent


def _node(number, path, resolver, settings, tallies, facts: _Facts) -> Node:
    errors, warnings = tallies.get(path, (0, 0))
    kind = _kind(path, resolver.layout, facts)
    keys = 0
    if kind not in ("missing", "outside"):
        doc = resolver.documents.get(path)
        if doc.usable:
            keys = sum(1 for path_keys, _ in leaves(doc.root) if path_keys[0] != "extends")
    relative = glob_relative(settings, path)
    label = relative.split("/", 1)[1] if relative and "/" in relative else os.path.relpath(path)
    return Node(f"n{number}", path, label, kind, keys, errors, warnings)


def _kind(path, layout: Layout, facts: _Facts) -> str:
    place = layout.of(path)
    unusable = facts.unusable.get(place.canonical)
    if unusable is not None:
        return "outside" if unusable is Unusable.OUTSIDE_ROOT else "missing"
    if place.canonical in facts.cycles:
        return "cycle"
    if place.role == RETIRED:
        return "retired"
    if place.canonical in facts.required:
        return "required"
    return "canonical" if place.on_surface else "file"


def _required_parents(edges, layout: Layout) -> set:
    """Parents that a file on a canonical surface extends as its contract requires."""
    return {paths.canonical(parent) for child, parent, _, why in edges
            if why is None and layout.of(child).required_parent == paths.canonical(parent)}
