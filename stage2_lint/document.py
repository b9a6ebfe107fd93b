"""Load one YAML file safely into a tree whose every key and value knows its line:col.

Only PyYAML's SafeLoader family composes the text (the C one when libyaml is there); nothing
is ever constructed from a tag outside the YAML core schema. Hostile input (oversized or
non-regular files, bad encoding, control characters, deep nesting, alias bombs, recursive
aliases, custom tags) becomes an S2L004 violation with a location, never an exception.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Iterator, List, NamedTuple, Optional, Tuple

import yaml
from yaml.constructor import SafeConstructor

from stage2_lint.violation import Violation

try:  # libyaml composes several times faster; the pure loader is the fallback.
    from yaml import CSafeLoader as _Loader

    # The C composer recurses in C: 20,000 levels were seen to work, 50,000 to segfault.
    _SAFE_COMPOSE_DEPTH = 10_000
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

    # The pure composer spends about four Python frames per level.
    _SAFE_COMPOSE_DEPTH = 150

Mark = Tuple[int, int]  # 1-based (line, col)

SYNTAX, DUPLICATE, NOT_MAPPING, UNSAFE = "S2L001", "S2L002", "S2L003", "S2L004"

_CORE = "tag:yaml.org,2002:"
_MAP_TAG, _SEQ_TAG, _MERGE_TAG, _STR_TAG = _CORE + "map", _CORE + "seq", _CORE + "merge", _CORE + "str"
_ScalarNode, _MappingNode = yaml.ScalarNode, yaml.MappingNode
_constructor = SafeConstructor()
# Core-schema scalars, constructed exactly as yaml.safe_load would.
_SCALARS = {
    _CORE + "str": None,  # fast path: the node's own text
    _CORE + "null": _constructor.construct_yaml_null,
    _CORE + "bool": _constructor.construct_yaml_bool,
    _CORE + "int": _constructor.construct_yaml_int,
    _CORE + "float": _constructor.construct_yaml_float,
    _CORE + "timestamp": _constructor.construct_yaml_timestamp,
}
# Characters the YAML reader refuses (C0/C1 controls other than tab/LF/CR/NEL, surrogates).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


class Limits(NamedTuple):
    """What one file may cost. Configs are a few KB and a few levels deep."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_nodes: int = 50_000  # nodes built, counting every alias expansion


class YMap(dict):
    """A mapping that remembers where each key and value stands in its file."""

    __slots__ = ("mark", "key_marks", "value_marks")

    def __init__(self, mark: Mark):
        super().__init__()
        self.mark = mark
        self.key_marks: dict = {}
        self.value_marks: dict = {}


class YSeq(list):
    """A sequence that remembers where each item stands in its file."""

    __slots__ = ("mark", "item_marks")

    def __init__(self, mark: Mark):
        super().__init__()
        self.mark = mark
        self.item_marks: List[Mark] = []


class Document:
    """One loaded file: its text, its tree (None when unusable) and what went wrong."""

    __slots__ = ("path", "text", "root", "problems")

    def __init__(self, path: str, text: str = ""):
        self.path, self.text = path, text
        self.root: Optional[YMap] = None
        self.problems: List[Violation] = []

    @property
    def usable(self) -> bool:
        return self.root is not None

    def find(self, keys) -> Optional[tuple]:
        """The value at ``keys`` and the mark of its key, or None when absent."""
        node, mark = self.root, (1, 1)
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node, mark = node[key], node.key_marks[key]
        return node, mark

    def nearest_mark(self, keys) -> Mark:
        """Where ``keys`` is set, or else its deepest existing ancestor key, or else 1:1."""
        node, mark = self.root, (1, 1)
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                break
            node, mark = node[key], node.key_marks[key]
        return mark


class _Refused(Exception):
    """Raised inside the walk to abandon a file; carries its violation."""

    def __init__(self, code: str, mark: Mark, message: str):
        super().__init__(message)
        self.code, self.mark, self.message = code, mark, message


def load_document(path: str, limits: Limits = Limits()) -> Document:
    """Read and load ``path``; every failure is a violation in ``Document.problems``."""
    doc = Document(path=path)
    try:
        data = _read_regular_file(path, limits)
        doc.text = _decode(data)
        doc.root = _Builder(path, limits, doc.problems).build(doc.text)
    except _Refused as refused:
        line, col = refused.mark
        doc.problems.append(Violation(path, line, col, refused.code, refused.message))
    return doc


def load_text(text: str, path: str = "<string>", limits: Limits = Limits()) -> Document:
    """Like :func:`load_document` for text already in memory (tests, fuzzing, the guard)."""
    doc = Document(path=path, text=text)
    try:
        _check_characters(text)
        doc.root = _Builder(path, limits, doc.problems).build(text)
    except _Refused as refused:
        line, col = refused.mark
        doc.problems.append(Violation(path, line, col, refused.code, refused.message))
    return doc


