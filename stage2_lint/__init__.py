"""stage2-lint: the Stage-2 AB config contract, as one set of rule objects."""
from stage2_lint.records import Violation

__version__ = "0.1.0"
__all__ = ["Violation", "__version__"]
