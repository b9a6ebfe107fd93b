"""Typed config classes -> JSON Schema 2020-12: how a repository's training code exports the
schema its contract points at (``stage2-lint schema export``).

Reads attrs classes and standard-library dataclasses alike, with postponed annotations
(``from __future__ import annotations``) or without. A field's annotation gives its type:
``int``, ``float``, ``bool``, ``str``, ``Literal[...]``, an ``Enum``, ``Optional[X]``,
``X | None`` and ``Union[...]`` (``anyOf``), ``list``/``tuple``/``Sequence`` (``items``),
``set``/``frozenset`` (``uniqueItems``), ``dict``/``Mapping[str, X]`` (free-form, or typed
values), ``Annotated[X, ...]``, ``Any``, another config class for a nested section, or a
pydantic model (through pydantic's own schema). A type with no JSON Schema is an error naming
``module:Class.field``; the escape hatch is a JSON Schema fragment in the field's metadata
(``metadata={"json_schema": {...}}``), used as it is. Its metadata may add ``minimum``, ``maximum``, ``pattern``,
``x-expected`` (what the pattern means, for messages), ``x-residual`` (an untyped bag whose keys
the linter warns about), ``description``, ``deprecated``, and
``open`` (a section whose owner, e.g. the training framework, accepts keys not listed).
Defaults become ``default``. Nested sections are closed (``additionalProperties: false``)
unless open. Nothing is ``required``: a profile may set any subset and inherit the rest.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import types
import typing
from typing import Any, Dict, Mapping, Sequence

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_METADATA = ("minimum", "maximum", "pattern", "x-expected", "x-residual", "description", "deprecated")
EXTENDS = {"description": "the parent profile(s), relative to this file; the child wins, lists are replaced whole",
           "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class ExportError(ValueError):
    """The source class cannot be found or described (exit code 2)."""


def source_class(spec: str, project_dir: str, setting: str = "schema_source") -> type:
    """The config class ``schema_source`` names (see ``source_import``: run from its file,
    its packages' ``__init__`` skipped, stand-ins for the modules the contract lists). A
    ``section_classes`` class may also come from an installed package (the framework's)."""
    from stage2_lint.core.source_import import SourceError, load_class

    try:
        target = load_class(spec, project_dir, setting)
    except SourceError as error:
        raise ExportError(str(error)) from None
    if not _is_config_class(target) and not hasattr(target, "model_json_schema"):
        raise ExportError(f"schema_source {spec!r} is not an attrs class, a dataclass or a pydantic model")
    return target


def export(cls: type, title: str, section_classes: Mapping[str, type] = {}, catch_all: Sequence[str] = ()) -> dict:
    """The JSON Schema document for profiles whose root is ``cls``.

    ``section_classes``: dotted section -> a class whose fields are that section's keys too
    (the training framework's argument dataclass): the section is closed over its own fields
    and the class's, its own typing winning. ``catch_all``: dotted fields that collect the keys
    their section does not declare (``custom.extra``): the section accepts any key, each
    checked as a value of that field."""
    root = _class_schema(cls, open_keys=False, nullable=False)
    for dotted_key, bound in section_classes.items():
        _bind_section(_section(root, dotted_key, "section_classes"), bound)
    for dotted_key in catch_all:
        parent, _, field = dotted_key.rpartition(".")
        section = _section(root, parent, "catch_all") if parent else root
        if field not in section["properties"]:
            raise ExportError(f"catch_all {dotted_key!r}: the section has no field {field!r}")
        section["additionalProperties"] = section["properties"][field].get("additionalProperties", {})
    root["properties"] = {"extends": EXTENDS, **root["properties"]}
    return {"$schema": DIALECT, "title": title, **root}


def _section(root: dict, dotted_key: str, setting: str) -> dict:
    """The object schema of the section ``dotted_key`` (nullable sections included)."""
    schema = root
    for key in dotted_key.split("."):
        schema = schema.get("properties", {}).get(key)
        if schema is None or "properties" not in schema:
            raise ExportError(f"{setting} {dotted_key!r}: the typed config has no section {key!r} there")
    return schema


def _bind_section(section: dict, bound: type) -> None:
    """Close ``section`` over its own fields and ``bound``'s. A framework's field whose type has
    no JSON Schema accepts any value: the team cannot edit that class, and the key is known."""
    if not _is_config_class(bound):
        raise ExportError(f"section_classes: {_where(bound)} is not a dataclass or an attrs class")
    try:
        fields = [(name, annotation) for name, annotation, *_ in _fields(bound)]
    except ExportError:  # annotations naming what its module cannot see: the names still count
        fields = [(field.name, Any) for field in (dataclasses.fields(bound) if dataclasses.is_dataclass(bound)
                                                  else bound.__attrs_attrs__)]
    framework = {}
    for name, annotation in fields:
        try:
            framework[name] = _annotation_schema(annotation, {})
        except (_Unsupported, ExportError):
            framework[name] = {}
        framework[name]["description"] = f"from {_where(bound)}"
    section["properties"] = {**framework, **section["properties"]}
    section["additionalProperties"] = False


def render(schema: dict) -> str:
    """The file's text: stable key order as declared, two-space indent, final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _is_config_class(value) -> bool:
    return isinstance(value, type) and (hasattr(value, "__attrs_attrs__") or dataclasses.is_dataclass(value))


def _fields(cls: type):
    """(name, annotation, default or _NONE, metadata, mandatory) for each field of an attrs
    class or a dataclass; ``mandatory``: it has neither a default nor a factory."""
    try:
        hints = _type_hints(cls)
    except Exception as error:  # a postponed annotation naming what the module cannot see
        raise ExportError(f"{_where(cls)}: cannot read its annotations ({type(error).__name__}: {error})") from None
    if hasattr(cls, "__attrs_attrs__"):
        import attrs

        for field in cls.__attrs_attrs__:
            plain = field.default is not attrs.NOTHING and not isinstance(field.default, attrs.Factory)
            yield (field.name, hints.get(field.name, Any), field.default if plain else _NONE, dict(field.metadata),
                   field.default is attrs.NOTHING)
        return
    for field in dataclasses.fields(cls):
        default = field.default if field.default is not dataclasses.MISSING else _NONE
        mandatory = default is _NONE and field.default_factory is dataclasses.MISSING
        yield field.name, hints.get(field.name, Any), default, dict(field.metadata), mandatory


def _type_hints(cls: type) -> dict:
    """``typing.get_type_hints``, and on Pythons before 3.10 the postponed ``X | None`` that
    code written for newer ones uses: each ``a | b`` in an annotation string is read as
    ``Union[a, b]`` (the team's code stays as it is)."""
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except TypeError:
        if _UNION_TYPE is not None:  # 3.10 and later: the error is the annotation's own
            raise
    import sys

    hints: dict = {}
    for klass in reversed(cls.__mro__):
        module = sys.modules.get(klass.__module__)
        scope = {**vars(typing), **(vars(module) if module else {}), "__Union": typing.Union}
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            hints[name] = _eval_with_unions(annotation, scope) if isinstance(annotation, str) else annotation
    return hints


def _eval_with_unions(text: str, scope: dict):
    import ast

    class Unions(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            if not isinstance(node.op, ast.BitOr):
                return node
            pair = ast.Tuple(elts=[node.left, node.right], ctx=ast.Load())
            return ast.Subscript(value=ast.Name(id="__Union", ctx=ast.Load()), slice=pair, ctx=ast.Load())

    tree = ast.fix_missing_locations(Unions().visit(ast.parse(text, mode="eval")))
    return eval(compile(tree, "<annotation>", "eval"), scope)  # the repository's own annotation text


def _where(cls: type, field: str = "") -> str:
    return f"{cls.__module__}:{cls.__qualname__}" + (f".{field}" if field else "")


_NONE = object()


def _class_schema(cls: type, open_keys: bool, nullable: bool, whole: bool = False) -> dict:
    """``whole``: the object is written in one place (a list item: lists are replaced whole,
    never merged), so each field without a default is ``required``."""
    if hasattr(cls, "model_json_schema") and not _is_config_class(cls):
        return _pydantic_schema(cls, nullable)
    properties: Dict[str, Any] = {}
    required = []
    for name, annotation, default, metadata, mandatory in _fields(cls):
        if isinstance(metadata.get("json_schema"), dict):  # the documented escape hatch
            schema = dict(metadata["json_schema"])
        else:
            try:
                schema = _annotation_schema(annotation, metadata)
            except _Unsupported as unsupported:
                raise ExportError(f"{_where(cls, name)}: no JSON Schema type for {unsupported} (in {annotation!r}); "
                                  f"give the field metadata={{'json_schema': {{...}}}} with the schema to use") \
                    from None
        schema.update({key: metadata[key] for key in _METADATA if key in metadata})
        if default is not _NONE:
            schema["default"] = _json_value(default)
        properties[name] = schema
        if whole and mandatory:
            required.append(name)
    schema = {"type": ["object", "null"] if nullable else "object", "properties": properties}
    if required:
        schema["required"] = required
    if not open_keys:
        schema["additionalProperties"] = False
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def _pydantic_schema(cls: type, nullable: bool) -> dict:
    """A pydantic model, through pydantic's own JSON Schema (self-contained: its ``$defs`` are
    kept beside its ``$ref``s only at the root, so a nested model must be a dataclass)."""
    schema = cls.model_json_schema()
    if "$defs" in schema:
        raise _Unsupported(f"the pydantic model {cls.__qualname__} with nested models (export it as the root class)")
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


class _Unsupported(Exception):
    """A type the exporter has no JSON Schema for (reported with the class and field)."""


_UNION_TYPE = getattr(types, "UnionType", None)  # X | Y (Python 3.10 and later)
_SEQUENCES = (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable,
              collections.abc.Collection)
_SETS = (set, frozenset, collections.abc.Set, collections.abc.MutableSet)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping, typing.Mapping)


def _annotation_schema(annotation, metadata: dict, whole: bool = False) -> dict:
    """``whole``: a list's item (see ``_class_schema``)."""
    from stage2_lint.core.source_import import is_stand_in

    if is_stand_in(annotation):
        raise _Unsupported(f"{annotation.__qualname__} (a stand-in from schema_stand_ins: the real type is not "
                           f"loaded)")
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _annotation_schema(args[0], metadata, whole)
    if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
        return _union_schema(args, metadata, whole)
    if origin is typing.Literal:
        kinds = sorted({_json_type(type(value)) for value in args})
        return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(args)}
    if origin in _SETS or annotation in _SETS:
        item = args[0] if args else Any
        return {"type": "array", "items": _annotation_schema(item, {}, whole=True), "uniqueItems": True}
    if origin is tuple and len(args) > 1 and args[-1] is not Ellipsis:  # Tuple[int, str]: fixed positions
        return {"type": "array", "prefixItems": [_annotation_schema(arg, {}, whole=True) for arg in args],
                "items": False}
    if origin in _SEQUENCES or annotation in _SEQUENCES:
        item = args[0] if args else Any
        return {"type": "array", "items": _annotation_schema(item, {}, whole=True)}
    if origin in _MAPPINGS or annotation in _MAPPINGS:
        schema: dict = {"type": ["object", "null"]}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = _annotation_schema(args[1], {})
        return schema
    if annotation is Any or annotation is object:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = [member.value for member in annotation]
        kinds = sorted({_json_type(type(value)) for value in values})
        return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}
    if _is_config_class(annotation) or (isinstance(annotation, type) and hasattr(annotation, "model_json_schema")):
        return _class_schema(annotation, open_keys=bool(metadata.get("open")), nullable=not whole, whole=whole)
    return {"type": _json_type(annotation)}


def _union_schema(args, metadata: dict, whole: bool = False) -> dict:
    members = [arg for arg in args if arg is not type(None)]
    if len(members) == 1:
        inner = _annotation_schema(members[0], metadata, whole)
        return _nullable(inner) if type(None) in args else inner
    branches = [_annotation_schema(member, metadata, whole) for member in members]
    if type(None) in args:
        branches.append({"type": "null"})
    return {"anyOf": branches}


def _json_type(python_type) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    if python_type not in kinds:
        raise _Unsupported(repr(python_type))
    return kinds[python_type]


def _nullable(schema: dict) -> dict:
    schema = dict(schema)
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = kind + ["null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = schema["enum"] + [None]
    return schema


def _json_value(value):
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if isinstance(value, (tuple, list, set, frozenset)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value
