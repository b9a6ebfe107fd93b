"""S2L032: a key the contract or the repository removed (``removed = old.key -> what to use instead``)."""
from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L032",
    name="removed-key",
    summary="A key the contract removed, with what to use instead.",
    rationale="A removed knob is silently ignored by the trainer; a run that sets it does not do what "
              "its author thinks. The contract's `removed` list says what replaced it.",
    fix="Delete the key, and set its replacement where one is named.",
    settings=('removed',),
    reports=Kind.REMOVED_KEY,  # found by contract_check, which words it and its fix
    passing=(Example("sampler:\n  draw_batch_size: 4\n"),),
    failing=(Example("recipe:\n  legacy:\n    sampler_batch_size: 4\n", marks=("3:5",),
                     fixed="sampler:\n  draw_batch_size: 4\n"),),
)
