"""The runtime guard: the loader and the trainer refuse a profile the CLI would reject."""
from __future__ import annotations

from typing import Optional, Tuple

from stage2_lint.engine import lint_paths
from stage2_lint.escape import printable
from stage2_lint.hierarchy import Resolver
from stage2_lint.settings import Settings, settings_for
from stage2_lint.records import Violation


class ConfigContractError(ValueError):
    """A profile breaks its contract; the message lists every violation."""

    def __init__(self, path: str, violations: Tuple[Violation, ...], contract: Optional[str] = None):
        self.path = path
        self.violations = violations
        self.contract = contract
        lines = "\n".join(v.format() for v in violations)
        which = f"the {printable(contract)} config contract" if contract else "its config contract"
        super().__init__(f"{printable(path)} breaks {which} ({len(violations)} violation(s)):\n{lines}")


def runtime_settings(settings: Settings) -> Settings:
    """The settings a profile is held to at training start: wherever the repository declares
    contracts, a profile that no contract governs is refused (S2L080), whatever
    ``require_contract`` says for the CLI."""
    return settings._replace(runtime=True) if settings.contracts and not settings.runtime else settings


def enforce(path: str, settings: Optional[Settings] = None,
            resolver: Optional[Resolver] = None) -> Tuple[Violation, ...]:
    """Lint ``path`` with every rule; raise ConfigContractError on any error, else return warnings.
    ``resolver`` lets a loader reuse the files parsed here."""
    settings = runtime_settings(settings or (resolver.settings if resolver is not None else settings_for(path)))
    if resolver is None or resolver.settings != settings:
        resolver = Resolver(settings)  # a resolver made for other settings cannot answer for these
    report = lint_paths([path], settings, resolver=resolver)
    errors = tuple(v for v in report.violations if v.is_error)
    if errors:
        contract = resolver.layout.of(path).contract
        raise ConfigContractError(path, errors, contract.name if contract else None)
    return report.violations
