from stage2_lint.escape import dotted
from stage2_lint.keypath import value_mark
from stage2_lint.rule import Example, Rule


def check(ctx):
    yield from ctx.reported(RULE)  # a number no config could mean (e.g. 5,000 digits)
    if not ctx.in_schema_scope or not ctx.document.usable:
        return
    for finding in ctx.schema_findings:
        if finding.kind != RULE.name:
            continue
        name = dotted(finding.keys)
        yield RULE.violation(ctx, value_mark(ctx.document.root, finding.keys),
                             f"{name}: {finding.message}", key_path=name)


RULE = Rule(
    code="S2L040",
    name="value-type",
    summary="A known knob has the wrong type or value.",
    rationale="YAML 1.1 reads `no` as false and `2e-5` as a string; the trainer would then "
              "disable eval or crash hours in. Types are checked where the value is written.",
    fix="Write the value in the expected type; quote strings such as \"no\", give floats a dot (2.0e-5).",
    settings=('schema',),
    check=check,
    passing=(Example("training:\n  eval_strategy: 'no'\n  learning_rate: 2.0e-5\n"
                     "sampler:\n  draw_batch_size: 4\n"),),
    failing=(Example("training:\n  eval_strategy: no\n", marks=("2:18",), fixed="training:\n  eval_strategy: 'no'\n"),
             Example("training:\n  learning_rate: 2e-5\n", marks=("2:18",),
                     fixed="training:\n  learning_rate: 2.0e-5\n"),
             Example("sampler:\n  draw_batch_size: 0\n", marks=("2:20",),
                     fixed="sampler:\n  draw_batch_size: 1\n")),
)
