from stage2_lint.escape import dotted
from stage2_lint.rule import Example, Rule


def check(ctx):
    if not ctx.in_schema_scope or not ctx.document.usable:
        return
    removed = {tuple(old.split(".")) for old, _ in ctx.removals}  # S2L032 says more about those
    for finding in ctx.schema_findings:
        if finding.kind == RULE.name and tuple(finding.keys) not in removed:
            yield RULE.violation(ctx, ctx.document.nearest_mark(finding.keys), finding.message,
                                 key_path=dotted(finding.keys))


RULE = Rule(
    code="S2L060",
    name="unknown-key",
    summary="A key the contract's schema does not know.",
    rationale="A misspelt knob (`eval_step`) is silently ignored and the default runs instead. "
              "The schema is the same one the runtime loader builds its typed config from.",
    fix="Use the suggested spelling, or add the knob to the typed config and export the schema "
        "(stage2-lint schema export).",
    settings=('schema', 'section_classes', 'catch_all'),
    check=check,
    passing=(Example("training:\n  eval_steps: 80\n"),),
    failing=(Example("training:\n  eval_step: 80\n", marks=("2:3",), fixed="training:\n  eval_steps: 80\n"),
             Example("sampler:\n  draw_batchsize: 4\n", marks=("2:3",),
                     fixed="sampler:\n  draw_batch_size: 4\n")),
)
