"""Load one YAML file safely into a tree whose every key and value knows its line:col.

Only PyYAML's SafeLoader family parses the text (the C one when libyaml is there), and the
tree is built from its event stream without recursion; nothing is ever constructed from a
tag outside the YAML core schema. Hostile input (oversized or
non-regular files, bad encoding, control characters, deep nesting, alias bombs, recursive
aliases, custom tags) becomes an S2L004 violation with a location, never an exception.
"""
from __future__ import annotations

import re
from functools import lru_cache

import yaml
from yaml.constructor import SafeConstructor

from stage2_lint.documents import keypath
from stage2_lint.core import reading
from stage2_lint.core.escape import shown
from stage2_lint.core.lazy import LazyPattern
from stage2_lint.core.records import Kind, Limits, Problem

try:  # libyaml parses several times faster; the pure parser is the fallback.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

Mark = keypath.Mark

# Python refuses to convert longer decimal literals (and converting them costs quadratic time).
MAX_INT_DIGITS = 4300

_CORE = "tag:yaml.org,2002:"
_MAP_TAG, _SEQ_TAG, _MERGE_TAG, _STR_TAG = _CORE + "map", _CORE + "seq", _CORE + "merge", _CORE + "str"
_NULL_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG = _CORE + "null", _CORE + "bool", _CORE + "int", _CORE + "float"
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
# Characters the YAML reader refuses (C0/C1 controls other than tab/LF/CR/NEL, surrogates),
# and the ASCII ones alone: most configs are ASCII, and the whole class costs 0.4 ms to compile.
_FORBIDDEN = LazyPattern("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same characters in a file's UTF-8 bytes, for what is read from disk: the C0 ones with the
# ASCII class (a byte of a wider character is never below 0x80), the C1 ones and U+FFFE/U+FFFF
# by their lead bytes, looked for only where those bytes occur (rare, and the search is slow);
# a strict UTF-8 decode has already refused the surrogates. No class over the surrogates is
# compiled for a file read from disk.
_FORBIDDEN_ASCII_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORBIDDEN_WIDE_UTF8 = re.compile(b"\xc2[\x80-\x84\x86-\x9f]|\xef\xbf[\xbe\xbf]")


def _first_forbidden(data: bytes):
    """The first forbidden character in UTF-8 ``data`` (a match), or None."""
    bad = _FORBIDDEN_ASCII_BYTES.search(data)
    if b"\xc2" in data or b"\xef\xbf" in data:
        wide = _FORBIDDEN_WIDE_UTF8.search(data, 0, len(data) if bad is None else bad.start())
        bad = wide or bad
    return bad


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
        self.item_marks: list[Mark] = []


class Document:
    """One loaded file: its text, its tree (None when unusable) and what went wrong."""

    __slots__ = ("path", "text", "root", "problems")

    def __init__(self, path: str, text: str = ""):
        self.path, self.text = path, text
        self.root: YMap | None = None
        self.problems: list[Problem] = []

    @property
    def usable(self) -> bool:
        return self.root is not None

    def find(self, keys) -> tuple | None:
        """The value at ``keys`` and the mark of its key, or None when absent."""
        return keypath.find(self.root, keys)

    def nearest_mark(self, keys) -> Mark:
        """Where ``keys`` is set, or else its deepest existing ancestor key, or else 1:1."""
        return keypath.nearest_mark(self.root, keys)


class _Refused(Exception):
    """Raised inside the walk to abandon a file; carries its problem."""

    def __init__(self, kind: Kind, mark: Mark, message: str):
        super().__init__(message)
        self.kind, self.mark, self.message = kind, mark, message


def load_document(path: str, limits: Limits = Limits()) -> Document:
    """Read and load ``path``; every failure is a problem in ``Document.problems``."""
    try:
        data = _read_regular_file(path, limits)
    except _Refused as refused:
        return _refused(Document(path=path), refused)
    return load_bytes(data, path, limits)


def load_bytes(data: bytes, path: str, limits: Limits = Limits()) -> Document:
    """Load a file's bytes already in memory (what a writer read and will compare against)."""
    try:
        if len(data) > limits.max_bytes:
            raise _Refused(Kind.UNSAFE_YAML, (1, 1), f"file is over the {limits.max_bytes}-byte limit for a config")
        data, text = _decode(data)
    except _Refused as refused:
        return _refused(Document(path=path), refused)
    bad = _first_forbidden(data)
    if bad:
        where = len(data[:bad.start()].decode("utf-8"))
        return _refused(Document(path=path, text=text), _forbidden(text, where, bad.group().decode("utf-8")))
    return _load_checked(text, path, limits)


def load_text(text: str, path: str = "<string>", limits: Limits = Limits()) -> Document:
    """Load text already in memory (the files above, tests, fuzzing, fix proofs)."""
    bad = (_FORBIDDEN_ASCII if text.isascii() else _FORBIDDEN).search(text)
    if bad:
        return _refused(Document(path=path, text=text), _forbidden(text, bad.start(), bad.group()))
    return _load_checked(text, path, limits)


def _load_checked(text: str, path: str, limits: Limits) -> Document:
    """Load ``text``, which holds no character a config may not hold."""
    doc = Document(path=path, text=text)
    try:
        doc.root = _Builder(path, limits, doc.problems).build(text)
    except _Refused as refused:
        _refused(doc, refused)
    if doc.root is not None and limits.key_aliases:
        doc.root = _read_aliases(doc.root, limits.key_aliases, doc.problems)
    return doc


def _read_aliases(root: YMap, aliases, problems: list[Problem]) -> YMap:
    """``root`` with each top-level alias key (``inherit``) renamed to the key it spells
    (``extends``), in place and with its marks, so every rule sees one name. Both spelled in
    one file is a duplicate key."""
    renamed = {alias: key for alias, key in aliases if alias in root}
    if not renamed:
        return root
    result = YMap(root.mark)
    for name, value in root.items():
        key = renamed.get(name, name)
        if key != name and key in root:
            line, col = root.key_marks[name]
            message = f"{shown(name)} is read as {shown(key)}, which this file also sets; keep one of them"
            problems.append(Problem(Kind.DUPLICATE_KEY, line, col, message, key))
            continue
        result[key] = value
        result.key_marks[key], result.value_marks[key] = root.key_marks[name], root.value_marks[name]
    return result


def _refused(doc: Document, refused: "_Refused") -> Document:
    line, col = refused.mark
    doc.problems.append(Problem(refused.kind, line, col, refused.message))
    return doc


def _read_regular_file(path: str, limits: Limits) -> bytes:
    try:
        return reading.read_bounded(path, limits.max_bytes, "config")
    except reading.ReadRefused as refused:
        raise _Refused(Kind.UNSAFE_YAML, (1, 1), str(refused)) from None


def _decode(data: bytes) -> tuple[bytes, str]:
    """The bytes without a BOM, and their text."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 BOM is harmless; dropping it keeps columns right
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, col = _mark_at(data[: error.start].decode("utf-8", "replace"), error.start)
        raise _Refused(Kind.UNSAFE_YAML, (line, col),
                       f"invalid UTF-8 (byte 0x{data[error.start]:02x}); configs must be UTF-8")
    return data, text


def _forbidden(text: str, index: int, char: str) -> _Refused:
    name = "NUL byte" if char == "\x00" else f"control character U+{ord(char):04X}"
    return _Refused(Kind.UNSAFE_YAML, _mark_at(text, index), f"{name} in file; configs must be plain text")


def _mark_at(text: str, index: int) -> Mark:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _yaml_mark(mark) -> Mark:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Frame:
    """A mapping or sequence being built; a mapping alternates between key and value."""

    __slots__ = ("node", "is_map", "anchor", "key", "key_mark", "merges")

    def __init__(self, node, is_map: bool, anchor: str | None):
        self.node, self.is_map, self.anchor = node, is_map, anchor
        self.key = _NO_KEY
        self.key_mark: Mark = (1, 1)
        self.merges: list = []


_NO_KEY, _MERGE = object(), object()


class _Builder:
    """Builds YMap/YSeq straight from the parser's event stream (never the recursive
    composer, so depth costs no stack), checking tags, depth, aliases and duplicate keys.

    An alias is copied with every mark set to where it is used, so a key smuggled in
    through ``<<: *defaults`` is reported on the line that merges it. Copies count against
    the node budget by what they weigh (nodes plus their text, see ``_weight``), which stops
    alias bombs early, including one long string used as thousands of keys.
    """

    def __init__(self, path: str, limits: Limits, problems: list[Problem]):
        self.path, self.limits, self.problems = path, limits, problems
        self.budget = limits.max_nodes
        self.anchors: dict = {}  # anchor -> (value, weight); weight None while the anchor is open
        self.stack: list[_Frame] = []
        self.root: YMap | None = None

    def build(self, text: str) -> YMap | None:
        loader = _Loader(text)
        try:
            self._consume(loader.get_event)
        except yaml.MarkedYAMLError as error:
            raise _refusal(error)
        except yaml.YAMLError as error:  # ReaderError and friends
            raise _Refused(Kind.UNSAFE_YAML, (1, 1), f"unreadable YAML: {error}".splitlines()[0])
        finally:
            loader.dispose()
        if self.root is None:
            raise _Refused(Kind.ROOT_NOT_MAPPING, (1, 1), "file has no content; a profile must be a mapping")
        return self.root

    def _consume(self, next_event) -> None:
        """The event loop; plain scalars, most of any config, take the shortest path."""
        documents = 0
        while True:
            event = next_event()
            cls = event.__class__
            if cls is _ScalarEvent:
                start = event.start_mark
                mark = (start.line + 1, start.column + 1)
                if event.tag is None and event.implicit[0]:
                    value = event.value
                    tag = _implicit_tag(value)
                    if tag is not _STR_TAG:
                        value = self._typed(tag, value, mark)
                else:
                    value = self._explicit(event, mark)
                frame = self.stack[-1] if self.stack else None
                if frame is not None and frame.is_map and event.anchor is None and value is not _MERGE:
                    # the common case, inline: a scalar key, or a scalar value for a scalar key
                    self.budget -= 1
                    if frame.key is _NO_KEY:
                        frame.key, frame.key_mark = value, mark
                    else:
                        self._set(frame, value, mark)
                else:
                    self._add(value, mark, 1, event.anchor)
            elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
                self._open(event, cls is _MappingStartEvent)
            elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
                self._close()
            elif cls is _AliasEvent:
                value, mark = self._alias(event)
                self._add(value, mark, 0, None)  # _alias has charged the copy
            elif cls is _DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Refused(Kind.ROOT_NOT_MAPPING, _mark(event),
                                   "more than one YAML document; a profile is one mapping")
            elif cls is _StreamEndEvent or event is None:
                return

    def _open(self, event, is_map: bool) -> None:
        mark = _mark(event)
        tag = event.tag
        if tag is not None and tag != "!" and tag != (_MAP_TAG if is_map else _SEQ_TAG):
            raise _tag_refusal(tag, mark)
        if not self.stack and not is_map:
            raise _Refused(Kind.ROOT_NOT_MAPPING, mark, "top level is a list; a profile must be a mapping")
        if self.stack and self.stack[-1].is_map and self.stack[-1].key is _NO_KEY:
            raise _Refused(Kind.UNSAFE_YAML, mark, "a mapping or list used as a key; config keys are plain scalars")
        if len(self.stack) >= self.limits.max_depth:
            raise _Refused(Kind.UNSAFE_YAML, mark, f"nesting deeper than {self.limits.max_depth} levels")
        self._spend(1, mark)
        node = YMap(mark) if is_map else YSeq(mark)
        self.stack.append(_Frame(node, is_map, event.anchor))
        if event.anchor is not None:
            self.anchors[event.anchor] = (node, None)

    def _close(self) -> None:
        frame = self.stack.pop()
        for merge_mark, source in frame.merges:
            self._merge(frame.node, merge_mark, source)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.node, _weight(frame.node))
        if self.stack:
            self._add(frame.node, frame.node.mark, 0, None)
        else:
            self.root = frame.node

    def _alias(self, event):
        mark = _mark(event)
        if event.anchor not in self.anchors:
            raise _Refused(Kind.YAML_SYNTAX, mark, f"alias *{event.anchor} refers to no anchor")
        value, size = self.anchors[event.anchor]
        if size is None:
            raise _Refused(Kind.UNSAFE_YAML, mark, "recursive alias (an anchor that contains itself)")
        self._spend(size, mark)
        return _copy_at(value, mark), mark

    def _spend(self, nodes: int, mark: Mark) -> None:
        self.budget -= nodes
        if self.budget < 0:
            raise _Refused(Kind.UNSAFE_YAML, mark, f"aliases expand past {self.limits.max_nodes} nodes (alias bomb?)")

    def _add(self, value, mark: Mark, size: int, anchor: str | None) -> None:
        """Place a finished value (``size`` nodes not yet counted) into the open collection."""
        if not self.stack:
            raise _Refused(Kind.ROOT_NOT_MAPPING, mark, "top level is a scalar; a profile must be a mapping")
        frame = self.stack[-1]
        self.budget -= size
        if anchor is not None:
            self.anchors[anchor] = (value, _weight(value))
        if not frame.is_map:
            frame.node.append(value)
            frame.node.item_marks.append(mark)
        elif frame.key is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise _Refused(Kind.UNSAFE_YAML, mark, "a mapping or list used as a key; config keys are plain scalars")
            frame.key, frame.key_mark = value, mark
        else:
            self._set(frame, value, mark)

    def _set(self, frame: _Frame, value, mark: Mark) -> None:
        key, key_mark, mapping = frame.key, frame.key_mark, frame.node
        frame.key = _NO_KEY
        if key is _MERGE:
            frame.merges.append((key_mark, value))
            return
        if key in mapping:
            first = mapping.key_marks[key][0]
            self.problems.append(Problem(Kind.DUPLICATE_KEY, key_mark[0], key_mark[1],
                                         f"duplicate key {shown(key)} (first set at line {first}); "
                                         f"YAML keeps only the last value"))
        mapping[key] = value
        mapping.key_marks[key] = key_mark
        mapping.value_marks[key] = mark

    def _merge(self, mapping: YMap, merge_mark: Mark, source) -> None:
        """``<<``: merged keys never override explicit ones; the first merged source wins."""
        for item in source if isinstance(source, list) else [source]:
            if not isinstance(item, dict):
                raise _Refused(Kind.YAML_SYNTAX, merge_mark, "'<<' merges mappings only")
            for key, value in item.items():
                if key not in mapping:
                    mapping[key] = _copy_at(value, merge_mark)
                    mapping.key_marks[key] = mapping.value_marks[key] = merge_mark

    def _typed(self, tag: str, value: str, mark: Mark):
        """An implicitly typed plain scalar (int, float, bool, null, timestamp, merge key)."""
        if tag == _MERGE_TAG:
            frame = self.stack[-1] if self.stack else None
            return _MERGE if frame is not None and frame.is_map and frame.key is _NO_KEY else value
        return _construct(tag, value, mark)

    def _explicit(self, event, mark: Mark):
        """A quoted or explicitly tagged scalar."""
        tag = event.tag
        if tag is None or tag == "!" or tag == _STR_TAG:
            return event.value  # quoted, the non-specific '!' tag, or !!str
        if tag not in _SCALARS:
            raise _tag_refusal(tag, mark)
        return _construct(tag, event.value, mark)


_ScalarEvent, _AliasEvent, _DocumentStartEvent = yaml.ScalarEvent, yaml.AliasEvent, yaml.DocumentStartEvent
_StreamEndEvent = yaml.StreamEndEvent
_MappingStartEvent, _MappingEndEvent = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStartEvent, _SequenceEndEvent = yaml.SequenceStartEvent, yaml.SequenceEndEvent


def _mark(event) -> Mark:
    start = event.start_mark
    return start.line + 1, start.column + 1


@lru_cache(maxsize=8192)
def _implicit_tag(value: str) -> str:
    """YAML 1.1 implicit typing of a plain scalar, from PyYAML's own resolver table
    (cached: configs repeat the same short values)."""
    for tag, regexp in _IMPLICIT.get(value[0] if value else "", _IMPLICIT_ANY):
        if regexp.match(value):
            return tag
    return _STR_TAG


_IMPLICIT_ANY = tuple(yaml.resolver.Resolver.yaml_implicit_resolvers.get(None, ()))
_IMPLICIT = {first: tuple(entries) + _IMPLICIT_ANY
             for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items() if first is not None}
_BOOLS = SafeConstructor.bool_values


def _construct(tag: str, value: str, mark: Mark):
    if tag == _INT_TAG and len(value) > MAX_INT_DIGITS:
        raise _Refused(Kind.VALUE_TYPE, mark, f"integer literal of {len(value)} characters; no config value needs "
                       f"more than {MAX_INT_DIGITS} digits")
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG and value.lower() in _BOOLS:
        return _BOOLS[value.lower()]
    if tag == _INT_TAG and value.isdigit() and (value[0] != "0" or value == "0"):
        return int(value)
    if tag == _FLOAT_TAG:
        try:
            return float(value)  # agrees with YAML wherever both parse; .inf, 1:30.5 and kin go below
        except ValueError:
            pass
    try:
        return _SCALARS[tag](yaml.ScalarNode(tag, value))
    except (ValueError, TypeError, KeyError, IndexError, yaml.YAMLError):
        raise _Refused(Kind.YAML_SYNTAX, mark, f"cannot read {shown(value)} as {_short_tag(tag)}")


# An alias copy is charged one node per this many characters of text it repeats, so what a
# file expands to (and any report quoting it) stays proportional to the file's own size.
_CHARS_PER_NODE = 64


def _weight(value) -> int:
    """Nodes in ``value`` plus its text in units of ``_CHARS_PER_NODE`` (no recursion)."""
    total, todo = 0, [value]
    while todo:
        item = todo.pop()
        total += 1
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str):
            total += len(item) // _CHARS_PER_NODE
    return total


def _copy_at(value, mark: Mark):
    """A deep copy of an aliased value whose every mark is ``mark`` (the use site)."""
    if isinstance(value, dict):
        copy = YMap(mark)
        for key, item in value.items():
            copy[key] = _copy_at(item, mark)
            copy.key_marks[key] = copy.value_marks[key] = mark
        return copy
    if isinstance(value, list):
        copy = YSeq(mark)
        copy.extend(_copy_at(item, mark) for item in value)
        copy.item_marks.extend([mark] * len(value))
        return copy
    return value


def _tag_refusal(tag: str, mark: Mark) -> _Refused:
    return _Refused(Kind.UNSAFE_YAML, mark, f"tag {_short_tag(tag)} is not allowed; configs use plain YAML values only")


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _refusal(error: yaml.MarkedYAMLError) -> _Refused:
    mark = _yaml_mark(error.problem_mark or error.context_mark)
    if "nesting depth" in str(error.problem):  # libyaml's own depth guard
        return _Refused(Kind.UNSAFE_YAML, mark, "nesting too deep (libyaml refuses past 1000 levels)")
    return _Refused(Kind.YAML_SYNTAX, mark, _describe(error))


def _describe(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return "invalid YAML: " + ", ".join(parts) if parts else "invalid YAML"
