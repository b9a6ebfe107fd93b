from stage2_lint.core.records import Kind
from stage2_lint.checking.rule import Example, Rule

RULE = Rule(
    code="S2L004",
    name="unsafe-yaml",
    summary="Input the loader refuses: custom tags, alias bombs, recursion, excessive depth "
            "or size, bad encoding, control characters, non-regular files.",
    rationale="A profile is read at commit time, in CI and at training start. Hostile or "
              "broken input must cost a violation, never a hang, a crash or code execution.",
    fix="Write plain YAML: no tags, no self-referencing or exploding aliases, UTF-8 text, "
        "a regular file of reasonable size and depth.",
    reports=Kind.UNSAFE_YAML,  # found by the parser
    passing=(Example("defaults: &d {seed: 1}\ntraining:\n  <<: *d\n"),),
    failing=(Example("training: !!python/object/apply:os.system [echo hi]\n", marks=("1:11",),
                     fixed="training: {run_name: hi}\n"),
             Example("a: &a [*a]\n", marks=("1:8",), fixed="a: &a [1]\nb: *a\n"),
             Example("a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
                     marks=("5:17",), fixed="a: &a [1, 1, 1]\nb: [*a, *a]\n"),
             Example("training:\n  run_name: a\x00b\n", marks=("2:14",), fixed="training:\n  run_name: ab\n")),
)
