"""Key paths over config trees: the one place that walks ``a.b.c`` into nested mappings.

Trees are plain dicts/lists or the positioned ``YMap``/``YSeq`` of ``document`` (whose
``key_marks``/``value_marks``/``item_marks`` say where each key and value stands). Keys are
tuples (``("training", "eval_steps")``); ``MISSING`` marks a key path that is not set.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

Mark = tuple[int, int]  # 1-based (line, col)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def get(tree, keys: Sequence) -> object:
    """The value at ``keys``, or MISSING."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return MISSING
        tree = tree[key]
    return tree


def find(tree, keys: Sequence) -> tuple[object, Mark] | None:
    """The value at ``keys`` and where its key is written, or None when it is not set."""
    node, mark = tree, (1, 1)
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node, mark = node[key], node.key_marks[key]
    return node, mark


def nearest_mark(tree, keys: Sequence) -> Mark:
    """Where ``keys`` is set, or else its deepest existing ancestor key, or else 1:1."""
    node, mark = tree, (1, 1)
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            break
        node, mark = node[key], node.key_marks[key]
    return mark


def value_mark(tree, keys: Sequence) -> Mark:
    """Where the value at ``keys`` is written (list items by their index as text)."""
    node, mark = tree, (1, 1)
    for key in keys:
        if isinstance(node, dict) and key in node:
            node, mark = node[key], node.value_marks[key]
        elif isinstance(node, list) and str(key).isdigit() and int(key) < len(node):
            node, mark = node[int(key)], node.item_marks[int(key)]
        else:
            break
    return mark


def leaves(tree: dict, prefix: tuple = ()) -> Iterator[tuple[tuple, object]]:
    """(key path, value) for every leaf; lists and empty mappings are leaves."""
    for key, value in tree.items():
        keys = prefix + (key,)
        if isinstance(value, dict) and value:
            yield from leaves(value, keys)
        else:
            yield keys, value


def marked_leaves(tree, prefix: tuple = ()) -> Iterator[tuple[tuple, object, Mark]]:
    """(key path, value, key mark) for every leaf of a positioned tree."""
    for key, value in tree.items():
        keys = prefix + (key,)
        if isinstance(value, dict) and value:
            yield from marked_leaves(value, keys)
        else:
            yield keys, value, tree.key_marks[key]


def deep_merge(base: dict, top: dict) -> dict:
    """``top`` over ``base`` into a new plain dict: mappings merge, the top wins, lists are
    replaced whole (the ``extends`` semantics)."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = plain(value)
    return merged


def plain(value):
    """A positioned value as plain dicts and lists (what ``yaml.safe_load`` would give)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def without(tree: dict, keys: tuple) -> dict:
    """A copy of ``tree`` without ``keys``; mappings the removal leaves empty go too."""
    result = dict(tree)
    if len(keys) == 1:
        del result[keys[0]]
        return result
    inner = without(tree[keys[0]], keys[1:])
    if inner:
        result[keys[0]] = inner
    else:
        del result[keys[0]]
    return result


def newline_of(lines: list[str]) -> str:
    """The line ending a file uses (its first line's), so edits keep CRLF files CRLF."""
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def exact_equal(left, right) -> bool:
    """Equal values of equal types all the way down: 1, 1.0, true and "1" are four different
    values (Python's ``==`` says 1 == 1.0 == True). The proofs of flatten and fix and the
    audit's diff compare with this."""
    if type(left) is not type(right) and not (isinstance(left, dict) and isinstance(right, dict)) \
            and not (isinstance(left, list) and isinstance(right, list)):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(exact_equal(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(exact_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, float) and left != left:  # NaN: the same value as itself here
        return right != right
    return left == right
