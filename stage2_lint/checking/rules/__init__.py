"""The one registry of rules. The CLI, the runtime guard and the flake8 plugin all read it.
One module a rule, named after its code; this list is the registry's order."""
from __future__ import annotations

import sys
from collections.abc import Iterable

from stage2_lint.core.records import Kind, Problem, Violation
from stage2_lint.checking.rule import Rule, Target

_MODULES = (
    "s2l001_yaml_syntax",
    "s2l002_duplicate_key",
    "s2l003_root_not_mapping",
    "s2l004_unsafe_yaml",
    "s2l010_extends_malformed",
    "s2l011_extends_unresolvable",
    "s2l012_one_hop",
    "s2l013_dual_parent",
    "s2l020_missing_explicit_key",
    "s2l030_moved_key",
    "s2l031_untyped_residual",
    "s2l032_removed_key",
    "s2l040_value_type",
    "s2l050_non_canonical_surface",
    "s2l060_unknown_key",
    "s2l070_unused_suppression",
    "s2l080_ungoverned_profile",
    "s2p001_legacy_namespace_read",
    "s2p002_knob_sized_from_another",
)


# The rules that only turn a detector's problems of their kind into violations (no ``check``
# of their own). A clean file needs nothing of them but their code and kind, which their
# module's name says, so each is imported only when it reports a problem or its docs are read
# (nine imports, 0.6 ms of every run). ``tests/test_rule_examples.py`` holds each stand-in to its RULE.
_REPORTING_ONLY = frozenset({
    "s2l001_yaml_syntax", "s2l002_duplicate_key", "s2l003_root_not_mapping", "s2l004_unsafe_yaml",
    "s2l010_extends_malformed", "s2l011_extends_unresolvable", "s2l032_removed_key", "s2l040_value_type",
    "s2l060_unknown_key",
})


def _rule(module: str) -> Rule:
    # __import__ rather than importlib.import_module: importing importlib costs a run 0.5 ms.
    __import__(f"{__name__}.{module}")
    return sys.modules[f"{__name__}.{module}"].RULE


class ReportingRule:
    """Stands for the rule of module ``module`` that only reports one kind of problem: its
    code, name and kind come from the module's name (``s2l002_duplicate_key``: S2L002,
    ``duplicate-key``, ``Kind.DUPLICATE_KEY``), and anything else is the rule's own, read
    from its module on first use."""

    check = None
    after_suppressions = False
    asks_surface = False  # no check of its own, so nothing to ask
    target = Target.PROFILE

    def __init__(self, module: str):
        code, _, name = module.partition("_")
        self.module, self.code, self.name = module, code.upper(), name.replace("_", "-")
        self.reports = Kind(self.name)

    def run(self, ctx) -> list[Violation]:
        """Rule.run of a rule without a check: the file's problems of its kind, as violations."""
        return ctx.reported(self)

    def __getattr__(self, attribute: str):
        if attribute == "module" or attribute.startswith("__"):  # not made by __init__ (a copy): no rule
            raise AttributeError(attribute)
        return getattr(_rule(self.module), attribute)

    def __repr__(self) -> str:
        return f"ReportingRule({self.code}, {self.name})"


REGISTRY: tuple[Rule, ...] = tuple(ReportingRule(name) if name in _REPORTING_ONLY else _rule(name)
                                   for name in _MODULES)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in REGISTRY}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in REGISTRY}
BY_KIND: dict[Kind, Rule] = {rule.reports: rule for rule in REGISTRY if rule.reports is not None}
YAML_RULES: tuple[Rule, ...] = tuple(rule for rule in REGISTRY if rule.target is Target.PROFILE)
PYTHON_RULES: tuple[Rule, ...] = tuple(rule for rule in REGISTRY if rule.target is Target.SOURCE)


def check_kind_owners(registry: tuple[Rule, ...]) -> None:
    """Every kind of problem a detector can emit is reported by exactly one rule, named after
    it: a kind no rule owns would be found and never shown. Run at import."""
    owners = [rule.reports for rule in registry if rule.reports is not None]
    unowned = [kind.value for kind in Kind if kind not in owners]
    shared = sorted({kind.value for kind in owners if owners.count(kind) > 1})
    misnamed = [rule.code for rule in registry if rule.reports is not None and rule.name != rule.reports.value]
    if unowned or shared or misnamed:
        raise ImportError(f"problem kinds without exactly one rule: unowned {unowned}, shared {shared}; "
                          f"rules not named after the kind they report: {misnamed}")


check_kind_owners(REGISTRY)


def as_violations(path: str, problems: Iterable[Problem]) -> list[Violation]:
    """Problems found outside a lint run (the loader's whole-profile check, a chain that
    cannot be resolved) as the violations of the rules that report their kinds."""
    return [BY_KIND[problem.kind].reported(path, problem) for problem in problems]
