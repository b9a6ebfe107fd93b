from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L001",
    name="yaml-syntax",
    summary="The file is not valid YAML.",
    rationale="An unparsable profile cannot be checked or trained; the parser's own line:col "
              "points at the first place it gave up.",
    fix="Correct the YAML at the reported line (unclosed bracket, tab indentation, stray quote).",
    reports=Kind.YAML_SYNTAX,  # found by the parser
    passing=(Example("training:\n  eval_steps: 80\n"),),
    failing=(Example("training:\n  report_to: [tensorboard\n", marks=("3:1",),
                     fixed="training:\n  report_to: [tensorboard]\n"),
             Example("training:\n\teval_steps: 80\n", marks=("2:1",), fixed="training:\n  eval_steps: 80\n")),
)
