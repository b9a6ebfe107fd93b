"""Property tests: whatever text or YAML structure comes in, only violations (CLI/engine)
and ConfigContractError (guard) come out. STAGE2_FUZZ_EXAMPLES raises the example count
(bench/fuzz.sh runs 100,000)."""
import os

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from stage2_lint.documents.document import load_text
from stage2_lint.guard import ConfigContractError, enforce
from stage2_lint.core.records import Violation

from conftest import repo_settings

EXAMPLES = int(os.environ.get("STAGE2_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

ODD_SCALARS = st.sampled_from([
    "no", "yes", "on", "off", "~", "null", "2e-5", "0x1F", "0o17", "1_000", ".inf", "-.nan", "2026-11-28",
    "12:30:00", "'quoted'", '"esc\\u00e9"', "!!python/object:os.system", "!tag x", "&a x", "*a", "<<", "? x",
    "- - -", "{", "]", "|\n  block", ">-\n  folded", "%YAML 1.1", "---", "...", "\t", "\ufeff", "#c", ""])
KEYS = st.sampled_from(["extends", "custom", "extra", "rollout_matching", "training", "<<", "decode_batch_size",
                        "eval_strategy", "model", "a", "b"])


def yaml_structures():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                       st.text(max_size=20), ODD_SCALARS)
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=30)


@st.composite
def yaml_documents(draw):
    """Dumped structures with anchors, aliases, merge keys and deep nesting spliced in."""
    text = yaml.safe_dump(draw(yaml_structures()), default_flow_style=draw(st.booleans()))
    extras = draw(st.lists(st.sampled_from([
        "base: &b {extra: {rollout_matching: {decode_batch_size: 4}}}\n",
        "custom:\n  <<: *b\n",
        "loop: &l [*l]\n",
        "deep: " + "[" * 80 + "]" * 80 + "\n",
        "bomb: &x [1,1,1,1,1,1,1,1]\nb2: &y [*x,*x,*x,*x,*x,*x,*x,*x]\nb3: [*y,*y,*y,*y,*y,*y,*y,*y]\n",
        "extends: [a.yaml, 3]\n",
        "extends: ../../../../x.yaml\n",
        "training: {eval_strategy: no}\n",
        "a: 1\na: 2\n",
    ]), max_size=3))
    return text + "".join(extras)


def _only_violations(doc):
    from stage2_lint.core.records import Problem
    from stage2_lint.checking.rules import BY_KIND

    assert all(isinstance(problem, Problem) and problem.kind in BY_KIND for problem in doc.problems)
    assert all(problem.line >= 1 and problem.col >= 1 for problem in doc.problems)
    if doc.root is None:
        assert doc.problems


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_loads_or_is_refused(text):
    _only_violations(load_text(text))


@FUZZ
@given(yaml_documents())
def test_generated_yaml_loads_or_is_refused(text):
    doc = load_text(text)
    _only_violations(doc)
    if doc.root is not None and not doc.problems and "<<" not in text:
        assert doc.root == yaml.safe_load(text)  # same values as safe_load wherever both succeed


@FUZZ
@given(st.one_of(yaml_documents(), st.text(max_size=200), st.binary(max_size=200)))
def test_guard_raises_only_contract_errors(tmp_path_factory, content):
    root = tmp_path_factory.mktemp("fuzz")
    target = root / "configs" / "stage2_ab" / "prod" / "leaf.yaml"
    target.parent.mkdir(parents=True)
    target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    try:
        enforce(str(target), repo_settings(str(root)))
    except ConfigContractError as error:
        assert all(isinstance(v, Violation) for v in error.violations)
