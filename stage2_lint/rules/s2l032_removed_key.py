"""S2L032: a key the contract or the repository removed (``removed = old.key -> what to use instead``)."""
from stage2_lint.escape import dotted
from stage2_lint.rule import Example, Rule


def check(ctx):
    if not ctx.document.usable:
        return
    for old, instead in ctx.removals:
        found = ctx.document.find(tuple(old.split(".")))
        if found is not None:
            yield RULE.violation(ctx, found[1], removal_message(old, instead), key_path=dotted(old.split(".")),
                                 fix=removal_fix(old, instead))


def removal_message(old: str, instead: str) -> str:
    """``old`` is gone: say so, and what to use instead (or why there is nothing to use)."""
    if instead.startswith("nothing"):
        reason = instead[len("nothing"):].lstrip(" :-")
        return f"{old} was removed{f' ({reason})' if reason else ''}; delete it"
    return f"{old} was removed; use {instead}"


def removal_fix(old: str, instead: str) -> str:
    return f"delete {old}" if instead.startswith("nothing") else f"replace {old} with {instead.split()[0]}"


RULE = Rule(
    code="S2L032",
    name="removed-key",
    summary="A key the contract removed, with what to use instead.",
    rationale="A removed knob is silently ignored by the trainer; a run that sets it does not do what "
              "its author thinks. The contract's `removed` list says what replaced it.",
    fix="Delete the key, and set its replacement where one is named.",
    settings=('removed',),
    check=check,
    passing=(Example("sampler:\n  draw_batch_size: 4\n"),),
    failing=(Example("recipe:\n  legacy:\n    sampler_batch_size: 4\n", marks=("3:5",),
                     fixed="sampler:\n  draw_batch_size: 4\n"),),
)
