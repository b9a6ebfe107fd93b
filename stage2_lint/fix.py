"""``--fix`` for S2L030: move ``custom.extra.rollout_matching`` to top-level
``rollout_matching``, path-only, keeping comments, key order and untouched lines.

The edit is proven before it is offered: the new text must parse to exactly the old values
with the namespace relocated, and carry every comment of the old text.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional

from stage2_lint import textedit
from stage2_lint.document import Document, load_text

LEGACY = ("custom", "extra", "rollout_matching")


class FixResult(NamedTuple):
    path: str
    old: str
    new: Optional[str]  # None: nothing to do, or refused (see problem)
    problem: Optional[str] = None
    line: int = 1
    col: int = 1

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.old


def relocated(config: dict) -> dict:
    """``config`` with the legacy namespace merged under top-level ``rollout_matching``
    (legacy values lose to none: a conflict is refused before this is used)."""
    from stage2_lint.hierarchy import _overlay

    custom = config.get("custom")
    extra = custom.get("extra") if isinstance(custom, dict) else None
    if not isinstance(extra, dict) or "rollout_matching" not in extra:
        return config
    result = dict(config)
    result["custom"] = dict(custom)
    result["custom"]["extra"] = {k: v for k, v in extra.items() if k != "rollout_matching"}
    legacy = extra["rollout_matching"]  # noqa: S2P001 -- the fix reads the old namespace to move it
    current = config.get("rollout_matching")
    result["rollout_matching"] = _overlay(current, legacy) if isinstance(current, dict) and isinstance(legacy, dict) \
        else legacy
    if not result["custom"]["extra"]:
        del result["custom"]["extra"]
        if not result["custom"]:
            del result["custom"]
    return result


def fix_legacy_namespace(doc: Document) -> FixResult:
    if not doc.usable or doc.find(LEGACY) is None:
        return FixResult(doc.path, doc.text, None)
    legacy, (line, col) = doc.find(LEGACY)
    refusal = _refusal(doc, legacy)
    if refusal:
        return FixResult(doc.path, doc.text, None, refusal, line, col)
    new_text = _move_block(doc)
    proof = _prove(doc, new_text)
    if proof:
        return FixResult(doc.path, doc.text, None, proof, line, col)
    return FixResult(doc.path, doc.text, new_text)


def _refusal(doc: Document, legacy) -> Optional[str]:
    lines = doc.text.splitlines(keepends=True)
    for depth in range(1, len(LEGACY) + 1):
        _, (line, col) = doc.find(LEGACY[:depth])
        if not lines[line - 1][col - 1:].startswith(LEGACY[depth - 1]):
            return (f"{'.'.join(LEGACY[:depth])} is not written as a block-style key (merge key, flow style "
                    f"or alias); move it by hand")
    current = doc.root.get("rollout_matching")
    if current is None:
        return None
    if not isinstance(current, dict) or not isinstance(legacy, dict):
        return "rollout_matching and custom.extra.rollout_matching are both set; keep one by hand"
    shared = sorted(set(current) & set(legacy), key=str)
    if shared:
        return (f"rollout_matching.{shared[0]} is set in both namespaces"
                f"{' to different values' if current[shared[0]] != legacy[shared[0]] else ''}; "
                f"keep one value by hand (nothing was changed in this file)")
    return None


def _move_block(doc: Document) -> str:
    lines = doc.text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    key_index = doc.find(LEGACY)[1][0] - 1
    start, end = textedit.block_span(lines, key_index)
    moved = textedit.dedent(lines[start:end], textedit.indent_of(lines[key_index]))
    del lines[start:end]
    lines = _drop_if_empty(lines, doc, ("custom", "extra"))
    lines = _drop_if_empty(lines, doc, ("custom",))
    current = doc.find(("rollout_matching",))
    if current is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return "".join(lines + ([newline] if lines else []) + moved)
    # Top-level rollout_matching exists with disjoint keys: append the moved children to it.
    top_index = _line_of(lines, "rollout_matching")
    top_start, top_end = textedit.block_span(lines, top_index)
    indent = textedit.child_indent(lines, top_start, top_end, 0)
    children = textedit.reindent(textedit.dedent(moved[1:], textedit.indent_of(moved[1]) if len(moved) > 1 else 0),
                                 indent)
    header_comment = textedit.trailing_comment_line(moved[0], indent, newline)
    return "".join(lines[:top_end] + header_comment + children + lines[top_end:])


def _drop_if_empty(lines: List[str], doc: Document, keys) -> List[str]:
    """Remove the key line of a mapping left with no content; its comment survives."""
    name = keys[-1]
    expected_indent = doc.find(keys)[1][1] - 1
    for index, line in enumerate(lines):
        if textedit.indent_of(line) == expected_indent and line.strip().startswith(name + ":") \
                and _is_key_of(lines, index, keys, doc):
            start, end = textedit.block_span(lines, index)
            if any(textedit.is_content(other) for other in lines[start + 1:end]):
                return lines
            newline = "\r\n" if line.endswith("\r\n") else "\n"
            return lines[:index] + textedit.trailing_comment_line(line, expected_indent, newline) + lines[index + 1:]
    return lines


def _is_key_of(lines: List[str], index: int, keys, doc: Document) -> bool:
    """Is line ``index`` the key ``keys`` (and not a same-named key elsewhere)?"""
    if len(keys) == 1:
        return True
    parent_indent = doc.find(keys[:-1])[1][1] - 1
    for line in reversed(lines[:index]):
        if textedit.is_content(line) and textedit.indent_of(line) <= parent_indent:
            return line.strip().startswith(keys[-2] + ":")
    return False


def _line_of(lines: List[str], top_key: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(top_key + ":"))


def _prove(doc: Document, new_text: str) -> Optional[str]:
    after = load_text(new_text, doc.path)
    if not after.usable or after.problems:
        return "the relocation would not parse cleanly; move it by hand"
    if after.root != relocated(doc.root):
        return "the relocation would change a resolved value; move it by hand"
    if textedit.comment_lines(new_text) != textedit.comment_lines(doc.text):
        return "the relocation would lose a comment; move it by hand"
    return None
