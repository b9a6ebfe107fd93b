"""How much the contract guard adds to ConfigLoader.load_training_config on a canonical leaf.

Run from the repository root: python bench/guard_overhead.py [LEAF] [ROUNDS]
Prints the median per-call time with and without the guard, in milliseconds.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo root, for src

from src.config import loader as loader_module  # noqa: E402
from src.config.loader import ConfigLoader  # noqa: E402
from stage2_lint.contracts.settings import settings_for  # noqa: E402
from stage2_lint.guard import CheckedProfile, resolved_or_refused  # noqa: E402
from stage2_lint.tree.resolver import Resolver  # noqa: E402

LEAF = sys.argv[1] if len(sys.argv) > 1 else "configs/stage2_ab/prod/ab_mixed.yaml"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 200


def per_call_ms() -> float:
    loader = ConfigLoader()
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        loader.load_training_config(LEAF)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _resolved_only(path, settings=None, base_path=None) -> CheckedProfile:
    """What a loader without the guard does: resolve the chain, check nothing."""
    return CheckedProfile(path, resolved_or_refused(path, Resolver(settings or settings_for(path))).config, None)


def main() -> None:
    guarded = per_call_ms()
    real_check = loader_module.checked_profile
    loader_module.checked_profile = _resolved_only
    try:
        unguarded = per_call_ms()
    finally:
        loader_module.checked_profile = real_check
    print(f"| load_training_config({LEAF}) | {guarded:.2f} ms with the guard | {unguarded:.2f} ms without "
          f"| guard adds {guarded - unguarded:.2f} ms |")


if __name__ == "__main__":
    main()
