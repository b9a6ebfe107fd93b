"""``stage2-lint flatten LEAF``: rewrite a chained or dual-parent leaf as a one-hop leaf.

The new file extends only the canonical base (or ``--onto``), keeps the leaf's own lines and
comments, relocates keys under a moved prefix, and pins every required key and every value
where the old chain differs from the new parent. It is written only after its resolved
config is shown to equal the old one (resolved in memory, where it will live); otherwise
nothing is touched and the first differing key is named. The write itself goes through
``safe_write``: atomic, never through a symlink, refused if the target changed meanwhile.
"""
from __future__ import annotations

import os

from stage2_lint.core.records import record
from stage2_lint.core import paths, safe_write, textedit
from stage2_lint.documents.document import load_bytes, load_text
from stage2_lint.core.escape import dotted
from stage2_lint.editing.fix import fix_moved, relocated
from stage2_lint.tree.hierarchy import EXTENDS
from stage2_lint.tree.resolver import Resolver
from stage2_lint.documents.keypath import MISSING, deep_merge, exact_equal, get, newline_of
from stage2_lint.checking.rules import as_violations
from stage2_lint.contracts.settings import Settings
from stage2_lint.tree import layout


@record
class FlattenResult:
    path: str  # where the flattened profile goes
    text: str | None  # None when refused
    problem: str | None = None
    changed: tuple[str, ...] = ()  # profiles extending it that now resolve differently (--change-dependents)


def flatten(leaf: str, settings: Settings, onto: str | None = None, output: str | None = None,
            write: bool = True, change_dependents: bool = False) -> FlattenResult:
    """Flatten ``leaf`` into ``output`` (default: over itself). Refused, naming each one,
    when profiles that extend ``output`` would resolve differently, unless
    ``change_dependents`` says the user wants exactly that."""
    output = output or leaf
    try:
        source = safe_write.snapshot(leaf, settings.limits.max_bytes)
        target = source if output == leaf else safe_write.snapshot(output, settings.limits.max_bytes)
    except safe_write.WriteRefused as why:
        return FlattenResult(output, None, f"{output}: {why}")
    resolver = Resolver(settings)
    if source.data is not None:  # flatten the very bytes a write over the leaf will compare against
        resolver.documents.preload(leaf, load_bytes(source.data, leaf, settings.limits))
    old = resolver.merge.resolve(leaf)
    if old is None:
        problems = as_violations(leaf, resolver.extends.problems(leaf))
        return FlattenResult(output, None, f"cannot resolve {leaf}: {problems[0].format() if problems else 'unknown'}")
    contract = resolver.layout.of(output).contract
    required_parent = resolver.layout.required_parent_of(output, contract)
    if onto is None and required_parent is None:
        return FlattenResult(output, None, f"no contract names a required parent for {output}; pass --onto")
    parent = onto or paths.display(required_parent, output)
    new_parent = resolver.merge.resolve(parent)
    if new_parent is None:
        return FlattenResult(output, None, f"cannot resolve the new parent {parent}")
    moves = settings.moves_for(contract)
    text = _own_text_relocated(resolver, leaf, moves)
    if text is None:
        return FlattenResult(output, None, f"{leaf}: a moved key cannot be relocated automatically (see --fix)")
    text = _replace_extends(text, os.path.relpath(parent, os.path.dirname(output) or "."))
    wanted = relocated(old.config, moves)
    required = contract.required_keys if contract is not None else ()
    text, problem = _pin_differences(text, wanted, new_parent.config, required)
    if problem:
        return FlattenResult(output, None, problem)
    problem = _verify(text, output, settings, wanted)
    if problem:
        return FlattenResult(output, None, problem)
    changed = changed_dependents(resolver, output, text, settings)
    if changed and not change_dependents:
        return FlattenResult(output, None, (
            f"{output} is extended by {len(changed)} profile(s) whose resolved values would change: "
            f"{', '.join(changed[:10])}{' and more' if len(changed) > 10 else ''}; nothing was written "
            f"(pass --change-dependents to write it anyway)"))
    if write:
        data = (safe_write.BOM if source.has_bom else b"") + text.encode("utf-8")
        try:
            safe_write.replace(target, data, layout.config_root(settings, output))
        except safe_write.WriteRefused as why:
            return FlattenResult(output, None, f"{output} was not written: {why}")
    return FlattenResult(output, text, changed=tuple(changed))


def _own_text_relocated(resolver: Resolver, leaf: str, moves) -> str | None:
    doc = resolver.documents.get(leaf)
    result = fix_moved(doc, moves)
    if result.problem:
        return None
    return result.new if result.changed else doc.text


def _replace_extends(text: str, parent: str) -> str:
    """Point ``extends`` at ``parent`` alone, keeping any comment written inside the old value.
    The key is found by the parser, so ``"extends":`` or ``? extends`` is replaced, not kept
    beside a second one."""
    lines = text.splitlines(keepends=True)
    newline = newline_of(lines)
    line = f"extends: {parent}{newline}"
    doc = load_text(text)
    if not doc.usable or EXTENDS not in doc.root:
        return line + text
    index = doc.root.key_marks[EXTENDS][0] - 1
    start, end = textedit.block_span(lines, index)
    kept = [other for other in lines[start + 1:end] if other.strip().startswith("#")]
    comment = textedit.trailing_comment_line(lines[index], 0, newline)
    return "".join(lines[:start] + comment + kept + [line] + lines[end:])


