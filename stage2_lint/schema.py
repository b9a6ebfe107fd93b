"""A profile checked against its contract's JSON Schema file (the repository owns the file;
the training code exports it, see ``schema_export``). The linter knows no key of its own.

Only the part of JSON Schema 2020-12 that an exported config schema uses is evaluated, by a
walker fast enough for a commit hook and with messages written for people who edit YAML:
``type`` (with YAML 1.1 hints: ``no`` read as a boolean, ``2e-5`` read as a string),
``enum``, ``minimum``/``maximum``, ``pattern`` (``x-expected`` names what it means),
``properties``, ``additionalProperties`` (``false``: a closed section, unknown keys are
reported with a "did you mean"), and ``items``. NaN and infinities never pass a number.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Iterator, NamedTuple, Tuple

from stage2_lint.escape import dotted, shown
from stage2_lint.records import SchemaError

_FLOATISH = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
ROOT_ONLY = ("extends",)  # the file format's own key, never part of a schema's properties
UNKNOWN, TYPE = "unknown-key", "value-type"  # finding kinds


class Finding(NamedTuple):
    kind: str  # UNKNOWN or TYPE (each the name of the rule that reports it)
    keys: Tuple[str, ...]
    message: str


@lru_cache(maxsize=32)
def load(path: str) -> dict:
    """The schema at ``path`` (read once a run)."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            schema = json.load(handle)
    except (OSError, ValueError) as error:
        raise SchemaError(f"schema file {path}: {error}")
    if not isinstance(schema, dict) or schema.get("type") not in ("object", ["object"]):
        raise SchemaError(f"schema file {path}: the top level must be an object schema")
    return schema


def walk(tree: dict, schema: dict) -> Iterator[Finding]:
    """Every unknown key and every ill-typed value in ``tree`` (the ``extends`` key aside)."""
    yield from _object(tree, schema, ())


@lru_cache(maxsize=32)
def residual_paths(path: str) -> Tuple[Tuple[str, ...], ...]:
    """Key paths of the untyped bags (``x-residual``) in the schema at ``path``: any key left
    there is a knob without a type (S2L031)."""
    found, todo = [], [((), load(path))]
    while todo:
        keys, node = todo.pop()
        for name, child in node.get("properties", {}).items():
            if child.get("x-residual"):
                found.append(keys + (name,))
            elif child.get("properties"):
                todo.append((keys + (name,), child))
    return tuple(sorted(found))


def _types(schema: dict) -> Tuple[str, ...]:
    declared = schema.get("type", ())
    return (declared,) if isinstance(declared, str) else tuple(declared)


def _object(tree: dict, schema: dict, keys: tuple) -> Iterator[Finding]:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in tree.items():
        path = keys + (key,)
        if not keys and key in ROOT_ONLY:
            continue
        child = properties.get(key) if isinstance(key, str) else None
        if child is not None:
            yield from _value(value, child, path)
        elif extra is False:
            yield Finding(UNKNOWN, path, _unknown_message(path, properties))
        elif isinstance(extra, dict):
            yield from _value(value, extra, path)


def _value(value, schema: dict, keys: tuple) -> Iterator[Finding]:
    types = _types(schema)
    if isinstance(value, dict) and "object" in types:
        yield from _object(value, schema, keys)
    elif isinstance(value, list) and "array" in types:
        yield from _array(value, schema.get("items") or {}, keys)
    else:
        problem = _problem(value, schema, keys)
        if problem:
            yield Finding(TYPE, keys, problem)


def _array(items: list, schema: dict, keys: tuple) -> Iterator[Finding]:
    if "object" in _types(schema):  # a list of sections: each item is walked where it stands
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield from _object(item, schema, keys + (str(index),))
            else:
                yield Finding(TYPE, keys + (str(index),), f"expected a mapping, got {describe(item)}")
        return
    for index, item in enumerate(items):
        problem = _problem(item, schema, keys)
        if problem:
            yield Finding(TYPE, keys, f"item {index}: {problem}")
            return


