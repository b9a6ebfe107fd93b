"""S2L031: a knob left in an untyped bag (a schema property marked ``x-residual``, such as
a ``custom.extra`` bag)."""
from stage2_lint.core.escape import dotted
from stage2_lint.checking.rule import Example, Rule
from stage2_lint.core.records import WARNING


def check(ctx):
    if not ctx.in_schema_scope or not ctx.document.usable:
        return
    from stage2_lint.contracts import schema

    moved = {move.old for move in ctx.moves}
    for bag in schema.residual_paths(ctx.contract.schema, ctx.settings.project_dir):
        found = ctx.document.find(bag)
        if found is None or not isinstance(found[0], dict):
            continue
        for key in found[0]:
            if bag + (key,) in moved:
                continue  # S2L030's business
            name = dotted(bag + (key,))
            yield RULE.violation(ctx, found[0].key_marks[key],
                                 f"{name} is an untyped knob; give it a typed home in the schema or drop it",
                                 key_path=name)


RULE = Rule(
    code="S2L031",
    name="untyped-residual",
    summary="A knob left in an untyped bag of the schema (e.g. a `custom.extra` bag).",
    rationale="An untyped bag bypasses the schema: no type check, no unknown-key check, no "
              "default. Knobs that matter deserve a typed field.",
    fix="Move the knob to a typed section, or suppress with a reason: "
        "# stage2-lint: disable=S2L031 -- why",
    settings=('schema',),
    check=check,
    severity=WARNING,
    passing=(Example("custom:\n  extra: {}\n"),),
    failing=(Example("custom:\n  extra:\n    loss_gradient_monitor: {enabled: true}\n", marks=("3:5",),
                     fixed="custom: {}\n"),),
)