def _read_regular_file(path: str, limits: Limits) -> bytes:
    try:
        info = os.stat(path)
    except OSError as error:
        raise _Refused(UNSAFE, (1, 1), f"cannot read file: {error.strerror}")
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO blocks and a device may never end: refuse before reading.
        raise _Refused(UNSAFE, (1, 1), "not a regular file (FIFO, device or socket); refusing to read it")
    if info.st_size > limits.max_bytes:
        raise _Refused(UNSAFE, (1, 1),
                       f"file is {info.st_size} bytes, over the {limits.max_bytes}-byte limit for a config")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as error:
        raise _Refused(UNSAFE, (1, 1), f"cannot read file: {error.strerror}")
    if len(data) > limits.max_bytes:  # grew since stat
        raise _Refused(UNSAFE, (1, 1), f"file is over the {limits.max_bytes}-byte limit for a config")
    return data


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 BOM is harmless; dropping it keeps columns right
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, col = _mark_at(data[: error.start].decode("utf-8", "replace"), error.start)
        raise _Refused(UNSAFE, (line, col), f"invalid UTF-8 (byte 0x{data[error.start]:02x}); configs must be UTF-8")
    _check_characters(text)
    return text


def _check_characters(text: str) -> None:
    bad = _FORBIDDEN.search(text)
    if bad:
        name = "NUL byte" if bad.group() == "\x00" else f"control character U+{ord(bad.group()):04X}"
        raise _Refused(UNSAFE, _mark_at(text, bad.start()), f"{name} in file; configs must be plain text")


