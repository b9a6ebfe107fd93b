from stage2_lint.core.escape import clip
from stage2_lint.checking.rule import Example, Rule
from stage2_lint.checking.rules.shared_examples import LEAF, LEAF_PATH, TREE


def check(ctx):
    if not ctx.is_leaf or not ctx.document.usable or ctx.contract.multiple_parents:
        return
    value = ctx.document.root.get("extends")
    if isinstance(value, list) and len(value) > 1:
        names = clip(", ".join(clip(str(item)) for item in value[:8]) + (", ..." if len(value) > 8 else ""))
        yield RULE.violation(ctx, ctx.document.root.key_marks["extends"],
                             f"canonical leaf extends {len(value)} parents ({names}); it must extend "
                             f"exactly {_parent(ctx)} and inline the rest",
                             key_path="extends")


def _parent(ctx) -> str:
    return repr(ctx.contract.required_parent) if ctx.contract.required_parent else "one parent"


RULE = Rule(
    code="S2L013",
    name="dual-parent",
    summary="A canonical leaf extends more than one parent.",
    rationale="With two parents the winner of every shared key depends on list order; a "
              "reader of the leaf cannot tell which smoke or prod value it runs with.",
    fix="Keep only the required parent in extends and inline the other parents' overrides "
        "(stage2-lint flatten does this and checks nothing changed).",
    settings=('multiple_parents',),
    check=check,
    passing=(Example(LEAF.replace("extends: ../base.yaml", "extends: [../base.yaml]"), path=LEAF_PATH, files=TREE),),
    failing=(Example(LEAF.replace("extends: ../base.yaml", "extends:\n  - ../base.yaml\n  - ../smoke.yaml"),
                     path=LEAF_PATH, files={**TREE, "configs/recipes/smoke.yaml": "training: {max_steps: 100}\n"},
                     marks=("1:1",),
                     fixed=LEAF.replace("  eval_steps: 80\n", "  eval_steps: 80\n  max_steps: 100\n")),),
)
