"""stage2-lint: contracts for extends-based YAML training profiles, checked by one set of rule
objects at commit time, in CI and at training start. Every contract is the repository's data."""
from stage2_lint.core.records import Violation

__version__ = "0.2.0"
__all__ = ["Violation", "__version__"]
