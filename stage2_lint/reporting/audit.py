"""Audit commands on the resolver's provenance: ``resolve`` (with ``--blame`` and ``--key``)
and ``diff`` of two profiles after inheritance."""
from __future__ import annotations

import json

import yaml

from stage2_lint.core.escape import dotted, printable, printable_lines
from stage2_lint.tree.merge import SECTION, Origin, Resolved
from stage2_lint.documents.keypath import MISSING, exact_equal, leaves

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter when present


def _dump(data, **options) -> str:
    """YAML that shows the file's own characters where they are harmless, and escapes them
    all (``\\u202e``: valid YAML that loads back to the same value) when one of them would
    drive a terminal or forge a line. A YAML emitter's idea of printable is not ours."""
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, **options)
    if printable_lines(text) == text:
        return text
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=False, **options)


def _scalar(value) -> str:
    """One value as a single line of YAML (flow style for lists and mappings)."""
    text = _dump(value, default_flow_style=True, width=2**31 - 1)
    return text[:-len("\n...\n")] if text.endswith("\n...\n") else text.rstrip("\n")


def blame_yaml(resolved: Resolved) -> str:
    """The resolved config as block YAML, each leaf followed by ``# file:line`` of its setter."""
    out: list[str] = []

    def emit(tree: dict, prefix: tuple, indent: int) -> None:
        for key, value in tree.items():
            keys = prefix + (key,)
            head = " " * indent + _scalar(key) + ":"
            if isinstance(value, dict) and value:
                out.append(head)
                emit(value, keys, indent + 2)
            else:
                origin = resolved.origin(keys)
                where = f"  # {printable(origin.where())}" if origin else ""
                out.append(f"{head} {_scalar(value)}{where}")

    emit(resolved.config, (), 0)
    return "\n".join(out) + "\n"


def blame_map(resolved: Resolved) -> dict[str, dict[str, object]]:
    return {dotted(keys): _origin_record(resolved.origin(keys)) for keys, _ in leaves(resolved.config)}


def _origin_record(origin: Origin) -> dict[str, object]:
    return {"file": origin.path, "line": origin.line} if origin else {"file": None, "line": None}


def key_chain(resolved: Resolved, key: str) -> dict[str, object]:
    """The override chain of one key, winner last."""
    keys = tuple(key.split("."))
    value = resolved.config
    for part in keys:
        value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
    chain = resolved.provenance.get(keys, ())
    return {
        "key": key,
        "set": value is not MISSING,
        "value": None if value is MISSING else value,
        "chain": [{"file": o.path, "line": o.line, "value": None if o.value is SECTION else o.value}
                  for o in chain],
    }


def render(data, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, default=str) + "\n"
    return _dump(data, sort_keys=False, default_flow_style=False, width=120)


def differences(a: Resolved, b: Resolved) -> list[dict[str, object]]:
    """Added, removed and changed leaves from ``a`` to ``b``, sorted by key path."""
    left, right = dict(leaves(a.config)), dict(leaves(b.config))
    found = []
    for keys in sorted(left.keys() | right.keys(), key=dotted):
        old, new = left.get(keys, MISSING), right.get(keys, MISSING)
        if old is not MISSING and new is not MISSING and exact_equal(old, new):
            continue
        change = "added" if old is MISSING else "removed" if new is MISSING else "changed"
        entry = {"key": dotted(keys), "kind": change}
        if old is not MISSING:
            entry["a"] = {"value": old, **_origin_record(a.origin(keys))}
        if new is not MISSING:
            entry["b"] = {"value": new, **_origin_record(b.origin(keys))}
        found.append(entry)
    return found


def diff_text(found: list[dict[str, object]]) -> str:
    lines = []
    for entry in found:
        sides = [f"{_scalar(side['value'])} ({printable(str(side['file']))}:{side['line']})"
                 for side in (entry.get("a"), entry.get("b")) if side]
        mark = {"added": "+", "removed": "-", "changed": "~"}[entry["kind"]]
        lines.append(f"{mark} {entry['key']}: {' -> '.join(sides)}")
    return "".join(line + "\n" for line in lines)
