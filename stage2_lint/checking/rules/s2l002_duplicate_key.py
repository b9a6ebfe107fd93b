from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L002",
    name="duplicate-key",
    summary="A key is set twice in one mapping.",
    rationale="PyYAML silently keeps the last of two equal keys, so the first value looks "
              "authoritative to a reader while the trainer never sees it.",
    fix="Delete one of the two entries.",
    reports=Kind.DUPLICATE_KEY,  # found by the parser
    passing=(Example("training:\n  eval_steps: 80\n  save_steps: 80\n"),),
    failing=(Example("training:\n  eval_steps: 80\n  eval_steps: 40\n", marks=("3:3",),
                     fixed="training:\n  eval_steps: 40\n"),
             Example("training: {eval_steps: 80, eval_steps: 40}\n", marks=("1:28",),
                     fixed="training: {eval_steps: 40}\n")),
)
