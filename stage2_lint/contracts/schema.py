"""A profile checked against its contract's JSON Schema file (the repository owns the file;
the training code exports it, see ``schema_export``). The linter knows no key of its own.

The file is JSON Schema 2020-12, all of it that can apply to a YAML profile: when it is loaded
it is checked keyword by keyword (``check_schema``: the shape the metaschema gives each
keyword), and a keyword this validator does not enforce is refused there, never skipped.
Enforced: ``type``, ``enum``, ``const``, ``multipleOf``, ``minimum``/``maximum`` and their
exclusive forms, ``minLength``/``maxLength``, ``pattern``, ``format`` (the formats in
``FORMATS``), ``items``, ``prefixItems``, ``contains`` with ``minContains``/``maxContains``,
``minItems``/``maxItems``, ``uniqueItems``, ``properties``, ``patternProperties``,
``additionalProperties``, ``propertyNames``, ``minProperties``/``maxProperties``,
``required``, ``dependentRequired``, ``dependentSchemas``, ``allOf``/``anyOf``/``oneOf``/
``not``, ``if``/``then``/``else``, ``unevaluatedProperties``/``unevaluatedItems``, and ``$ref``
(inside the file, by JSON pointer or ``$anchor``, or to another schema file inside the
repository; nothing is fetched from a network). Annotations (``title``, ``description``,
``default``, ``x-*``...) are allowed and have no effect.

Messages are written for people who edit YAML: YAML 1.1 hints (``no`` read as a boolean,
``2e-5`` read as a string), ``x-expected`` (what a pattern means), and a "did you mean" for an
unknown key. Two deliberate departures from the specification, both stricter, both because a
YAML profile distinguishes what JSON does not: NaN and infinities never pass a numeric keyword,
and ``1.0`` is not an ``integer`` (the trainer would receive a float). Equality (``enum``,
``const``, ``uniqueItems``) is JSON Schema's: ``1`` equals ``1.0``, ``true`` equals no number.
"""
from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from collections.abc import Iterator

from stage2_lint.core import ecma_regex, paths, reading
from stage2_lint.core.escape import dotted, shown
from stage2_lint.core.lazy import LazyPattern
from stage2_lint.core.records import Finding, Kind, record, SchemaError

_FLOATISH = LazyPattern(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")  # only a string where a number belongs meets it
ROOT_ONLY = ("extends",)  # the file format's own key, never part of a schema's properties
UNKNOWN, TYPE = Kind.UNKNOWN_KEY, Kind.VALUE_TYPE  # the kinds of what a schema finds
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_SCHEMA_BYTES = 8 << 20
MAX_REF_DEPTH = 64  # $ref hops in one evaluation path: a cycle through $ref ends here


# -- the schema's own shape (what the 2020-12 metaschema says of each keyword)

_SCHEMA, _SCHEMAS, _SCHEMA_MAP, _ANY = "schema", "schemas", "schema-map", "any"
KEYWORDS: dict[str, str] = {
    **dict.fromkeys(("not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames",
                     "unevaluatedItems", "unevaluatedProperties", "contentSchema"), _SCHEMA),
    **dict.fromkeys(("allOf", "anyOf", "oneOf", "prefixItems"), _SCHEMAS),
    **dict.fromkeys(("properties", "patternProperties", "dependentSchemas", "$defs", "definitions"), _SCHEMA_MAP),
    **dict.fromkeys(("maxLength", "minLength", "maxItems", "minItems", "maxContains", "minContains",
                     "maxProperties", "minProperties"), "count"),
    **dict.fromkeys(("maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"), "number"),
    "multipleOf": "positive", "type": "type", "enum": "array", "const": _ANY, "uniqueItems": "boolean",
    "required": "strings", "dependentRequired": "string-lists", "pattern": "regex", "format": "format",
    "$ref": "ref", "$schema": "dialect", "$id": "string", "$anchor": "anchor", "$comment": "string",
    **dict.fromkeys(("title", "description", "contentMediaType", "contentEncoding"), "string"),
    "default": _ANY, "examples": "array",
    **dict.fromkeys(("deprecated", "readOnly", "writeOnly"), "boolean"),
}
# Keywords of 2020-12 that this validator does not evaluate: refused when a schema uses them.
UNSUPPORTED = {
    "$dynamicRef": "dynamic references", "$dynamicAnchor": "dynamic references",
    "$recursiveRef": "a 2019-09 keyword", "$recursiveAnchor": "a 2019-09 keyword",
    "$vocabulary": "custom vocabularies",
    "dependencies": "a draft-07 keyword (use dependentRequired or dependentSchemas)",
}
TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")
_TYPE_NAMES = frozenset(TYPES)


def _date(text: str) -> bool:
    import datetime

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _date_time(text: str) -> bool:
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text)
    return bool(match) and _date(match.group(1)) and int(match.group(2)) < 24 and int(match.group(3)) < 60 \
        and int(match.group(4)) < 61


