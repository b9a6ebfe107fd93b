"""Typed config classes -> JSON Schema 2020-12: how a repository's training code exports the
schema its contract points at (``stage2-lint schema export``).

Reads attrs classes and standard-library dataclasses alike. A field's annotation gives its
type (``int``, ``float``, ``bool``, ``str``, ``Literal[...]``, ``Optional[...]``,
``Tuple[X, ...]``/``List[X]``, ``Dict[str, Any]`` for a free-form mapping, or another config
class for a nested section); its metadata may add ``minimum``, ``maximum``, ``pattern``,
``x-expected`` (what the pattern means, for messages), ``x-residual`` (an untyped bag whose keys
the linter warns about), ``description``, ``deprecated``, and
``open`` (a section whose owner, e.g. the training framework, accepts keys not listed).
Defaults become ``default``. Nested sections are closed (``additionalProperties: false``)
unless open. Nothing is ``required``: a profile may set any subset and inherit the rest.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import typing
from typing import Any, Dict

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_METADATA = ("minimum", "maximum", "pattern", "x-expected", "x-residual", "description", "deprecated")
EXTENDS = {"description": "the parent profile(s), relative to this file; the child wins, lists are replaced whole",
           "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class ExportError(ValueError):
    """The source class cannot be found or described (exit code 2)."""


def load_source(spec: str, project_dir: str) -> type:
    """``module:Class``, imported with the project directory first on ``sys.path``."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ExportError(f"schema_source {spec!r} must have the form module:Class")
    sys.path.insert(0, project_dir)
    try:
        target = importlib.import_module(module_name)
        for name in attribute.split("."):
            target = getattr(target, name)
    except (ImportError, AttributeError) as error:
        raise ExportError(f"schema_source {spec!r}: {error}") from error
    finally:
        sys.path.remove(project_dir)
    if not _is_config_class(target):
        raise ExportError(f"schema_source {spec!r} is not an attrs class or a dataclass")
    return target


def export(cls: type, title: str) -> dict:
    """The JSON Schema document for profiles whose root is ``cls``."""
    root = _class_schema(cls, open_keys=False, nullable=False)
    root["properties"] = {"extends": EXTENDS, **root["properties"]}
    return {"$schema": DIALECT, "title": title, **root}


def render(schema: dict) -> str:
    """The file's text: stable key order as declared, two-space indent, final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _is_config_class(value) -> bool:
    return isinstance(value, type) and (hasattr(value, "__attrs_attrs__") or dataclasses.is_dataclass(value))


def _fields(cls: type):
    """(name, annotation, default or _NONE, metadata) for each field of an attrs class or a dataclass."""
    hints = typing.get_type_hints(cls, include_extras=True)
    if hasattr(cls, "__attrs_attrs__"):
        import attrs

        for field in cls.__attrs_attrs__:
            plain = field.default is not attrs.NOTHING and not isinstance(field.default, attrs.Factory)
            yield field.name, hints[field.name], field.default if plain else _NONE, dict(field.metadata)
        return
    for field in dataclasses.fields(cls):
        default = field.default if field.default is not dataclasses.MISSING else _NONE
        yield field.name, hints[field.name], default, dict(field.metadata)


_NONE = object()


def _class_schema(cls: type, open_keys: bool, nullable: bool) -> dict:
    properties: Dict[str, Any] = {}
    for name, annotation, default, metadata in _fields(cls):
        schema = _annotation_schema(annotation, metadata)
        schema.update({key: metadata[key] for key in _METADATA if key in metadata})
        if default is not _NONE:
            schema["default"] = _json_value(default)
        properties[name] = schema
    schema = {"type": ["object", "null"] if nullable else "object", "properties": properties}
    if not open_keys:
        schema["additionalProperties"] = False
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def _annotation_schema(annotation, metadata: dict) -> dict:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        members = [arg for arg in args if arg is not type(None)]
        inner = _annotation_schema(members[0], metadata) if len(members) == 1 else {}
        return _nullable(inner) if type(None) in args else inner
    if origin is typing.Literal:
        kinds = sorted({_json_type(type(value)) for value in args})
        return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(args)}
    if origin in (tuple, list) or annotation in (tuple, list):
        item = args[0] if args else Any
        return {"type": "array", "items": _annotation_schema(item, {})}
    if origin in (dict, typing.Mapping) or annotation in (dict,):
        return {"type": ["object", "null"]}
    if annotation is Any:
        return {}
    if _is_config_class(annotation):
        return _class_schema(annotation, open_keys=bool(metadata.get("open")), nullable=True)
    return {"type": _json_type(annotation)}


def _json_type(python_type) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    if python_type not in kinds:
        raise ExportError(f"no JSON Schema type for {python_type!r}")
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
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value
