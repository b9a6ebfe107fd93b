"""``--fix`` for S2L030: move every key under a contract's moved prefix (``moved = old ->
new`` in its settings, e.g. ``custom.extra.sampler -> sampler``) to the new
top-level prefix, path-only, keeping comments, key order and untouched lines.

The edit is proven before it is offered: the new text must parse to exactly the old values
with the prefix relocated, and carry every comment of the old text.
"""
from __future__ import annotations

from collections.abc import Sequence

from stage2_lint.core.records import record
from stage2_lint.documents import keypath
from stage2_lint.core import textedit
from stage2_lint.documents.document import Document, load_text
from stage2_lint.core.escape import dotted
from stage2_lint.contracts.settings import Move
from stage2_lint.tree import layout


def moves_for(settings, path: str) -> tuple[Move, ...]:
    """The moved prefixes ``path`` obeys (the repository's and its contract's)."""
    return settings.moves_for(layout.contract_for(settings, path))


@record
class FixResult:
    path: str
    old: str
    new: str | None  # None: nothing to do, or refused (see problem)
    problem: str | None = None
    line: int = 1
    col: int = 1

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.old


def relocated(config: dict, moves: Sequence[Move]) -> dict:
    """``config`` with every moved prefix merged under its new top-level key (old values
    lose to none: a conflict is refused before this is used)."""
    for move in moves:
        config = _relocated_one(config, move)
    return config


def _relocated_one(config: dict, move: Move) -> dict:
    old = keypath.get(config, move.old)
    if old is keypath.MISSING:
        return config
    result = keypath.without(config, move.old)
    current = result.get(move.new[0])
    result[move.new[0]] = keypath.deep_merge(current, old) if isinstance(current, dict) and isinstance(old, dict) \
        else old
    return result


def fix_moved(doc: Document, moves: Sequence[Move]) -> FixResult:
    """Relocate every moved prefix in one file, one move after another."""
    result = FixResult(doc.path, doc.text, None)
    for move in moves:
        current = load_text(result.new, doc.path) if result.changed else doc
        step = _fix_one(current, move)
        if step.problem:
            return FixResult(doc.path, doc.text, None, step.problem, step.line, step.col)
        if step.changed:
            result = FixResult(doc.path, doc.text, step.new)
    return result


def _fix_one(doc: Document, move: Move) -> FixResult:
    if not doc.usable or doc.find(move.old) is None:
        return FixResult(doc.path, doc.text, None)
    legacy, (line, col) = doc.find(move.old)
    if len(move.new) != 1:
        return FixResult(doc.path, doc.text, None, f"moving to a nested prefix ({dotted(move.new)}) is not "
                                                   f"automated; move it by hand", line, col)
    refusal = _refusal(doc, legacy, move)
    if refusal:
        return FixResult(doc.path, doc.text, None, refusal, line, col)
    new_text = _move_block(doc, move)
    proof = _prove(doc, new_text, move)
    if proof:
        return FixResult(doc.path, doc.text, None, proof, line, col)
    return FixResult(doc.path, doc.text, new_text)


def _refusal(doc: Document, legacy, move: Move) -> str | None:
    lines = doc.text.splitlines(keepends=True)
    flow = _flow_section(doc, lines, move.old)
    if flow:
        return (f"{flow} is written in flow style ({{...}}); the fix moves block-style keys only: write it as "
                f"a block or move it by hand")
    for depth in range(1, len(move.old) + 1):
        _, (line, col) = doc.find(move.old[:depth])
        if not lines[line - 1][col - 1:].startswith(move.old[depth - 1]):
            return (f"{dotted(move.old[:depth])} is not written as a key of its own (it comes through a merge "
                    f"key or an alias); move it by hand")
    target = move.new[0]
    current = doc.root.get(target)
    if current is None:
        return None
    if not isinstance(current, dict) or not isinstance(legacy, dict):
        return f"{dotted((target,))} and {dotted(move.old)} are both set; keep one by hand"
    shared = sorted(set(current) & set(legacy), key=str)
    if shared:
        return (f"{dotted((target, shared[0]))} is set in both namespaces"
                f"{' to different values' if current[shared[0]] != legacy[shared[0]] else ''}; "
                f"keep one value by hand (nothing was changed in this file)")
    return None


def _flow_section(doc: Document, lines: list[str], keys) -> str | None:
    """The dotted name of the first mapping around ``keys`` written in flow style, if any."""
    node = doc.root
    for depth, key in enumerate(keys[:-1], start=1):
        line, col = node.value_marks[key]
        if lines[line - 1][col - 1:col] == "{":
            return dotted(keys[:depth])
        node = node[key]
    return None


def _move_block(doc: Document, move: Move) -> str:
    lines = doc.text.splitlines(keepends=True)
    newline = keypath.newline_of(lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    key_index = doc.find(move.old)[1][0] - 1
    start, end = textedit.block_span(lines, key_index)
    moved = textedit.dedent(lines[start:end], textedit.indent_of(lines[key_index]))
    moved[0] = move.new[0] + moved[0][len(move.old[-1]):]  # the key line, renamed (checked block style)
    del lines[start:end]
    for depth in range(len(move.old) - 1, 0, -1):  # parents the move left empty
        lines = _drop_if_empty(lines, doc, move.old[:depth])
    current = doc.find(move.new)
    if current is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return "".join(lines + ([newline] if lines else []) + moved)
    # The top-level target exists with disjoint keys: append the moved children to it.
    top_index = _line_of(lines, move.new[0])
    top_start, top_end = textedit.block_span(lines, top_index)
    indent = textedit.child_indent(lines, top_start, top_end, 0)
    children = textedit.reindent(textedit.dedent(moved[1:], textedit.indent_of(moved[1]) if len(moved) > 1 else 0),
                                 indent)
    header_comment = textedit.trailing_comment_line(moved[0], indent, newline)
    return "".join(lines[:top_end] + header_comment + children + lines[top_end:])


def _drop_if_empty(lines: list[str], doc: Document, keys) -> list[str]:
    """Remove the key line of a mapping left with no content; its comment survives."""
    name = keys[-1]
    expected_indent = doc.find(keys)[1][1] - 1
    for index, line in enumerate(lines):
        if textedit.indent_of(line) == expected_indent and line.strip().startswith(name + ":") \
                and _is_key_of(lines, index, keys, doc):
            start, end = textedit.block_span(lines, index)
            if any(textedit.is_content(other) for other in lines[start + 1:end]):
                return lines
            newline = keypath.newline_of([line])
            return lines[:index] + textedit.trailing_comment_line(line, expected_indent, newline) + lines[index + 1:]
    return lines


def _is_key_of(lines: list[str], index: int, keys, doc: Document) -> bool:
    """Is line ``index`` the key ``keys`` (and not a same-named key elsewhere)?"""
    if len(keys) == 1:
        return True
    parent_indent = doc.find(keys[:-1])[1][1] - 1
    for line in reversed(lines[:index]):
        if textedit.is_content(line) and textedit.indent_of(line) <= parent_indent:
            return line.strip().startswith(keys[-2] + ":")
    return False


def _line_of(lines: list[str], top_key: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(top_key + ":"))


def _prove(doc: Document, new_text: str, move: Move) -> str | None:
    after = load_text(new_text, doc.path)
    if not after.usable or after.problems:
        return "the relocation would not parse cleanly; move it by hand"
    if not keypath.exact_equal(after.root, relocated(doc.root, [move])):
        return "the relocation would change a resolved value; move it by hand"
    if textedit.comment_lines(new_text) != textedit.comment_lines(doc.text):
        return "the relocation would lose a comment; move it by hand"
    return None
