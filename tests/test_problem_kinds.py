"""Problems reach rules by type, not by string: every kind a detector can emit has exactly one
rule, and no detector builds a problem from anything but a member of ``Kind``."""
import ast

import pytest

from stage2_lint.core.records import Kind
from stage2_lint.checking.rules import BY_KIND, REGISTRY, check_kind_owners

from conftest import REPO

RECORDS = {"Problem", "Finding", "_Refused"}  # what a detector builds, kind first
SCHEMA_NAMES = {"UNKNOWN": Kind.UNKNOWN_KEY, "TYPE": Kind.VALUE_TYPE}  # schema.py's short names


def test_every_kind_is_reported_by_exactly_one_rule_named_after_it():
    assert set(BY_KIND) == set(Kind)
    assert all(rule.name == kind.value for kind, rule in BY_KIND.items())


def test_the_registry_refuses_a_kind_no_rule_reports():
    without = tuple(rule._replace(reports=None) if rule.code == "S2L011" else rule for rule in REGISTRY)
    with pytest.raises(ImportError, match="unowned \\['extends-unresolvable'\\]"):
        check_kind_owners(without)


def test_the_registry_refuses_a_kind_two_rules_report():
    twice = tuple(rule._replace(reports=Kind.YAML_SYNTAX) if rule.code == "S2L002" else rule for rule in REGISTRY)
    with pytest.raises(ImportError, match="shared \\['yaml-syntax'\\]"):
        check_kind_owners(twice)


def _kind_arguments():
    for path in sorted((REPO / "stage2_lint").rglob("*.py")) + sorted((REPO / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in RECORDS:
                kind = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "kind"), None)
                yield f"{path.relative_to(REPO)}:{node.lineno}", path.name, kind


def _is_a_kind(module: str, node) -> bool:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Kind":
        return node.attr in Kind.__members__
    if isinstance(node, ast.Name) and module == "schema.py":
        return node.id in SCHEMA_NAMES
    return isinstance(node, ast.Attribute) and node.attr == "kind"  # passed on from another record


def test_detectors_build_problems_from_kinds_only():
    found = list(_kind_arguments())
    assert len(found) > 30  # the scan sees the parser, the extends graph, the schema and the loader
    wrong = [where for where, module, kind in found if not _is_a_kind(module, kind)]
    assert not wrong, f"a problem built from something other than a Kind member: {wrong}"


def test_no_module_dispatches_on_a_name_or_a_message():
    offenders = []
    for path in sorted((REPO / "stage2_lint").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if '"outside" in' in line or ".kind ==" in line or "kind ==" in line:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders
