"""S2L030: a key under a prefix the contract or the repository moved (``moved = old -> new``), e.g. the retired
``custom.extra.sampler`` namespace, now top-level ``sampler``."""
from stage2_lint.core.escape import dotted, shown
from stage2_lint.documents.keypath import MISSING, get, marked_leaves
from stage2_lint.checking.rule import Example, Rule


def check(ctx):
    if not ctx.document.usable:
        return
    for move in ctx.moves:
        yield from _inherited(ctx, move)
        yield from _written_here(ctx, move)


def _written_here(ctx, move):
    found = ctx.document.find(move.old)
    if found is None:
        return
    value, mark = found
    old_name, new_name = dotted(move.old), dotted(move.new)
    if not isinstance(value, dict) or not value:
        yield RULE.violation(ctx, mark, f"{old_name} is the retired namespace; its keys live under {new_name}",
                             key_path=old_name, fix=f"move {old_name} to {new_name}")
        return
    current = ctx.document.find(move.new)
    for keys, leaf, leaf_mark in marked_leaves(value, move.old):
        old, new = dotted(keys), dotted(move.new + keys[len(move.old):])
        yield RULE.violation(ctx, leaf_mark, f"{old} is in the retired namespace; move it to {new}"
                                             f"{_conflict(current, move, keys[len(move.old):], leaf)}",
                             key_path=old, fix=f"move {old} to {new}")


def _inherited(ctx, move):
    """A file whose parents set a moved prefix reads it too: one violation at its
    ``extends``, naming the first inherited key and where it is set."""
    if "extends" not in ctx.document.root or not _ancestor_has(ctx, move.old) or ctx.resolved is None:
        return
    depth = len(move.old)
    inherited = [(keys, chain[-1]) for keys, chain in ctx.resolved.provenance.items()
                 if keys[:depth] == move.old and len(keys) > depth and chain[-1].path != ctx.path
                 and not isinstance(get(ctx.resolved.config, keys), dict)]
    if inherited:
        keys, origin = min(inherited, key=lambda item: (item[1].path, item[1].line))
        old = dotted(keys)
        yield RULE.violation(ctx, ctx.document.root.key_marks["extends"],
                             f"inherits {len(inherited)} key(s) under the retired namespace, e.g. {old} from "
                             f"{origin.where()}; move them to {dotted(move.new)} in the parent "
                             f"(stage2-lint --fix {origin.path})", key_path=old)


def _ancestor_has(ctx, keys) -> bool:
    """A cheap look at the parents' own text trees before any merge is paid for."""
    for parent in ctx.resolver.extends.chain_files(ctx.path):
        doc = ctx.resolver.documents.get(parent)
        if doc.usable and doc.find(keys) is not None:
            return True
    return False


def _conflict(current, move, subkeys, legacy_value) -> str:
    node = get(current[0], subkeys) if current else MISSING
    if node is MISSING:
        return ""
    if node == legacy_value:
        return f" ({dotted(move.new)} already has the same value: delete this one)"
    return f" (conflict: {dotted(move.new + subkeys)} is {shown(node)}; keep one value)"


RULE = Rule(
    code="S2L030",
    name="moved-key",
    summary="A key under a prefix the contract moved (e.g. the retired `custom.extra.sampler`).",
    rationale="A moved knob has one home. Reading two namespaces means two truths; the loader fails "
              "fast on the old one, naming the new path.",
    fix="Move the key to the same sub-path under the new prefix "
        "(stage2-lint --fix does this path-only relocation).",
    settings=('moved',),
    check=check,
    passing=(Example("sampler:\n  draw_batch_size: 4\n"),
             Example("extends: base.yaml\n", files={"configs/recipes/base.yaml": "sampler: {x: 1}\n"})),
    failing=(Example("custom:\n  extra:\n    sampler:\n      draw_batch_size: 4\n", marks=("4:7",),
                     fixed="sampler:\n  draw_batch_size: 4\n"),
             Example("defaults: &d\n  extra:\n    sampler: {draw_batch_size: 4}\ncustom:\n  <<: *d\n",
                     marks=("5:3",), fixed="sampler: {draw_batch_size: 4}\n"),
             Example("extends: base.yaml\n",
                     files={"configs/recipes/base.yaml": "custom: {extra: {sampler: {x: 4}}}\n"},
                     marks=("1:1",),
                     fixed_files={"configs/recipes/base.yaml": "sampler: {x: 4}\n"})),
)
