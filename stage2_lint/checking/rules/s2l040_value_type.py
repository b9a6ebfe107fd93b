from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L040",
    name="value-type",
    summary="A known knob has the wrong type or value.",
    rationale="YAML 1.1 reads `no` as false and `2e-5` as a string; the trainer would then "
              "disable eval or crash hours in. Types are checked where the value is written.",
    fix="Write the value in the expected type; quote strings such as \"no\", give floats a dot (2.0e-5).",
    settings=('schema',),
    reports=Kind.VALUE_TYPE,  # found by the schema, and by the parser (a number no config could mean)
    passing=(Example("training:\n  eval_strategy: 'no'\n  learning_rate: 2.0e-5\n"
                     "sampler:\n  draw_batch_size: 4\n"),),
    failing=(Example("training:\n  eval_strategy: no\n", marks=("2:18",), fixed="training:\n  eval_strategy: 'no'\n"),
             Example("training:\n  learning_rate: 2e-5\n", marks=("2:18",),
                     fixed="training:\n  learning_rate: 2.0e-5\n"),
             Example("sampler:\n  draw_batch_size: 0\n", marks=("2:20",),
                     fixed="sampler:\n  draw_batch_size: 1\n")),
)
