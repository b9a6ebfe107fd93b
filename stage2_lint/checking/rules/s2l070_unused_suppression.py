from stage2_lint.core.records import WARNING
from stage2_lint.checking.rule import Example, Rule


def check(ctx):
    """Runs after the other rules: the engine hands over the suppressions that silenced nothing."""
    for suppression in ctx.unused_suppressions:
        codes = ",".join(suppression.codes)
        scope = "in this file" if suppression.whole_file else "on this line"
        yield RULE.violation(ctx, (suppression.line, suppression.col),
                             f"unused suppression: nothing {scope} violates {codes}; delete the comment")


RULE = Rule(
    code="S2L070",
    name="unused-suppression",
    summary="A `# stage2-lint: disable=...` comment that silences nothing.",
    rationale="A stale suppression hides the next real violation on its line and tells readers "
              "a rule is broken there when it is not (ruff's unused-noqa, for this linter). A warning, as "
              "ruff's RUF100 is opt-in: --strict, or severity = S2L070: error, makes it fail the run.",
    fix="Delete the suppression comment (or the codes in it that no longer fire).",
    check=check,
    severity=WARNING,
    after_suppressions=True,
    passing=(Example("a: 1\na: 2  # stage2-lint: disable=S2L002 -- kept on purpose\n"),),
    failing=(Example("a: 1  # stage2-lint: disable=S2L002\n", marks=("1:7",), fixed="a: 1\n"),
             Example("# stage2-lint: disable-file=S2L060 -- old\ntraining: {eval_steps: 1}\n", marks=("1:1",),
                     fixed="training: {eval_steps: 1}\n")),
)