def _pin_differences(text: str, wanted: dict, base: dict, required: tuple[str, ...]) -> tuple[str, str | None]:
    """Insert every key whose value the new chain would get wrong, and every required key.
    Each pass pins one key; a key that is still wrong after it was pinned cannot be made
    right by adding lines (a deep merge never removes what the parent sets), so the search
    ends there, in a refusal, after at most one pass per key."""
    pinned = set()
    while True:
        doc = load_text(text)
        if not doc.usable:
            return text, f"flattening produced unparsable YAML: {doc.problems[0].message}"
        own = {k: v for k, v in doc.root.items() if k != EXTENDS}
        target = _first_gap(wanted, deep_merge(base, own), own, required)
        if target is None:
            return text, None
        keys, value = target
        if value is MISSING:
            return text, (f"{dotted(keys)} is set by the new parent but not by the old chain; "
                          f"flatten cannot unset it")
        if keys in pinned or get(own, keys) is not MISSING:
            return text, (f"{dotted(keys)} would still differ from the old chain's value with the leaf's own "
                          f"value in place (the new parent sets keys below it); flatten cannot unset them")
        pinned.add(keys)
        text, problem = _insert(text, doc, keys, value)
        if problem:
            return text, problem


def _first_gap(wanted, candidate, own, required) -> tuple[tuple, object] | None:
    for name in required:
        keys = tuple(name.split("."))
        if get(own, keys) is MISSING and get(wanted, keys) is not MISSING:
            return keys, get(wanted, keys)
    return _difference(wanted, candidate, ())


def _difference(wanted, candidate, prefix) -> tuple[tuple, object] | None:
    for key, value in wanted.items():
        keys = prefix + (key,)
        other = candidate.get(key, MISSING) if isinstance(candidate, dict) else MISSING
        if isinstance(value, dict) and isinstance(other, dict) and value:
            found = _difference(value, other, keys)
            if found:
                return found
        elif other is MISSING or not exact_equal(other, value):
            return keys, value
    if isinstance(candidate, dict):
        for key in candidate:
            if key not in wanted:
                return prefix + (key,), MISSING
    return None


def _insert(text: str, doc, keys: tuple, value) -> tuple[str, str | None]:
    """Add ``keys: value`` at the end of its deepest existing block-style mapping."""
    lines = text.splitlines(keepends=True)
    newline = newline_of(lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    depth = 0
    while depth < len(keys) - 1 and isinstance(get(doc.root, keys[:depth + 1]), dict):
        depth += 1
    if depth < len(keys) - 1 and get(doc.root, keys[:depth + 1]) is not MISSING:
        return text, f"{dotted(keys[:depth + 1])} is not a mapping in the leaf; cannot pin {dotted(keys)}"
    nested = value
    for key in reversed(keys[depth + 1:]):
        nested = {key: nested}
    if depth == 0:
        entry = textedit.dump_entry(keys[0], nested, 0)
        return "".join(lines + [line.replace("\n", newline) if newline != "\n" else line for line in entry]), None
    line = doc.find(keys[:depth])[1][0]
    start, end = textedit.block_span(lines, line - 1)
    if end == start + 1 and lines[start].rstrip().endswith(("}", "]")):
        return text, f"{dotted(keys[:depth])} is written in flow style; pin {dotted(keys)} by hand"
    indent = textedit.child_indent(lines, start, end, textedit.indent_of(lines[start]))
    entry = textedit.dump_entry(keys[depth], nested, indent)
    if newline != "\n":
        entry = [line.replace("\n", newline) for line in entry]
    return "".join(lines[:end] + entry + lines[end:]), None


def _verify(text: str, output: str, settings: Settings, wanted: dict) -> str | None:
    """Resolve the candidate as if it stood at ``output`` (in memory: nothing is written);
    it must load without a problem (no duplicate key) and equal the old resolved config,
    type for type."""
    candidate = load_text(text, output, settings.limits)
    if candidate.problems:
        first = candidate.problems[0]
        return f"the flattened profile would have a problem at line {first.line}: {first.message}; nothing was written"
    resolver = Resolver(settings)
    resolver.documents.preload(output, candidate)
    resolved = resolver.merge.resolve(output)
    if resolved is None:
        return "the flattened profile does not resolve; nothing was written"
    found = _difference(wanted, resolved.config, ())
    if found:
        return f"the flattened profile would change {dotted(found[0])}; nothing was written"
    return None


def changed_dependents(before: Resolver, output: str, text: str, settings: Settings) -> list[str]:
    """Every profile in ``output``'s config tree that extends it (directly or through
    others) and whose resolved config would change if ``output`` held ``text``, each with
    the first key that would change."""
    from stage2_lint.checking.engine import discover

    target = paths.canonical(output)
    after = Resolver(settings)
    after.documents.preload(output, load_text(text, output, settings.limits))
    changed = []
    for path in discover([layout.config_root(settings, output)], settings, [], []):
        chain = {paths.canonical(parent) for parent in before.extends.chain_files(path)}
        if paths.canonical(path) == target or target not in chain:
            continue
        old, new = before.merge.resolve(path), after.merge.resolve(path)
        if old is None and new is None:
            continue
        if old is None or new is None:
            how = "would no longer resolve" if new is None else "would now resolve"
            changed.append(f"{paths.display(path, output)} ({how})")
            continue
        found = _difference(old.config, new.config, ()) or _difference(new.config, old.config, ())
        if found:
            changed.append(f"{paths.display(path, output)} ({dotted(found[0])})")
    return changed
