"""``stage2-lint graph``: the extends graph (``tree/graph``) as a picture (Graphviz DOT, Mermaid) or JSON.

Nodes are files, labelled with their path below the config root, the number of keys they set
themselves and their error/warning counts; edges go from a child to each parent it names, in
order. Canonical leaves, required parents, retired parents and files with errors are styled
apart, and so are parents that cannot be used (missing, outside the root) and files caught in
an extends cycle: a broken tree is drawn, never a crash. Every label passes through
``escape.printable`` and then the target language's own escaping.
"""
from __future__ import annotations

import os

from stage2_lint.core.records import record
from stage2_lint.core.escape import printable
from stage2_lint.tree.graph import KINDS, Edge, Graph, Node

ERROR_OUTLINE = 'color="#b91c1c", penwidth=2.5'
LEGEND = {"canonical": "canonical leaf", "required": "required parent", "retired": "retired parent",
          "errors": "has errors", "cycle": "in an extends cycle", "missing": "missing parent",
          "outside": "outside the config root", "file": "other file"}
DOT_STYLE = {
    "canonical": 'shape=box, style="rounded,filled", fillcolor="#dbeafe", color="#1d4ed8"',
    "required": 'shape=box, style="filled,bold", fillcolor="#dcfce7", color="#15803d", penwidth=2',
    "retired": 'shape=box, style="filled,dashed", fillcolor="#f3f4f6", color="#6b7280", fontcolor="#4b5563"',
    "errors": 'shape=box, style="filled", fillcolor="#ffffff", color="#b91c1c", penwidth=2.5',
    "cycle": 'shape=box, style="filled,bold", fillcolor="#fde68a", color="#b45309", penwidth=2',
    "missing": 'shape=note, style="dashed", color="#b91c1c", fontcolor="#b91c1c"',
    "outside": 'shape=octagon, style="dashed", color="#b91c1c", fontcolor="#b91c1c"',
    "file": 'shape=box, style="filled", fillcolor="#ffffff", color="#374151"',
}
# Every pale fill has a dark text colour of its own: a dark-mode viewer would otherwise draw
# light grey labels on it.
MERMAID_STYLE = {
    "canonical": "fill:#dbeafe,stroke:#1d4ed8,color:#111827",
    "required": "fill:#dcfce7,stroke:#15803d,stroke-width:3px,color:#111827",
    "retired": "fill:#f3f4f6,stroke:#6b7280,stroke-dasharray:5 3,color:#4b5563",
    "errors": "stroke:#b91c1c,stroke-width:4px", "cycle": "fill:#fde68a,stroke:#b45309,stroke-width:3px,color:#111827",
    "missing": "fill:#ffffff,stroke:#b91c1c,stroke-dasharray:5 3,color:#b91c1c",
    "outside": "fill:#ffffff,stroke:#b91c1c,stroke-dasharray:2 2,color:#b91c1c",
    "file": "fill:#ffffff,stroke:#374151,color:#111827",
}
GROUP_STYLE = "fill:#f9fafb,stroke:#d1d5db,color:#111827"  # directory groups and the legend, not Mermaid's yellow
WIDE = 12  # past this many files, the picture runs left to right: leaves in a column, not one long row
COLUMN = 16  # in a big picture, a block of leaves stands in columns of this many files
BUNDLE = 8  # this many leaves of one directory extending one parent get one arrow, not one each


def _caption(node: Node) -> list[str]:
    """The file's name (its directory is the group's label) and its figures."""
    lines = [printable(os.path.basename(node.label) or node.label)]
    if node.kind in ("missing", "outside"):
        lines.append(LEGEND[node.kind])
    else:
        figures = [(node.keys, "key"), (node.errors, "error"), (node.warnings, "warning")]
        lines.append(", ".join(f"{count} {noun}{'' if count == 1 else 's'}" for index, (count, noun)
                               in enumerate(figures) if count or index == 0))
    return lines


# -- DOT

def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _direction(graph: Graph) -> str:
    return "LR" if len(graph.nodes) > WIDE else "BT"


