from stage2_lint.core.escape import dotted, shown
from stage2_lint.checking.rule import Example, Rule
from stage2_lint.checking.rules.shared_examples import LEAF, LEAF_PATH, TREE


def check(ctx):
    if not ctx.is_leaf or not ctx.document.usable:
        return
    in_chain = ctx.contract.required_keys_in == "chain"
    for entry in ctx.contract.required_keys:
        options = [tuple(name.split(".")) for name in entry.split("|")]
        if any(ctx.document.find(keys) is not None for keys in options):
            continue
        named = " or ".join(dotted(keys) for keys in options)
        mark = ctx.document.nearest_mark(options[0])
        if not in_chain:
            yield RULE.violation(ctx, mark, f"{named} is not set in this leaf{_inherited(ctx, options[0])}; "
                                            f"canonical leaves pin it explicitly",
                                 key_path=dotted(options[0]), fix=f"set {dotted(options[0])} in the leaf itself")
        elif ctx.resolvable and all(ctx.origin(keys) is None for keys in options):
            yield RULE.violation(ctx, mark, f"{named} is set neither in this leaf nor anywhere in its chain",
                                 key_path=dotted(options[0]), fix=f"set {dotted(options[0])} in the leaf or a parent")


def _inherited(ctx, keys) -> str:
    if not ctx.resolvable:
        return ""
    origin = ctx.origin(keys)
    if origin is None:
        return " (nor anywhere in its chain)"
    return f" (it inherits {shown(origin.value)} from {origin.where()})"


RULE = Rule(
    code="S2L020",
    name="missing-explicit-key",
    summary="A canonical leaf does not itself set a required high-signal key.",
    rationale="Model, run identity, output dirs, learning rates, batch, eval/save policy and "
              "schedule decide what a run is. Pinned in the leaf, a reviewer sees them in one "
              "file, and a change to the base cannot silently retarget a run.",
    fix="Set the key in the leaf itself, even when the base has the same value.",
    settings=('required_keys', 'required_keys_in'),
    check=check,
    passing=(Example(LEAF, path=LEAF_PATH, files=TREE),),
    failing=(Example(LEAF.replace("  vit_lr: 2.0e-5\n", ""), path=LEAF_PATH, files=TREE, marks=("4:1",),
                     fixed=LEAF),
             Example(LEAF.replace("model:\n  model: ckpt/merged\n", ""), path=LEAF_PATH, files=TREE,
                     marks=("1:1",), fixed=LEAF)),
)
