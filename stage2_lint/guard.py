"""The runtime guard: the loader and the trainer refuse a profile the CLI would reject.

``checked_profile`` is the whole check a training loader needs, in one call: every rule on
the profile (and on an extra base profile), its chain resolved, and what its contract says of
the whole resolved mapping, each finding at the file:line that set the key.
"""
from __future__ import annotations


from stage2_lint.contracts.contract_check import contract_findings
from stage2_lint.checking.engine import lint_paths
from stage2_lint.core.escape import dotted, printable
from stage2_lint.tree.merge import Resolved
from stage2_lint.tree.resolver import Resolver
from stage2_lint.documents.keypath import deep_merge
from stage2_lint.core.records import Finding, Problem, record, Violation
from stage2_lint.checking.rules import as_violations
from stage2_lint.contracts.settings import Contract, Settings, settings_for


class ConfigContractError(ValueError):
    """A profile breaks its contract; the message lists every violation."""

    def __init__(self, path: str, violations: tuple[Violation, ...], contract: str | None = None):
        self.path = path
        self.violations = violations
        self.contract = contract
        lines = "\n".join(v.format() for v in violations)
        which = f"the {printable(contract)} config contract" if contract else "its config contract"
        super().__init__(f"{printable(path)} breaks {which} ({len(violations)} violation(s)):\n{lines}")


@record
class CheckedProfile:
    path: str
    config: dict  # the resolved mapping (an extra base profile merged under it)
    contract: Contract | None  # the contract it was held to


def runtime_settings(settings: Settings) -> Settings:
    """The settings a profile is held to at training start: wherever the repository declares
    contracts, a profile that no contract governs is refused (S2L080), whatever
    ``require_contract`` says for the CLI."""
    return settings._replace(runtime=True) if settings.contracts and not settings.runtime else settings


def checked_profile(path: str, settings: Settings | None = None,
                    base_path: str | None = None) -> CheckedProfile:
    """``path`` resolved, after every rule passed on it (and on ``base_path``, merged under
    it, the profile winning) and the contract's findings on the whole resolved mapping came
    back empty; else ConfigContractError. Keys set in files outside the contract's scope are
    held to it too."""
    settings = runtime_settings(settings or settings_for(path))
    resolver = Resolver(settings)
    resolved = _passed(path, resolver)
    config = resolved.config
    if base_path:
        config = deep_merge(_passed(base_path, resolver).config, config)
    contract = resolver.layout.of(path).contract
    findings = contract_findings(config, contract, settings)
    problems = tuple(_located(resolved, finding) for finding in findings)
    if problems:
        raise ConfigContractError(path, problems, contract.name if contract else None)
    return CheckedProfile(path, config, contract)


def resolved_or_refused(path: str, resolver: Resolver) -> Resolved:
    """The merged config of ``path``, or ConfigContractError with why its chain is broken."""
    resolved = resolver.merge.resolve(path)
    if resolved is None:
        problems = resolver.extends.problems(path)
        raise ConfigContractError(path, tuple(as_violations(path, problems)))
    return resolved


def _passed(path: str, resolver: Resolver) -> Resolved:
    _refuse_errors(path, resolver)
    return resolved_or_refused(path, resolver)


def _located(resolved: Resolved, finding: Finding) -> Violation:
    """A finding on a whole resolved profile, at the file:line that set its key (or the
    nearest key above it that some file set)."""
    keys = tuple(finding.keys)
    while keys and resolved.origin(keys) is None:
        keys = keys[:-1]
    origin = resolved.origin(keys)
    path, line, col = (origin.path, origin.line, origin.col) if origin else (resolved.path, 1, 1)
    return as_violations(path, [Problem(finding.kind, line, col, finding.message, dotted(finding.keys),
                                        finding.fix)])[0]


def enforce(path: str, settings: Settings | None = None,
            resolver: Resolver | None = None) -> tuple[Violation, ...]:
    """Lint ``path`` with every rule; raise ConfigContractError on any error, else return warnings.
    ``resolver`` lets a loader reuse the files parsed here."""
    settings = runtime_settings(settings or (resolver.settings if resolver is not None else settings_for(path)))
    if resolver is None or resolver.settings != settings:
        resolver = Resolver(settings)  # a resolver made for other settings cannot answer for these
    return _refuse_errors(path, resolver)


def _refuse_errors(path: str, resolver: Resolver) -> tuple[Violation, ...]:
    report = lint_paths([path], resolver.settings, resolver=resolver)
    errors = tuple(v for v in report.violations if v.is_error)
    if errors:
        contract = resolver.layout.of(path).contract
        raise ConfigContractError(path, errors, contract.name if contract else None)
    return report.violations