def _problem(value, schema: dict, keys: tuple):
    """What is wrong with a scalar (or a value of the wrong kind), or None."""
    types = _types(schema)
    if value is None and (not types or "null" in types) and None in schema.get("enum", [None]):
        return None
    if "enum" in schema:
        return _enum_problem(value, schema["enum"])
    for kind in types:
        if kind != "null" and _is(value, kind):
            return _bounds_problem(value, schema, kind)
    if not types:
        return None
    return _type_problem(value, [kind for kind in types if kind != "null"] or ["null"], keys)


def _is(value, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "object": dict, "array": list,
                              "null": type(None)}.get(kind, object))


def _type_problem(value, kinds, keys: tuple) -> str:
    kind = kinds[0]
    if kind == "number" and isinstance(value, str) and _FLOATISH.match(value.strip()):
        return (f"expected a number, got the string {shown(value)}: YAML 1.1 reads a float only with a dot "
                f"in the mantissa; write {_with_dot(value)}")
    if kind == "string" and isinstance(value, bool):
        return (f"expected a string, got {describe(value)} "
                f"(YAML 1.1 reads unquoted yes/no/on/off as booleans; quote it)")
    expected = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string",
                "array": "a list", "null": "nothing (null)",
                "object": f"a mapping of {keys[-1]} settings" if keys else "a mapping"}
    return f"expected {expected.get(kind, kind)}, got {describe(value)}"


def _bounds_problem(value, schema: dict, kind: str):
    if kind == "number" and isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value}"
    low, high = schema.get("minimum"), schema.get("maximum")
    if kind in ("integer", "number") and ((low is not None and value < low) or (high is not None and value > high)):
        noun = "an integer" if kind == "integer" else "a number"
        if high is None:
            return f"expected {noun} >= {low}, got {value}"
        if low is None:
            return f"expected {noun} <= {high}, got {value}"
        return f"expected {noun} in [{low}, {high}], got {value}"
    pattern = schema.get("pattern")
    if kind == "string" and pattern and not re.search(pattern, value):
        return f"expected {schema.get('x-expected', 'a string matching ' + pattern)}, got {describe(value)}"
    return None


def _enum_problem(value, options: list):
    if value in options and type(value) in {type(option) for option in options}:
        return None
    names = ", ".join(str(option) for option in options if option is not None)
    if isinstance(value, bool) and all(isinstance(option, (str, type(None))) for option in options):
        spelled = "no" if value is False and "no" in options else str(value).lower()
        return (f"expected one of {names}, got {describe(value)}: YAML 1.1 reads unquoted yes/no/on/off as "
                f"booleans; quote it: \"{spelled}\"")
    return f"expected one of {names}, got {describe(value)}"


def describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {shown(value)}"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"{type(value).__name__} {shown(value)}"


def _with_dot(raw: str) -> str:
    mantissa, sep, exponent = raw.strip().partition("e" if "e" in raw else "E")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + (sep + exponent if sep else "")


def _unknown_message(keys: tuple, properties: dict) -> str:
    name = dotted(keys)
    close = _closest(str(keys[-1]), id(properties), properties)
    if close:
        return f"unknown key {name}; did you mean {dotted(keys[:-1] + (close,))}?"
    return f"unknown key {name}; known keys here: {', '.join(properties)}"


_CLOSEST: dict = {}  # (key, id of a schema's properties) -> suggestion; schemas live for the run


def _closest(key: str, properties_id: int, properties: dict):
    """The known key most like ``key`` (difflib is the costly part of a report full of
    unknown keys, and the same names recur across files)."""
    found = _CLOSEST.get((key, properties_id), _CLOSEST)
    if found is _CLOSEST:
        import difflib

        matches = difflib.get_close_matches(key, tuple(properties), n=1, cutoff=0.6)
        found = _CLOSEST[(key, properties_id)] = matches[0] if matches else None
    return found
