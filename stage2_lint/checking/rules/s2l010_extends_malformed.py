from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L010",
    name="extends-malformed",
    summary="`extends` is not a path or a list of paths.",
    rationale="The loader can only follow string paths; a mapping, number or null in `extends` "
              "would be silently ignored or crash a naive loader.",
    fix="Write extends as one path, or a list of paths, relative to this file.",
    settings=('key_aliases',),
    reports=Kind.EXTENDS_MALFORMED,  # found by the extends graph
    passing=(Example("extends: base.yaml\n", files={"configs/recipes/base.yaml": "a: 1\n"}),),
    failing=(Example("extends: {path: base.yaml}\n", marks=("1:10",), fixed="extends: base.yaml\n",
                     files={"configs/recipes/base.yaml": "a: 1\n"}),
             Example("extends: [base.yaml, 3]\n", files={"configs/recipes/base.yaml": "a: 1\n"},
                     marks=("1:22",), fixed="extends: [base.yaml]\n")),
)
