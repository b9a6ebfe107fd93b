from stage2_lint.document import walk_marked
from stage2_lint.rule import Example, Rule

LEGACY = ("custom", "extra", "rollout_matching")


def check(ctx):
    if not ctx.document.usable:
        return
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
        old, new = ".".join(keys), ".".join(keys[2:])
        yield RULE.violation(ctx, leaf_mark, f"{old} is in the retired namespace; move it to {new}"
                                             f"{_conflict(current, keys[3:], leaf)}",
                             key_path=old, fix=f"move {old} to {new}")


def _conflict(current, subkeys, legacy_value) -> str:
    node = current[0] if current else None
    for key in subkeys:
        if not isinstance(node, dict) or key not in node:
            return ""
        node = node[key]
    if node == legacy_value:
        return " (rollout_matching already has the same value: delete this one)"
    return f" (conflict: rollout_matching.{'.'.join(subkeys)} is {node!r}; keep one value)"


RULE = Rule(
    code="S2L030",
    name="legacy-rollout-namespace",
    summary="A rollout knob under the retired `custom.extra.rollout_matching` namespace.",
    rationale="Rollout knobs have one home, top-level `rollout_matching`. Reading two "
              "namespaces means two truths; the loader fails fast on the old one.",
    fix="Move the key to the same sub-path under top-level rollout_matching "
        "(stage2-lint --fix does this path-only relocation).",
    check=check,
    passing=(Example("rollout_matching:\n  decode_batch_size: 4\n"),),
    failing=(Example("custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 4\n", marks=("4:7",)),
             Example("defaults: &d\n  extra:\n    rollout_matching: {decode_batch_size: 4}\ncustom:\n  <<: *d\n",
                     marks=("5:3",))),
)