def _ip(version: int):
    def check(text: str) -> bool:
        import ipaddress

        try:
            (ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address)(text)
        except ValueError:
            return False
        return True
    return check


def _regex(text: str) -> bool:
    return ecma_regex.problem(text) is None


def _uuid(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", text))


# format -> check of a string (other instance types pass any format, as the specification says)
FORMATS = {
    "date": _date, "date-time": _date_time, "ipv4": _ip(4), "ipv6": _ip(6), "regex": _regex, "uuid": _uuid,
    "email": lambda text: "@" in text,
    "uri": lambda text: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*", text)),
}


@record
class Schema:
    """A loaded, checked schema: its root, where it came from, and every ``$anchor`` in it."""

    root: object
    path: str
    anchors: dict[str, object]


def load(path: str, repository: str | None = None) -> Schema:
    """The schema at ``path`` (read once a run, and again in a long-lived process once the
    file has changed), checked before any profile meets it. ``repository`` bounds where
    ``$ref`` may lead (default: the schema file's directory)."""
    previous = _LOADED.get((path, repository))
    if previous is not None and previous[0] == _signature(files_of(previous[1])):
        return previous[1]
    for cached in (_referenced, _resolve_ref, residual_paths):  # one of its files changed: read them all again
        cached.cache_clear()
    schema = _load(path, repository)
    _LOADED[path, repository] = (_signature(files_of(schema)), schema)
    return schema


_LOADED: dict[tuple[str, str | None], tuple[tuple, "Schema"]] = {}


def _signature(files: list[str]) -> tuple:
    """What the files are on disk now (time, size, inode), to tell a changed one cheaply."""
    found = []
    for name in files:
        try:
            info = os.stat(name)
            found.append((info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            found.append(None)
    return tuple(found)


def files_of(schema: Schema) -> list[str]:
    """The schema's own file and every file its ``$ref``s lead to, transitively (real paths)."""
    found, todo = [schema.path], [schema.path]
    while todo:
        current = todo.pop()
        for ref in _REFS.get(current, ()):
            address = ref.partition("#")[0]
            if address and not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", address):
                target = os.path.realpath(os.path.join(os.path.dirname(current), address))
                if target not in found:
                    found.append(target)
                    todo.append(target)
    return found


def _load(path: str, repository: str | None) -> Schema:
    if repository is not None and _escapes(path, os.path.realpath(repository)):
        raise SchemaError(f"schema file {path}: a symlink to {os.path.realpath(path)}, outside the repository; "
                          f"stage2-lint does not read it")
    schema = _referenced(path, repository)
    if not isinstance(schema.root, dict) or not _is_object_schema(schema.root):
        raise SchemaError(f"schema file {path}: the top level must be an object schema (\"type\": \"object\")")
    return schema


def _escapes(path: str, repository: str) -> bool:
    """Does a schema path inside the repository lead outside it through a symlink? (A path
    the settings name outside the repository is the settings' own choice.)"""
    return paths.inside(paths.canonical(path), repository) and not paths.inside(os.path.realpath(path), repository)


@lru_cache(maxsize=64)
def _referenced(path: str, repository: str | None = None) -> Schema:
    """Any schema file: a contract's, or one a ``$ref`` leads to."""
    schema, refs = _register(_read_json(path), os.path.realpath(path))
    for ref in refs:  # every $ref resolves now, so evaluation never meets a dangling one
        _resolve_ref(schema.path, ref, repository or os.path.dirname(schema.path))
    return schema


_DOCUMENTS: dict[str, tuple[object, dict]] = {}  # a schema file's root and anchors, by real path
_REFS: dict[str, tuple[str, ...]] = {}  # the $ref values a schema file holds, by real path


def _register(root, path: str) -> tuple[Schema, list[str]]:
    """Check ``root`` and record it under ``path``, where ``$ref`` finds it; also returns
    the ``$ref`` values it holds."""
    anchors: dict[str, object] = {}
    refs: list[str] = []
    check_schema(root, path, anchors=anchors, refs=refs)
    _DOCUMENTS[path] = (root, anchors)
    _REFS[path] = tuple(refs)
    return Schema(root, path, anchors), refs


def _is_object_schema(root: dict) -> bool:
    declared = root.get("type")
    return declared == "object" or (isinstance(declared, list) and declared == ["object"])


def _read_json(path: str):
    """A schema file read as carefully as a profile: a regular file, bounded in size."""
    import json

    try:
        return json.loads(reading.read_bounded(path, MAX_SCHEMA_BYTES, "schema file").decode("utf-8"))
    except reading.ReadRefused as refused:
        raise SchemaError(f"schema file {path}: {refused}") from None
    except (ValueError, RecursionError) as error:
        raise SchemaError(f"schema file {path}: {error}") from None


def check_schema(schema, path: str, where: str = "#", anchors: dict | None = None,
                 refs: list | None = None) -> None:
    """Refuse (SchemaError naming the file and the JSON pointer) a schema whose keywords do not
    have the shape 2020-12 gives them, or that uses a keyword this validator does not enforce.
    One walk also collects the ``$anchor`` subschemas and the ``$ref`` values.

    A place is kept as ``(parent, key)`` pairs and spelled as a JSON pointer only for a
    message: every run checks every keyword of its schemas, and a clean schema needs none."""
    todo = [(schema, where)]
    while todo:
        node, at = todo.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            raise SchemaError(f"schema file {path}: {_pointer(at)} must be a schema (an object or a boolean), "
                              f"not {_json_type_name(node)}")
        if anchors is not None and isinstance(node.get("$anchor"), str):
            anchors[node["$anchor"]] = node
        if refs is not None and isinstance(node.get("$ref"), str):
            refs.append(node["$ref"])
        for keyword, value in node.items():
            expects = KEYWORDS.get(keyword)
            shape = _SHAPES.get(expects)
            if shape is not None and shape[0](value) and expects not in _CHECKED_FURTHER:
                continue  # the common case, in one lookup and one predicate
            todo.extend(_check_keyword(keyword, value, (at, keyword), path))


def _pointer(at) -> str:
    """The JSON pointer of a place kept as nested ``(parent, key)`` pairs around its root."""
    parts = []
    while isinstance(at, tuple):
        at, part = at
        parts.append(_pointer_part(part))
    return "/".join([at, *reversed(parts)])


def _is_count(value) -> bool:
    return _is_integer(value) and value >= 0


def _is_positive(value) -> bool:
    return _is_number(value) and value > 0


def _is_type(value) -> bool:
    if isinstance(value, str):
        return value in _TYPE_NAMES
    return isinstance(value, list) and bool(value) and all(isinstance(n, str) and n in _TYPE_NAMES for n in value) \
        and len(set(value)) == len(value)


def _is_distinct_strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value) and len(set(value)) == len(value)


def _is_string_lists(value) -> bool:
    return isinstance(value, dict) and all(isinstance(v, list) and all(isinstance(s, str) for s in v)
                                           for v in value.values())


def _is_string(value) -> bool:
    return isinstance(value, str)


def _is_anything(value) -> bool:
    return True


# What the value of each kind of keyword must be (the metaschema's shape), and how to say it.
_SHAPES = {
    "count": (_is_count, "a non-negative integer"),
    "number": (lambda value: _is_number(value), "a number"),  # defined with the evaluation, below
    "positive": (_is_positive, "a number greater than 0"),
    "boolean": (lambda value: isinstance(value, bool), "true or false"),
    "string": (_is_string, "a string"), "ref": (_is_string, "a string"), "anchor": (_is_string, "a string"),
    "dialect": (_is_string, "a string"), "format": (_is_string, "a string"), "regex": (_is_string, "a string"),
    "array": (lambda value: isinstance(value, list), "an array"),
    "type": (_is_type, f"one of {', '.join(TYPES)} or a list of them without repeats"),
    "strings": (_is_distinct_strings, "an array of distinct strings"),
    "string-lists": (_is_string_lists, "an object whose values are arrays of strings"),
    _ANY: (_is_anything, "any value"),
}
_CHECKED_FURTHER = frozenset({"regex", "format", "dialect", "anchor"})  # a well-shaped value may still be refused


def _check_keyword(keyword: str, value, at, path: str):
    """The subschemas to check next; raises on a malformed keyword."""
    if keyword in UNSUPPORTED:
        raise SchemaError(f"schema file {path}: {_pointer(at)}: {keyword} ({UNSUPPORTED[keyword]}) is not enforced "
                          f"by stage2-lint; rewrite the schema without it")
    expects = KEYWORDS.get(keyword)
    if expects is None:
        if keyword.startswith("x-"):
            return []
        raise SchemaError(f"schema file {path}: {_pointer(at)}: unknown keyword {shown(keyword)}; stage2-lint "
                          f"enforces JSON Schema 2020-12 and refuses what it would skip (extension keywords start "
                          f"with x-)")
    if expects == _SCHEMA:
        return [(value, at)]
    if expects == _SCHEMAS:
        if not isinstance(value, list) or not value:
            raise _malformed(path, at, "a non-empty array of schemas", value)
        return [(item, (at, index)) for index, item in enumerate(value)]
    if expects == _SCHEMA_MAP:
        if not isinstance(value, dict):
            raise _malformed(path, at, "an object whose values are schemas", value)
        if keyword == "patternProperties":
            for pattern in value:
                _check_pattern(pattern, at, path)
        return [(item, (at, name)) for name, item in value.items()]
    _check_value(expects, value, at, path)
    return []


def _malformed(path: str, at, expected: str, value) -> SchemaError:
    return SchemaError(f"schema file {path}: {_pointer(at)} must be {expected}, not {_json_type_name(value)}")


def _check_pattern(pattern, at, path: str) -> None:
    why = ecma_regex.problem(pattern) if isinstance(pattern, str) else "is not a string"
    if why:
        raise SchemaError(f"schema file {path}: {_pointer(at)}: {shown(pattern)} {why}")


def _check_value(expects: str, value, at, path: str) -> None:
    holds, expected = _SHAPES[expects]
    if not holds(value):
        raise _malformed(path, at, expected, value)
    if expects == "regex":
        _check_pattern(value, at, path)
    if expects == "format" and value not in FORMATS:
        raise SchemaError(f"schema file {path}: {_pointer(at)}: format {shown(value)} is not enforced by "
                          f"stage2-lint (enforced: {', '.join(sorted(FORMATS))})")
    if expects == "dialect" and value.rstrip("#") != DIALECT:
        raise SchemaError(f"schema file {path}: {_pointer(at)}: stage2-lint reads JSON Schema 2020-12 ({DIALECT}), "
                          f"not {shown(value)}")
    if expects == "anchor" and not re.fullmatch(r"[A-Za-z_][-A-Za-z0-9._]*", value):
        raise SchemaError(f"schema file {path}: {_pointer(at)}: {shown(value)} is not a valid anchor name")


@lru_cache(maxsize=4096)
def _resolve_ref(schema_path: str, ref: str, repository: str):
    where = f"schema file {schema_path}: $ref {shown(ref)}"
    address, _, fragment = ref.partition("#")
    if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", address):
        raise SchemaError(f"{where}: stage2-lint never fetches a schema; refer to a file in the repository")
    if address:
        target_path = os.path.realpath(os.path.join(os.path.dirname(schema_path), address))
        if not paths.inside(target_path, os.path.realpath(repository)):
            raise SchemaError(f"{where}: leads outside the repository")
        document = _referenced(target_path, repository) if target_path != schema_path else None
        if document is None:
            raise SchemaError(f"{where}: a file that refers to itself by name; write #{fragment}")
        root, anchors = document.root, document.anchors
    else:
        root, anchors = _DOCUMENTS[schema_path]
    if fragment and not fragment.startswith("/"):
        if fragment not in anchors:
            raise SchemaError(f"{where}: no $anchor {shown(fragment)}")
        return anchors[fragment]
    node = root
    for part in fragment.split("/")[1:] if fragment else ():
        part = _unpointer(part)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaError(f"{where}: no such place in the schema")
    if not isinstance(node, (dict, bool)):
        raise SchemaError(f"{where}: does not lead to a schema")
    return node


def _pointer_part(name: str) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")


def _unpointer(part: str) -> str:
    from urllib.parse import unquote

    return unquote(part).replace("~1", "/").replace("~0", "~")


# -- evaluation

def walk(tree: dict, schema) -> Iterator[Finding]:
    """Every finding of ``tree`` (the ``extends`` key aside) against ``schema`` (a ``Schema``
    from ``load``, or a plain schema dict that refers only to itself)."""
    if not isinstance(schema, Schema):
        schema = _inline(schema)
    instance = {key: value for key, value in tree.items() if key not in ROOT_ONLY} \
        if isinstance(tree, dict) and any(key in tree for key in ROOT_ONLY) else tree
    findings: list[Finding] = []
    _Evaluation(schema, findings).value(instance, schema.root, (), 0)
    yield from findings


def _inline(root) -> Schema:
    """A schema given as data (tests, the loader's callers): checked like a file."""
    schema, refs = _register(root, f"<schema {id(root)}>")
    for ref in refs:
        _resolve_ref(schema.path, ref, "")
    return schema


class _Evaluation:
    """One profile against one schema; findings are appended to ``out``."""

    def __init__(self, schema: Schema, out: list[Finding]):
        self.schema = schema
        self.out = out

    def value(self, value, node, keys: tuple, depth: int, out: list[Finding] | None = None):
        """Evaluate ``value`` against ``node``; returns the evaluated (property names, item
        count) for ``unevaluated*`` in the caller."""
        out = self.out if out is None else out
        if node is True:
            return _nothing()  # a true schema passes everything and annotates nothing
        if node is False:
            out.append(Finding(TYPE, keys, f"no value is allowed here, got {describe(value)}"))
            return _nothing()
        seen_props = seen_items = _NONE  # frozen: ``|=`` makes a new set, so none is shared and changed
        if "$ref" in node:
            props, items = self._ref(value, node["$ref"], keys, depth, out)
            seen_props |= props
            seen_items |= items
        scalar = _scalar_problem(value, node, keys)
        if scalar:
            out.append(Finding(TYPE, keys, scalar))
            return _nothing()
        for keyword in ("allOf", "anyOf", "oneOf", "not", "if"):
            if keyword in node:
                props, items = getattr(self, "_" + keyword.lower())(value, node, keys, depth, out)
                seen_props |= props
                seen_items |= items
        if isinstance(value, dict):
            seen_props |= self._object(value, node, keys, depth, out, seen_props)
        elif isinstance(value, list):
            seen_items |= self._array(value, node, keys, depth, out, seen_items)
        return seen_props, seen_items

    def valid(self, value, node, keys: tuple, depth: int) -> tuple[bool, list, tuple]:
        found: list[Finding] = []
        evaluated = self.value(value, node, keys, depth, found)
        return not found, found, evaluated

    def _ref(self, value, ref: str, keys, depth, out):
        if depth >= MAX_REF_DEPTH:
            out.append(Finding(TYPE, keys, f"$ref {shown(ref)} recurses deeper than {MAX_REF_DEPTH} levels"))
            return _nothing()
        repository = os.path.dirname(self.schema.path)
        target = _resolve_ref(self.schema.path, ref, repository)
        return self.value(value, target, keys, depth + 1, out)

    def _allof(self, value, node, keys, depth, out):
        props, items = set(), set()
        for branch in node["allOf"]:
            branch_props, branch_items = self.value(value, branch, keys, depth, out)
            props |= branch_props
            items |= branch_items
        return props, items

    def _anyof(self, value, node, keys, depth, out):
        props, items, failures, passed = set(), set(), [], False
        for branch in node["anyOf"]:  # every branch: unevaluated* needs all that matched
            ok, found, (branch_props, branch_items) = self.valid(value, branch, keys, depth)
            if ok:
                passed = True
                props |= branch_props
                items |= branch_items
            else:
                failures.append(found)
        if not passed:
            out.append(_alternatives(keys, "anyOf", failures))
        return props, items

    def _oneof(self, value, node, keys, depth, out):
        results = [self.valid(value, branch, keys, depth) for branch in node["oneOf"]]
        matched = [index for index, (ok, _, _) in enumerate(results) if ok]
        if not matched:
            out.append(_alternatives(keys, "oneOf", [found for _, found, _ in results]))
            return _nothing()
        if len(matched) > 1:
            out.append(Finding(TYPE, keys, f"matches {len(matched)} of oneOf's schemas (numbers "
                                           f"{', '.join(str(i + 1) for i in matched)}); exactly one must match"))
            return _nothing()
        return results[matched[0]][2]

    def _not(self, value, node, keys, depth, out):
        ok, _, _ = self.valid(value, node["not"], keys, depth)
        if ok:
            out.append(Finding(TYPE, keys, f"{describe(value)} is a value the schema rules out here (\"not\")"))
        return _nothing()

    def _if(self, value, node, keys, depth, out):
        ok, _, (props, items) = self.valid(value, node["if"], keys, depth)
        branch = node.get("then" if ok else "else")
        if branch is None:
            return (props, items) if ok else _nothing()
        branch_props, branch_items = self.value(value, branch, keys, depth, out)
        if ok:
            return props | branch_props, items | branch_items
        return branch_props, branch_items

    def _object(self, value: dict, node: dict, keys, depth, out, evaluated: set) -> set:
        properties = node.get("properties", {})
        patterns = node.get("patternProperties", {})
        extra = node.get("additionalProperties")  # absent: the key stays unevaluated
        seen = set()
        for key, item in value.items():
            path = keys + (key,)
            matched = False
            if key in properties:
                matched = True
                self.value(item, properties[key], path, depth, out)
            for pattern, subschema in patterns.items():
                if _search(pattern, key):
                    matched = True
                    self.value(item, subschema, path, depth, out)
            if matched:
                seen.add(key)
            elif patterns and len(key) > ecma_regex.SUBJECT_LIMIT:
                out.append(Finding(UNKNOWN, path, f"a key of {len(key)} characters is longer than stage2-lint "
                                                  f"matches against patternProperties ({ecma_regex.SUBJECT_LIMIT})"))
            elif extra is False:
                out.append(Finding(UNKNOWN, path, _unknown_message(path, properties)))
            elif extra is not None:
                self.value(item, extra, path, depth, out)
                seen.add(key)
        if "propertyNames" in node:
            for key in value:
                ok, found, _ = self.valid(key, node["propertyNames"], keys + (key,), depth)
                if not ok:
                    out.append(Finding(UNKNOWN, keys + (key,), f"key {shown(key)} is not an allowed name here: "
                                                               f"{found[0].message}"))
        self._object_counts(value, node, keys, out)
        for name, subschema in node.get("dependentSchemas", {}).items():
            if name in value:
                props, _ = self.value(value, subschema, keys, depth, out)
                seen |= props
        if "unevaluatedProperties" in node:
            rest = node["unevaluatedProperties"]
            for key in value:
                if key in seen or key in evaluated:
                    continue
                if rest is False:
                    out.append(Finding(UNKNOWN, keys + (key,), _unknown_message(keys + (key,), properties)))
                else:
                    self.value(value[key], rest, keys + (key,), depth, out)
            seen |= set(value)
        return seen

    def _object_counts(self, value: dict, node: dict, keys, out) -> None:
        for name in node.get("required", ()):
            if name not in value:
                out.append(Finding(TYPE, keys + (name,), "required here and not set"))
        for name, needed in node.get("dependentRequired", {}).items():
            missing = [other for other in needed if name in value and other not in value]
            if missing:
                out.append(Finding(TYPE, keys + (name,), f"with {name} set, {', '.join(missing)} must be set too"))
        low, high = node.get("minProperties"), node.get("maxProperties")
        if low is not None and len(value) < low:
            out.append(Finding(TYPE, keys, f"expected at least {low} keys, got {len(value)}"))
        if high is not None and len(value) > high:
            out.append(Finding(TYPE, keys, f"expected at most {high} keys, got {len(value)}"))

    def _array(self, value: list, node: dict, keys, depth, out, evaluated: set) -> set:
        prefix = node.get("prefixItems", ())
        for index, item in enumerate(value[:len(prefix)]):
            self.value(item, prefix[index], keys + (str(index),), depth, out)
        seen = set(range(min(len(prefix), len(value))))
        if "items" in node:
            for index in range(len(prefix), len(value)):
                self.value(value[index], node["items"], keys + (str(index),), depth, out)
            seen = set(range(len(value)))
        if "contains" in node:
            matching = {index for index, item in enumerate(value)
                        if self.valid(item, node["contains"], keys + (str(index),), depth)[0]}
            seen |= matching
            matches = len(matching)
            low, high = node.get("minContains", 1), node.get("maxContains")
            if matches < low:
                out.append(Finding(TYPE, keys, f"expected at least {low} item(s) matching \"contains\", got {matches}"))
            if high is not None and matches > high:
                out.append(Finding(TYPE, keys, f"expected at most {high} item(s) matching \"contains\", "
                                               f"got {matches}"))
        low, high = node.get("minItems"), node.get("maxItems")
        if low is not None and len(value) < low:
            out.append(Finding(TYPE, keys, f"expected at least {low} item(s), got {len(value)}"))
        if high is not None and len(value) > high:
            out.append(Finding(TYPE, keys, f"expected at most {high} item(s), got {len(value)}"))
        if node.get("uniqueItems") is True:
            repeated = _first_repeat(value)
            if repeated is not None:
                out.append(Finding(TYPE, keys, f"items {repeated[0]} and {repeated[1]} are equal; items must be "
                                               f"unique"))
        if "unevaluatedItems" in node:
            for index in range(len(value)):
                if index not in seen and index not in evaluated:
                    self.value(value[index], node["unevaluatedItems"], keys + (str(index),), depth, out)
            seen = set(range(len(value)))
        return seen


_NONE: frozenset = frozenset()


def _nothing():
    """Evaluated nothing: no property names, no item indexes (shared, so frozen)."""
    return _NONE, _NONE


def _alternatives(keys: tuple, keyword: str, failures: list[list[Finding]]) -> Finding:
    reasons = "; ".join(found[0].message for found in failures if found)
    return Finding(TYPE, keys, f"matches none of {keyword}'s {len(failures)} schemas ({reasons})")


def _search(pattern: str, text: str) -> bool:
    """ECMA-262 semantics; a text over ecma_regex.SUBJECT_LIMIT never matches, and the
    callers report it rather than let it through."""
    return len(text) <= ecma_regex.SUBJECT_LIMIT and ecma_regex.compiled(pattern).search(text) is not None


# -- scalar keywords: type, enum, const, numbers, strings, format

def _types(schema: dict) -> tuple[str, ...]:
    declared = schema.get("type", ())
    return (declared,) if isinstance(declared, str) else tuple(declared)


def _scalar_problem(value, schema: dict, keys: tuple) -> str | None:
    """What is wrong with ``value`` by the keywords that look at one value, or None."""
    if "enum" in schema and not any(json_equal(value, option) for option in schema["enum"]):
        return _enum_problem(value, schema["enum"])  # names the choices, which says more than the type
    declared = schema.get("type")
    if declared is not None:
        if isinstance(declared, str):
            if not _is(value, declared):
                return _type_problem(value, [declared], keys)
        elif declared and not any(_is(value, name) for name in declared):
            return _type_problem(value, [name for name in declared if name != "null"] or ["null"], keys)
    if "const" in schema and not json_equal(value, schema["const"]):
        return f"expected {_json_text(schema['const'])}, got {describe(value)}"
    kind = value.__class__
    if kind is str:  # the exact classes a YAML load makes, first: most values of a profile
        return _string_problem(value, schema)
    if kind is int or kind is float:
        return _number_problem(value, schema, _types(schema))
    if kind is bool or value is None or isinstance(value, (dict, list)):
        return None
    if _is_number(value) or isinstance(value, float):  # a caller's own subclass of int, float or str
        return _number_problem(value, schema, _types(schema))
    if isinstance(value, str):
        return _string_problem(value, schema)
    return None


_PYTHON_TYPES = {"string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}


def _is(value, type_name: str) -> bool:
    if type_name == "integer":
        return _is_integer(value)
    if type_name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _PYTHON_TYPES[type_name])


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (not isinstance(value, float) or math.isfinite(value))


_NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _number_problem(value, schema: dict, types) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        if "number" in types or "integer" in types or any(keyword in schema for keyword in _NUMERIC):
            return f"expected a finite number, got {value}"
        return None
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below, step = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum"), schema.get("multipleOf")
    if low is None and high is None and above is None and below is None and step is None:
        return None
    noun = "an integer" if "integer" in types and "number" not in types else "a number"
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            return f"expected {noun} >= {low}, got {value}"
        if low is None:
            return f"expected {noun} <= {high}, got {value}"
        return f"expected {noun} in [{low}, {high}], got {value}"
    if above is not None and not value > above:
        return f"expected {noun} > {above}, got {value}"
    if below is not None and not value < below:
        return f"expected {noun} < {below}, got {value}"
    if step is not None and not _multiple(value, step):
        return f"expected a multiple of {step}, got {value}"
    return None


def _multiple(value, step) -> bool:
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    from fractions import Fraction

    try:
        return (Fraction(value) / Fraction(step)).denominator == 1
    except (OverflowError, ValueError):
        return False


def _string_problem(value: str, schema: dict) -> str | None:
    low, high = schema.get("minLength"), schema.get("maxLength")
    length = len(value)  # code points, as JSON Schema counts
    if low is not None and length < low:
        return f"expected a string of at least {low} character(s), got {describe(value)}"
    if high is not None and length > high:
        return f"expected a string of at most {high} character(s), got {length}"
    pattern = schema.get("pattern")
    if pattern is not None and len(value) > ecma_regex.SUBJECT_LIMIT:
        return (f"expected {schema.get('x-expected', 'a string matching ' + pattern)}, got a string of {len(value)} "
                f"characters (stage2-lint matches patterns against at most {ecma_regex.SUBJECT_LIMIT})")
    if pattern is not None and not _search(pattern, value):
        return f"expected {schema.get('x-expected', 'a string matching ' + pattern)}, got {describe(value)}"
    checker = FORMATS.get(schema.get("format"))
    if checker is not None and not checker(value):
        return f"expected a {schema['format']}, got {describe(value)}"
    return None


def json_equal(left, right) -> bool:
    """Equality as JSON Schema defines it: numbers by value (1 equals 1.0), booleans apart
    from numbers, arrays item by item, objects key by key."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_plain_number(left) and _is_plain_number(right):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    return type(left) is type(right) and left == right


def _is_plain_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _first_repeat(items: list):
    """The indexes of the first two equal items (hashable fast path, pairwise otherwise)."""
    seen: dict = {}
    for index, item in enumerate(items):
        key = _hashable(item)
        if key in seen:
            return seen[key], index
        seen[key] = index
    return None


def _hashable(value):
    """A key equal for JSON-equal values: numbers by value, bools tagged apart."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_hashable(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _hashable(item)) for key, item in value.items()))
    return (type(value).__name__, value)


def _json_type_name(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a number")


def _json_text(value) -> str:
    import json

    return shown(json.dumps(value, ensure_ascii=False))


@lru_cache(maxsize=32)
def residual_paths(path: str, repository: str | None = None) -> tuple[tuple[str, ...], ...]:
    """Key paths of the untyped bags (``x-residual``) in the schema at ``path``: any key left
    there is a knob without a type (S2L031)."""
    found, todo = [], [((), load(path, repository).root)]
    while todo:
        keys, node = todo.pop()
        properties = node.get("properties", {}) if isinstance(node, dict) else {}
        for name, child in properties.items():
            if isinstance(child, dict) and child.get("x-residual"):
                found.append(keys + (name,))
            elif isinstance(child, dict) and child.get("properties"):
                todo.append((keys + (name,), child))
    return tuple(sorted(found))


def _type_problem(value, type_names, keys: tuple) -> str:
    type_name = type_names[0]
    if type_name in ("number", "integer") and isinstance(value, str) and _FLOATISH.match(value.strip()):
        return (f"expected a number, got the string {shown(value)}: YAML 1.1 reads a float only with a dot "
                f"in the mantissa; write {_with_dot(value)}")
    if type_name == "string" and isinstance(value, bool):
        return (f"expected a string, got {describe(value)} "
                f"(YAML 1.1 reads unquoted yes/no/on/off as booleans; quote it)")
    expected = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string",
                "array": "a list", "null": "nothing (null)",
                "object": f"a mapping of {keys[-1]} settings" if keys else "a mapping"}
    return f"expected {expected.get(type_name, type_name)}, got {describe(value)}"


def _enum_problem(value, options: list) -> str:
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
    if not properties:
        return f"unknown key {name}; no key is allowed here"
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
