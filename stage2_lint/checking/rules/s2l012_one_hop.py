from stage2_lint.core.escape import shown
from stage2_lint.checking.rule import Example, Rule
from stage2_lint.checking.rules.shared_examples import LEAF, LEAF_PATH, TREE


def check(ctx):
    if not ctx.is_leaf or not ctx.document.usable or ctx.contract.required_parent is None:
        return
    refs, problems = ctx.resolver.extends.parents(ctx.path)
    expected = ctx.contract.required_parent
    if "extends" not in ctx.document.root:
        yield RULE.violation(ctx, (1, 1), f"canonical leaf has no 'extends'; it must extend exactly {expected!r}",
                             key_path="extends", fix=f"extends: {expected}")
        return
    if problems or not refs:
        return  # broken entries are S2L010/S2L011
    if ctx.contract.max_hops > 1 or ctx.contract.multiple_parents:
        yield from _reach(ctx, refs, expected)
        return
    if len(refs) != 1:
        return  # dual parents are S2L013
    ref = refs[0]
    if ref.key == ctx.place.required_parent:
        return
    chain = " -> ".join(_chain(ctx.resolver, ctx.path))
    yield RULE.violation(ctx, ref.mark,
                         f"canonical leaf extends {shown(ref.raw)}; it must extend exactly {expected!r} "
                         f"(one hop, no chain): {chain}",
                         key_path="extends", fix=f"extends: {expected}")


def _reach(ctx, refs, expected):
    """A relaxed contract: the required parent must be reached within ``max_hops`` hops
    (through any of the parents, when several are allowed)."""
    hops = ctx.contract.max_hops
    level, seen = list(refs), {ctx.place.canonical}
    for _ in range(hops):
        if any(ref.key == ctx.place.required_parent for ref in level):
            return
        seen.update(ref.key for ref in level)
        level = [parent for ref in level for parent in ctx.resolver.extends.parents(ref.path)[0]
                 if parent.key not in seen]
    chain = " -> ".join(_chain(ctx.resolver, ctx.path))
    yield RULE.violation(ctx, refs[0].mark, f"canonical leaf does not reach {expected!r} within {hops} hop(s): "
                                            f"{chain}", key_path="extends", fix=f"extends: {expected}")


def _chain(resolver, path, limit=16):
    """The first-parent chain from ``path`` up, as the files are named."""
    chain, seen = [path], {resolver.documents.key(path)}
    while len(chain) < limit:
        refs = resolver.extends.parents(chain[-1])[0]
        if not refs or refs[0].key in seen:
            break
        chain.append(refs[0].path)
        seen.add(refs[0].key)
    return chain


RULE = Rule(
    code="S2L012",
    name="one-hop",
    summary="A canonical leaf does not reach its contract's `required_parent` the way the contract allows "
            "(exactly, by default), or has no `extends`.",
    rationale="With one hop, what a leaf runs is the base plus what the leaf itself says; "
              "chains hide the values that matter in intermediate files nobody reviews.",
    fix="Extend the required parent, then pin the values the old chain supplied (stage2-lint flatten).",
    settings=('canonical', 'required_parent', 'max_hops'),
    check=check,
    passing=(Example(LEAF, path=LEAF_PATH, files=TREE),),
    failing=(Example(LEAF.replace("../base.yaml", "mid.yaml"), path=LEAF_PATH,
                     files={**TREE, "configs/recipes/prod/mid.yaml": "extends: ../base.yaml\n"},
                     marks=("1:10",), fixed=LEAF),
             Example(LEAF.replace("extends: ../base.yaml\n", ""), path=LEAF_PATH, files=TREE, marks=("1:1",),
                     fixed=LEAF)),
)
