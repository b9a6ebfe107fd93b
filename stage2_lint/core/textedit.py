"""Line-level edits of block-style YAML that keep every comment and untouched line as it is.

Fixes never re-serialise a file: they cut, move and insert whole lines, then prove the
result by parsing it again (see fix.py and flatten.py).
"""
from __future__ import annotations


import yaml


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_content(line: str) -> bool:
    """A line that holds YAML content (not blank, not only a comment)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def block_span(lines: list[str], key_index: int) -> tuple[int, int]:
    """Lines [start, end) of the block-style entry whose key is on ``key_index``: the key
    line, every line up to its last deeper-indented content line (comments between them
    included, whatever their column), and the deeper comments right after it."""
    key_indent = indent_of(lines[key_index])
    last_content = key_index
    index = key_index + 1
    while index < len(lines):
        if is_content(lines[index]):
            if indent_of(lines[index]) <= key_indent:
                break
            last_content = index
        index += 1
    end = last_content + 1
    while end < index and lines[end].strip() and indent_of(lines[end]) > key_indent:
        end += 1
    return key_index, end


def dedent(lines: list[str], amount: int) -> list[str]:
    return [line[min(amount, indent_of(line)):] if line.strip() else line for line in lines]


def reindent(lines: list[str], amount: int) -> list[str]:
    return [(" " * amount + line) if line.strip() else line for line in lines]


def child_indent(lines: list[str], start: int, end: int, parent_indent: int) -> int:
    """The indentation of a block's children (parent + 2 when it has none yet)."""
    for line in lines[start + 1:end]:
        if is_content(line):
            return indent_of(line)
    return parent_indent + 2


def dump_entry(key, value, indent: int) -> list[str]:
    """``key: value`` as block YAML lines at ``indent`` (values keep their YAML types)."""
    text = yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, width=120, allow_unicode=True)
    return reindent(text.splitlines(keepends=True), indent)


def comment_lines(text: str) -> list[str]:
    """Every comment as written (whole-line and trailing), to check none is lost."""
    comments = []
    for token in _comment_tokens(text):
        comments.append(token)
    return sorted(comments)


def _comment_tokens(text: str):
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            yield stripped
        elif "#" in line:
            position = trailing_comment_start(line)
            if position is not None:
                yield line[position:].strip()


def trailing_comment_start(line: str):
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and index > 0 and line[index - 1] in " \t":
            return index
    return None


def trailing_comment_line(line: str, indent: int, newline: str) -> list[str]:
    """The trailing comment of ``line`` as a line of its own (none: an empty list)."""
    start = trailing_comment_start(line)
    return [" " * indent + line[start:].strip() + newline] if start is not None else []