@record
class Bundle:
    """Leaves of one directory that all extend one parent and nothing else: drawn as a block in
    columns with one arrow to the parent, not one arrow each (180 arrows into one file make a
    picture 10,000 pixels tall whatever the layout)."""

    id: str
    parent: str  # node id
    members: tuple[str, ...]  # node ids, in the graph's order


def _bundles(graph: Graph) -> list[Bundle]:
    """The bundles of a big picture (``BUNDLE`` or more such leaves), none in a small one."""
    if _direction(graph) != "LR":
        return []
    parents = {edge.parent for edge in graph.edges}
    edges_of: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        edges_of.setdefault(edge.child, []).append(edge)
    directory = {node.id: os.path.dirname(node.label) for node in graph.nodes}
    groups: dict[tuple[str, str], list[str]] = {}
    for child, edges in edges_of.items():
        if child not in parents and len(edges) == 1 and not edges[0].broken:
            groups.setdefault((directory.get(child, ""), edges[0].parent), []).append(child)
    return [Bundle(f"bundle{number}", parent, tuple(members))
            for number, ((_, parent), members) in enumerate(item for item in groups.items() if len(item[1]) >= BUNDLE)]


def _column_links(bundle: Bundle) -> list[tuple[str, str]]:
    """Invisible links that stack a bundle's members in columns of ``COLUMN``: each member
    points at the one a column before it (a cluster is ranked on its own, so only links
    inside it move its nodes)."""
    members = bundle.members
    return [(members[index], members[index - COLUMN]) for index in range(COLUMN, len(members))]


def _bundled(bundles: list[Bundle]) -> dict[str, Bundle]:
    return {member: bundle for bundle in bundles for member in bundle.members}


def _groups(graph: Graph) -> list[tuple[str, list[Node]]]:
    """The nodes by directory (below the config root), in the order they first appear."""
    groups: dict[str, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(os.path.dirname(node.label) or ".", []).append(node)
    return list(groups.items())


def to_dot(graph: Graph) -> str:
    lines = ["digraph extends {", f"  rankdir={_direction(graph)};", "  compound=true;",
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [color="#374151", arrowsize=0.7, fontname="Helvetica", fontsize=10];']
    bundles = _bundles(graph)
    bundled, labels = _bundled(bundles), {node.id: node.label for node in graph.nodes}
    for number, (directory, members) in enumerate(_groups(graph)):
        lines.append(f'  subgraph cluster_dir{number} {{\n    label="{_dot_text(printable(directory))}"; '
                     f'fontname="Helvetica"; color="#d1d5db";')
        lines += [_dot_node(node) for node in members if node.id not in bundled]
        for bundle in dict.fromkeys(bundled[node.id] for node in members if node.id in bundled):
            parent = _dot_text(printable(os.path.basename(labels[bundle.parent])))
            lines.append(f'    subgraph cluster_{bundle.id} {{\n      label="{len(bundle.members)} files extending '
                         f'{parent}"; style=dashed; color="#9ca3af";')
            lines += ["  " + _dot_node(node) for node in members if bundled.get(node.id) is bundle]
            lines.append("    }")
        lines.append("  }")
    multi = _multi_parent(graph)
    for bundle in bundles:
        lines += [f"  {left} -> {right} [style=invis];" for left, right in _column_links(bundle)]
        lines.append(f"  {bundle.members[0]} -> {bundle.parent} [ltail=cluster_{bundle.id}];")
    for edge in graph.edges:
        if edge.child in bundled:
            continue
        attributes = [f'label="{edge.order}"'] if edge.child in multi else []
        if edge.broken:
            attributes.append('style=dashed, color="#b91c1c"')
        lines.append(f"  {edge.child} -> {edge.parent}" + (f" [{', '.join(attributes)}]" if attributes else "") + ";")
    lines.append('  subgraph cluster_legend {\n    label="legend"; fontname="Helvetica"; color="#d1d5db";')
    for kind in _legend_kinds(graph):
        lines.append(f'    legend_{kind} [label="{LEGEND[kind]}", {DOT_STYLE[kind]}];')
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: Node) -> str:
    label = "\\n".join(_dot_text(line) for line in _caption(node))
    outline = f", {ERROR_OUTLINE}" if node.errors else ""
    return f'    {node.id} [label="{label}", {DOT_STYLE[node.kind]}{outline}];'


def _legend_kinds(graph: Graph) -> list[str]:
    used = {node.kind for node in graph.nodes} | ({"errors"} if any(node.errors for node in graph.nodes) else set())
    return [kind for kind in (*KINDS[:3], "errors", *KINDS[3:]) if kind in used]


def _multi_parent(graph: Graph) -> set:
    seen, multi = set(), set()
    for edge in graph.edges:
        (multi if edge.child in seen else seen).add(edge.child)
    return multi


# -- Mermaid

_MERMAID_ENTITIES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "`": "#96;", "&": "#38;",
                     "\\": "#92;", "{": "#123;", "}": "#125;", "|": "#124;"}