def _mark_at(text: str, index: int) -> Mark:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _yaml_mark(mark) -> Mark:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Builder:
    """Turns composed nodes into YMap/YSeq, checking tags, depth, aliases and duplicates."""

    def __init__(self, path: str, limits: Limits, problems: List[Violation]):
        self.path, self.limits, self.problems = path, limits, problems
        self.budget = limits.max_nodes
        self.seen: set = set()  # ids of nodes already built once: later visits are aliases
        self.active: set = set()  # ids of nodes on the current path: a revisit is recursion

    def build(self, text: str) -> Optional[YMap]:
        node = self._compose(text)
        if node is None:
            raise _Refused(NOT_MAPPING, (1, 1), "file has no content; a profile must be a mapping")
        if not isinstance(node, yaml.MappingNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a scalar"
            raise _Refused(NOT_MAPPING, _yaml_mark(node.start_mark),
                           f"top level is {kind}; a profile must be a mapping")
        return self._node(node, 1, None)

    def _compose(self, text: str):
        if _rough_depth_bound(text) > _SAFE_COMPOSE_DEPTH:
            self._check_depth_by_events(text)
        try:
            return yaml.compose(text, Loader=_Loader)
        except yaml.composer.ComposerError as error:
            if "single document" in str(error.context):
                raise _Refused(NOT_MAPPING, _yaml_mark(error.problem_mark),
                               "more than one YAML document; a profile is one mapping")
            raise _Refused(SYNTAX, _yaml_mark(error.problem_mark), _describe(error))
        except yaml.MarkedYAMLError as error:
            raise _refusal(error)
        except yaml.YAMLError as error:  # ReaderError and friends
            raise _Refused(UNSAFE, (1, 1), f"unreadable YAML: {error}".splitlines()[0])
        except RecursionError:
            raise _Refused(UNSAFE, (1, 1), f"nesting too deep to parse (limit {self.limits.max_depth} levels)")

    def _check_depth_by_events(self, text: str) -> None:
        """Exact depth from the (non-recursive) event parser, before the recursive composer."""
        depth = 0
        try:
            for event in yaml.parse(text, Loader=_Loader):
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > self.limits.max_depth:
                        raise _Refused(UNSAFE, _yaml_mark(event.start_mark),
                                       f"nesting deeper than {self.limits.max_depth} levels")
                elif isinstance(event, yaml.CollectionEndEvent):
                    depth -= 1
        except yaml.MarkedYAMLError as error:
            raise _refusal(error)

    def _node(self, node, depth: int, site: Optional[Mark]):
        """Build a mapping or sequence. ``site`` is the alias use-site every mark inside reports."""
        node_id = id(node)
        mark = site or _yaml_mark(node.start_mark)
        if node_id in self.active:
            raise _Refused(UNSAFE, mark, "recursive alias (an anchor that contains itself)")
        if depth > self.limits.max_depth:
            raise _Refused(UNSAFE, mark, f"nesting deeper than {self.limits.max_depth} levels")
        self.budget -= 1 + len(node.value)
        if self.budget < 0:
            raise _Refused(UNSAFE, mark, f"aliases expand past {self.limits.max_nodes} nodes (alias bomb?)")
        self.seen.add(node_id)  # ids stay unique: the composed root keeps every node alive
        self.active.add(node_id)
        try:
            if node.__class__ is _MappingNode:
                return self._mapping(node, depth, site, mark)
            return self._sequence(node, depth, site, mark)
        finally:
            self.active.discard(node_id)

    def _child(self, node, depth: int, site: Optional[Mark], holder: Mark):
        """Build a child node and return it with its mark; scalars take the short path."""
        node_id = id(node)
        if site is None and node_id in self.seen:
            site = holder  # met a second time, so reached through an alias: report where it is used
        if node.__class__ is not _ScalarNode:
            value = self._node(node, depth, site)
            return value, value.mark
        self.seen.add(node_id)
        mark = site or (node.start_mark.line + 1, node.start_mark.column + 1)
        return (node.value if node.tag == _STR_TAG else self._scalar(node, mark)), mark

    def _scalar(self, node, mark: Mark):
        tag = node.tag
        if tag not in _SCALARS:
            raise _tag_refusal(tag, mark)
        construct = _SCALARS[tag]
        if construct is None:
            return node.value
        try:
            return construct(node)
        except (ValueError, TypeError, yaml.YAMLError):
            raise _Refused(SYNTAX, mark, f"cannot read {node.value!r} as {_short_tag(tag)}")

    def _sequence(self, node, depth, site, mark):
        if node.tag != _SEQ_TAG:
            raise _tag_refusal(node.tag, mark)
        seq = YSeq(mark)
        for item in node.value:
            value, item_mark = self._child(item, depth + 1, site, mark)
            seq.append(value)
            seq.item_marks.append(item_mark)
        return seq

    def _mapping(self, node, depth, site, mark):
        if node.tag != _MAP_TAG:
            raise _tag_refusal(node.tag, mark)
        mapping = YMap(mark)
        key_marks, value_marks = mapping.key_marks, mapping.value_marks
        merges = []
        for key_node, value_node in node.value:
            if site is None:
                start = key_node.start_mark
                key_mark = (start.line + 1, start.column + 1)
            else:
                key_mark = site
            tag = key_node.tag
            if tag == _MERGE_TAG:
                merges.append((key_mark, value_node))
                continue
            if key_node.__class__ is not _ScalarNode:
                raise _Refused(UNSAFE, key_mark, "a mapping or list used as a key; config keys are plain scalars")
            key = key_node.value if tag == _STR_TAG else self._scalar(key_node, key_mark)
            if key in mapping and site is None:  # report once, not at every alias expansion
                self.problems.append(Violation(self.path, key_mark[0], key_mark[1], DUPLICATE,
                                               f"duplicate key {key!r} (first set at line {key_marks[key][0]}); "
                                               f"YAML keeps only the last value", fix="delete one of the two entries"))
            mapping[key], value_marks[key] = self._child(value_node, depth + 1, site, key_mark)
            key_marks[key] = key_mark
        for merge_mark, value_node in merges:
            self._merge(mapping, merge_mark, value_node, depth)
        return mapping

    def _merge(self, mapping: YMap, merge_mark: Mark, value_node, depth: int) -> None:
        """``<<``: merged keys never override explicit ones; the first merged source wins."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise _Refused(SYNTAX, merge_mark, "'<<' merges mappings only")
            built, _ = self._child(source, depth + 1, None, merge_mark)
            for key, value in built.items():
                if key not in mapping:
                    mapping[key] = value
                    mapping.key_marks[key] = merge_mark
                    mapping.value_marks[key] = merge_mark


def _rough_depth_bound(text: str) -> int:
    """A cheap upper bound on nesting depth: flow brackets, plus block levels, which each
    need a deeper column (at most twice per column, for a list under a key)."""
    widest = max(map(len, text.split("\n"))) if text else 0
    return text.count("[") + text.count("{") + 2 * widest + 2


def _tag_refusal(tag: str, mark: Mark) -> _Refused:
    return _Refused(UNSAFE, mark, f"tag {_short_tag(tag)} is not allowed; configs use plain YAML values only")


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _refusal(error: yaml.MarkedYAMLError) -> _Refused:
    mark = _yaml_mark(error.problem_mark or error.context_mark)
    if "nesting depth" in str(error.problem):  # libyaml's own depth guard
        return _Refused(UNSAFE, mark, "nesting too deep (libyaml refuses past 1000 levels)")
    return _Refused(SYNTAX, mark, _describe(error))


def _describe(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return "invalid YAML: " + ", ".join(parts) if parts else "invalid YAML"


def walk_leaves(tree, prefix: tuple = ()) -> Iterator[Tuple[tuple, object]]:
    """Every (key path, value) whose value is not a non-empty mapping."""
    for key, value in tree.items():
        path = prefix + (key,)
        if isinstance(value, dict) and value:
            yield from walk_leaves(value, path)
        else:
            yield path, value


def walk_marked(tree: YMap, prefix: tuple = ()) -> Iterator[Tuple[tuple, object, Mark]]:
    """Like :func:`walk_leaves`, with the mark of each leaf's key."""
    for key, value in tree.items():
        path = prefix + (key,)
        if isinstance(value, dict) and value:
            yield from walk_marked(value, path)
        else:
            yield path, value, tree.key_marks[key]
