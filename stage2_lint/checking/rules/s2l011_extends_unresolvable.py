from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

_BASE = {"configs/recipes/base.yaml": "a: 1\n"}

RULE = Rule(
    code="S2L011",
    name="extends-unresolvable",
    summary="A parent is missing, unloadable, outside the config root, or part of a cycle.",
    rationale="A profile whose chain cannot be resolved has no defined values; a parent "
              "outside the config root (directly or through a symlink) escapes review.",
    fix="Point `extends` at an existing file inside the config root and break any cycle.",
    # found by the hierarchy: the profile itself leading outside the root (a symlink), its parents
    settings=('root',),
    reports=Kind.EXTENDS_UNRESOLVABLE,  # found by the extends graph
    passing=(Example("extends: base.yaml\n", files=_BASE),),
    failing=(Example("extends: missing.yaml\n", marks=("1:10",), files=_BASE, fixed="extends: base.yaml\n"),
             Example("extends: ../../../outside.yaml\n", marks=("1:10",), files=_BASE, fixed="extends: base.yaml\n"),
             Example("extends: other.yaml\n", files={"configs/recipes/other.yaml": "extends: example.yaml\n"},
                     marks=("1:10",), fixed="a: 1\n"),
             Example("extends: broken.yaml\n", files={**_BASE, "configs/recipes/broken.yaml": "a: [\n"},
                     marks=("1:10",), fixed="extends: base.yaml\n")),
)
