from stage2_lint.document import walk_marked
from stage2_lint.escape import dotted, shown
from stage2_lint.rule import Example, Rule

LEGACY = ("custom", "extra", "rollout_matching")


def check(ctx):
    if not ctx.document.usable:
        return
    yield from _inherited(ctx)
    found = ctx.document.find(LEGACY)
    if found is None:
        return
    value, mark = found
    current = ctx.document.find(("rollout_matching",))
    if not isinstance(value, dict) or not value:
        yield RULE.violation(ctx, mark, "custom.extra.rollout_matching is the retired rollout namespace; "
                                        "rollout knobs live under top-level rollout_matching",
                             key_path=".".join(LEGACY), fix="move custom.extra.rollout_matching to rollout_matching")
        return
    for keys, leaf, leaf_mark in walk_marked(value, LEGACY):
        old, new = dotted(keys), dotted(keys[2:])
        yield RULE.violation(ctx, leaf_mark, f"{old} is in the retired namespace; move it to {new}"
                                             f"{_conflict(current, keys[3:], leaf)}",
                             key_path=old, fix=f"move {old} to {new}")


def _inherited(ctx):
    """A file whose parents set the legacy namespace reads it too: one violation at its
    ``extends``, naming the first inherited key and where it is set."""
    if "extends" not in ctx.document.root or not _ancestor_has_legacy(ctx) or ctx.resolved is None:
        return
    inherited = [(keys, chain[-1]) for keys, chain in ctx.resolved.provenance.items()
                 if keys[:3] == LEGACY and len(keys) > 3 and chain[-1].path != ctx.path
                 and not isinstance(_value_at(ctx.resolved.config, keys), dict)]
    if inherited:
        keys, origin = min(inherited, key=lambda item: (item[1].path, item[1].line))
        old = dotted(keys)
        yield RULE.violation(ctx, ctx.document.root.key_marks["extends"],
                             f"inherits {len(inherited)} key(s) under the retired namespace, e.g. {old} from "
                             f"{origin.where()}; move them to rollout_matching in the parent "
                             f"(stage2-lint --fix {origin.path})", key_path=old)


def _ancestor_has_legacy(ctx) -> bool:
    """A cheap look at the parents' own text trees before any merge is paid for."""
    for parent in ctx.resolver.chain_files(ctx.path):
        doc = ctx.resolver.document(parent)
        if doc.usable and doc.find(LEGACY) is not None:
            return True
    return False


def _value_at(tree, keys):
    for key in keys:
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def _conflict(current, subkeys, legacy_value) -> str:
    node = current[0] if current else None
    for key in subkeys:
        if not isinstance(node, dict) or key not in node:
            return ""
        node = node[key]
    if node == legacy_value:
        return " (rollout_matching already has the same value: delete this one)"
    return f" (conflict: rollout_matching.{dotted(subkeys)} is {shown(node)}; keep one value)"


RULE = Rule(
    code="S2L030",
    name="legacy-rollout-namespace",
    summary="A rollout knob under the retired `custom.extra.rollout_matching` namespace.",
    rationale="Rollout knobs have one home, top-level `rollout_matching`. Reading two "
              "namespaces means two truths; the loader fails fast on the old one.",
    fix="Move the key to the same sub-path under top-level rollout_matching "
        "(stage2-lint --fix does this path-only relocation).",
    check=check,
    passing=(Example("rollout_matching:\n  decode_batch_size: 4\n"),
             Example("extends: base.yaml\n", files={"configs/stage2_ab/base.yaml": "rollout_matching: {x: 1}\n"})),
    failing=(Example("custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 4\n", marks=("4:7",)),
             Example("defaults: &d\n  extra:\n    rollout_matching: {decode_batch_size: 4}\ncustom:\n  <<: *d\n",
                     marks=("5:3",)),
             Example("extends: base.yaml\n",
                     files={"configs/stage2_ab/base.yaml": "custom: {extra: {rollout_matching: {x: 4}}}\n"},
                     marks=("1:1",))),
)
