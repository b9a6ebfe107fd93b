from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L003",
    name="root-not-mapping",
    summary="The file is empty, a scalar, a list, or several YAML documents.",
    rationale="A profile is one mapping of sections; anything else would be merged as nothing "
              "or replace the whole parent config.",
    fix="Make the file a single mapping (one document, keys at the top level).",
    reports=Kind.ROOT_NOT_MAPPING,  # found by the parser
    passing=(Example("training: {}\n"),),
    failing=(Example("# only a comment\n", marks=("1:1",), fixed="# only a comment\ntraining: {}\n"),
             Example("- a\n- b\n", marks=("1:1",), fixed="items: [a, b]\n"),
             Example("a: 1\n---\nb: 2\n", marks=("2:1",), fixed="a: 1\nb: 2\n")),
)
