from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L060",
    name="unknown-key",
    summary="A key the contract's schema does not know.",
    rationale="A misspelt knob (`eval_step`) is silently ignored and the default runs instead. "
              "The schema is the same one the runtime loader builds its typed config from.",
    fix="Use the suggested spelling, or add the knob to the typed config and export the schema "
        "(stage2-lint schema export).",
    settings=('schema', 'section_classes', 'catch_all'),
    reports=Kind.UNKNOWN_KEY,  # found by contract_check: the schema, a removed key aside (S2L032)
    passing=(Example("training:\n  eval_steps: 80\n"),),
    failing=(Example("training:\n  eval_step: 80\n", marks=("2:3",), fixed="training:\n  eval_steps: 80\n"),
             Example("sampler:\n  draw_batchsize: 4\n", marks=("2:3",),
                     fixed="sampler:\n  draw_batch_size: 4\n")),
)
