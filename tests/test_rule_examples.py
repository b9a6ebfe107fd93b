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


def test_each_reporting_rule_stands_for_its_module_rule_until_more_is_needed():
    """A rule that only reports one kind of problem is imported when it reports one: until
    then its code, name, kind and shape come from its module's name, and must be its RULE's."""
    import importlib

    from stage2_lint.checking import rules

    stand_ins = [rule for rule in REGISTRY if isinstance(rule, rules.ReportingRule)]
    assert len(stand_ins) == len(rules._REPORTING_ONLY) == 9
    for module in rules._MODULES:
        real = importlib.import_module(f"stage2_lint.checking.rules.{module}").RULE
        if module not in rules._REPORTING_ONLY:
            assert real.check is not None or real.reports is None, f"{module} only reports: list it"
            continue
        stand_in = next(rule for rule in stand_ins if rule.module == module)
        shape = ("code", "name", "reports", "check", "after_suppressions", "asks_surface", "target")
        assert [getattr(stand_in, field) for field in shape] == [getattr(real, field) for field in shape], module
        assert (stand_in.summary, stand_in.severity, stand_in.fix, stand_in.failing) == \
            (real.summary, real.severity, real.fix, real.failing)


def test_a_clean_run_imports_no_reporting_rule_and_a_problem_imports_its_own(tmp_path):
    import subprocess
    import sys

    write_tree(tmp_path, {"configs/clean.yaml": "a: 1\n", "configs/twice.yaml": "a: 1\na: 2\n"})
    script = ("import sys\nfrom stage2_lint import cli\nfrom stage2_lint.checking import rules\n"
              "code = cli.main(['--no-cache', sys.argv[1]])\nimported = {m.rpartition('.')[2] for m in sys.modules}\n"
              "print('rules:', sorted(rules._REPORTING_ONLY & imported), file=sys.stderr)\n")
    clean = subprocess.run([sys.executable, "-c", script, "configs/clean.yaml"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    twice = subprocess.run([sys.executable, "-c", script, "configs/twice.yaml"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert "rules: []" in clean.stderr, clean.stderr
    assert twice.stdout.startswith("configs/twice.yaml:2:1: S2L002") and "rules: ['s2l002_duplicate_key']" in \
        twice.stderr, twice.stdout + twice.stderr


def test_a_clean_parallel_run_imports_no_reporting_rule_either(tmp_path):
    import subprocess
    import sys

    from stage2_lint.checking.engine import PARALLEL_FROM

    write_tree(tmp_path, {f"configs/f{index:04d}.yaml": "a: 1\n" for index in range(PARALLEL_FROM + 10)})
    script = ("import sys\nfrom stage2_lint import cli\nfrom stage2_lint.checking import rules\n"
              "code = cli.main(['--no-cache', '-j', '2', 'configs'])\n"
              "imported = {m.rpartition('.')[2] for m in sys.modules}\n"
              "print('rules:', sorted(rules._REPORTING_ONLY & imported), file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "rules: []" in run.stderr and f"{PARALLEL_FROM + 10} files checked" in run.stderr, run.stderr
