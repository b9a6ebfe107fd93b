"""Every rule's documented examples are tests: passing ones stay clean, failing ones fail
at the documented line:col."""
import ast

import pytest

from stage2_lint.checking.engine import lint_paths
from stage2_lint.flake8_plugin import check_source, source_contract_near
from stage2_lint.checking.rules import REGISTRY
from stage2_lint.checking.rule import Target
from stage2_lint.checking.rules.shared_examples import example_project
from stage2_lint.contracts.settings import find_settings

from conftest import write_tree

CASES = [(rule, example, kind) for rule in REGISTRY
         for kind, examples in (("pass", rule.passing), ("fail", rule.failing),
                                ("fixed", [example.repaired() for example in rule.failing]))
         for example in examples]


def _marks(rule, example, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples run under the example contract (rules/shared_examples.py)
    write_tree(tmp_path, {**example_project(), **example.files, example.path: example.text})
    if rule.target is Target.SOURCE:
        found = check_source(example.path, ast.parse(example.text), source_contract_near(str(tmp_path)))
    else:
        found = lint_paths([example.path], find_settings(str(tmp_path))).violations
    return tuple(f"{v.line}:{v.col}" for v in found if v.code == rule.code)


@pytest.mark.parametrize("rule,example,kind", CASES,
                         ids=[f"{r.code}-{k}-{i}" for i, (r, _, k) in enumerate(CASES)])
def test_documented_example(rule, example, kind, tmp_path, monkeypatch):
    """Passing examples and the fixed form of every failing one are clean; failing ones fail
    at the documented line:col."""
    marks = _marks(rule, example, tmp_path, monkeypatch)
    assert marks == (example.marks if kind == "fail" else ())


def test_every_rule_documents_both_kinds_of_example():
    for rule in REGISTRY:
        assert rule.passing and rule.failing, rule.code
        assert rule.summary and rule.rationale and rule.fix, rule.code
        assert all(example.marks for example in rule.failing), rule.code
        assert all(example.fixed is not None or example.fixed_files is not None for example in rule.failing), \
            f"{rule.code}: every failing example comes with its fixed form"


def test_codes_are_unique_and_well_formed():
    codes = [rule.code for rule in REGISTRY]
    assert len(codes) == len(set(codes))
    assert all(rule.code.startswith({Target.PROFILE: "S2L", Target.SOURCE: "S2P"}[rule.target]) and len(rule.code) == 6
               for rule in REGISTRY)