def _mermaid_node(node: Node) -> str:
    label = "<br/>".join(mermaid_text(line) for line in _caption(node))
    return f'    {node.id}["{label}"]:::{node.kind}'


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label: the characters its grammar gives meaning to
    become entity codes (``#quot;``, ``#35;``...)."""
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in printable(text))


def to_mermaid(graph: Graph) -> str:
    lines = [f"flowchart {_direction(graph)}"]
    groups, bundles = _groups(graph), _bundles(graph)
    bundled, labels = _bundled(bundles), {node.id: node.label for node in graph.nodes}
    for number, (directory, members) in enumerate(groups):
        lines.append(f'  subgraph dir{number}["{mermaid_text(directory)}"]')
        lines += [_mermaid_node(node) for node in members if node.id not in bundled]
        for bundle in dict.fromkeys(bundled[node.id] for node in members if node.id in bundled):
            parent = mermaid_text(os.path.basename(labels[bundle.parent]))
            lines.append(f'    subgraph {bundle.id}["{len(bundle.members)} files extending {parent}"]')
            lines += ["  " + _mermaid_node(node) for node in members if bundled.get(node.id) is bundle]
            lines.append("    end")
        lines.append("  end")
    multi = _multi_parent(graph)
    for bundle in bundles:
        lines += [f"  {left} ~~~ {right}" for left, right in _column_links(bundle)]  # ~~~: an invisible link
        lines.append(f"  {bundle.id} --> {bundle.parent}")
    for edge in graph.edges:
        if edge.child in bundled:
            continue
        arrow = "-.->" if edge.broken else "-->"
        label = f'|"{edge.order}"|' if edge.child in multi else ""
        lines.append(f"  {edge.child} {arrow}{label} {edge.parent}")
    lines.append('  subgraph legend["legend"]')
    for kind in _legend_kinds(graph):
        lines.append(f'    legend_{kind}["{mermaid_text(LEGEND[kind])}"]:::{kind}')
    lines.append("  end")
    for kind in (*KINDS, "errors"):
        lines.append(f"  classDef {kind} {MERMAID_STYLE[kind]}")
    for name in [f"dir{number}" for number in range(len(groups))] + [bundle.id for bundle in bundles] + ["legend"]:
        lines.append(f"  style {name} {GROUP_STYLE}")
    with_errors = [node.id for node in graph.nodes if node.errors]
    if with_errors:
        lines.append(f"  class {','.join(with_errors)} errors")
    return "\n".join(lines) + "\n"


# -- JSON

def to_json(graph: Graph) -> str:
    import json

    return json.dumps({"version": 1,
                       "nodes": [{**node._asdict(), "path": printable(node.path), "label": printable(node.label)}
                                 for node in graph.nodes],
                       "edges": [edge._asdict() for edge in graph.edges]}, indent=2) + "\n"


RENDERERS = {"dot": to_dot, "mermaid": to_mermaid, "json": to_json}
