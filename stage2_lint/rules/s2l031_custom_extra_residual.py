from stage2_lint.escape import dotted
from stage2_lint.rule import Example, Rule
from stage2_lint.violation import WARNING


def check(ctx):
    if not ctx.in_schema_scope or not ctx.document.usable:
        return
    found = ctx.document.find(("custom", "extra"))
    if found is None or not isinstance(found[0], dict):
        return
    extra = found[0]
    for key in extra:
        if key == "rollout_matching":
            continue  # S2L030's business
        yield RULE.violation(ctx, extra.key_marks[key],
                             f"custom.extra.{dotted([key])} is an untyped knob; give it a typed home in the "
                             f"schema or drop it", key_path=dotted(("custom", "extra", key)))


RULE = Rule(
    code="S2L031",
    name="custom-extra-residual",
    summary="A knob left in the untyped `custom.extra` bag of a Stage-2 AB profile.",
    rationale="`custom.extra` bypasses the schema: no type check, no unknown-key check, no "
              "default. Knobs that matter deserve a typed field.",
    fix="Move the knob to a typed section, or suppress with a reason: "
        "# stage2-lint: disable=S2L031 -- why",
    check=check,
    severity=WARNING,
    passing=(Example("custom:\n  extra: {}\n"),),
    failing=(Example("custom:\n  extra:\n    loss_gradient_monitor: {enabled: true}\n", marks=("3:5",)),),
)
