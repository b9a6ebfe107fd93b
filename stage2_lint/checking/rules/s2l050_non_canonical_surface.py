import os

from stage2_lint.core.escape import shown
from stage2_lint.checking.rule import Example, Rule
from stage2_lint.checking.rules.shared_examples import BASE, LEAF, LEAF_PATH, TREE


def check(ctx):
    if not ctx.document.usable:
        return
    base = repr(ctx.contract.required_parent) if ctx.contract and ctx.contract.required_parent else "the base"
    if ctx.is_canonical and ctx.is_retired(ctx.path):
        yield RULE.violation(ctx, (1, 1), "retired parent on the canonical surface; fold its values into "
                                          f"{base} and the leaves, then delete it")
    elif ctx.is_canonical and not _one_hop(ctx):
        children = ctx.canonical_children()  # a conforming leaf is no culprit: its children are S2L012's
        if children:
            yield RULE.violation(ctx, (1, 1), f"intermediate parent on the canonical surface (extended by "
                                              f"{', '.join(children)}); only one-hop leaves live here")
    for ref in ctx.resolver.extends.parents(ctx.path)[0]:
        if ctx.is_retired(ref.path) and os.path.exists(ref.path):
            yield RULE.violation(ctx, ref.mark, f"extends retired parent {shown(ref.raw)}; extend "
                                                f"{base} (the canonical base) instead",
                                 key_path="extends")


CHILD = "configs/recipes/prod/child.yaml"


def _one_hop(ctx) -> bool:
    """Does this file itself extend exactly its required parent?"""
    parents = ctx.resolver.extends.parents(ctx.path)[0]
    required = ctx.place.required_parent
    return required is not None and len(parents) == 1 and parents[0].key == required


RULE = Rule(
    code="S2L050",
    name="non-canonical-surface",
    summary="A retired or intermediate parent on the contract's canonical surface, or any file "
            "extending a retired parent.",
    rationale="Tooling enumerates profiles from the canonical globs (e.g. prod/*.yaml, smoke/*.yaml); a "
              "parent there is launched as if it were a profile, and retired parents keep old values alive.",
    fix="Fold the parent's values into the required parent or the leaves, move variants off the surface, "
        "and extend the required parent.",
    settings=('canonical', 'retired_parents'),
    check=check,
    asks_surface=True,
    # A conforming leaf that another file chains onto is not the culprit (S2L012 reports the child).
    passing=(Example(LEAF, path=LEAF_PATH, files=TREE),
             Example(LEAF, path=LEAF_PATH, files={**TREE, CHILD: "extends: leaf.yaml\n"})),
    failing=(Example(BASE, path="configs/recipes/prod/base.yaml", marks=("1:1",), fixed=BASE,
                     fixed_path="configs/recipes/base.yaml"),
             Example("extends: ../../base.yaml\n", path=LEAF_PATH, files={**TREE, CHILD: "extends: leaf.yaml\n"},
                     marks=("1:1",), fixed=LEAF),
             Example("extends: ../base_old.yaml\n", path="configs/recipes/ablation/x.yaml",
                     files={**TREE, "configs/recipes/base_old.yaml": "a: 1\n"}, marks=("1:10",),
                     fixed="extends: ../base.yaml\n")),
)
