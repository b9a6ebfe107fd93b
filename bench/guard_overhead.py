"""How much the contract guard adds to ConfigLoader.load_training_config on a canonical leaf.

Run from the repository root: python bench/guard_overhead.py [LEAF] [ROUNDS]
Prints the median per-call time with and without the guard, in milliseconds, from
interleaved calls.
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


def per_call_ms(loader: ConfigLoader, check) -> float:
    """One call's time with ``check`` as the loader's guard, in milliseconds."""
    loader_module.checked_profile = check
    started = time.perf_counter()
    loader.load_training_config(LEAF)
    return (time.perf_counter() - started) * 1000


def _resolved_only(path, settings=None, base_path=None) -> CheckedProfile:
    """What a loader without the guard does: resolve the chain, check nothing."""
    return CheckedProfile(path, resolved_or_refused(path, Resolver(settings or settings_for(path))).config, None)


def main() -> None:
    """Calls with and without the guard alternate, so the machine's drift hits both alike."""
    loader = ConfigLoader()
    real_check = loader_module.checked_profile
    guarded, unguarded = [], []
    try:
        for round_index in range(ROUNDS + 20):  # the first 20 rounds warm the caches
            with_guard = per_call_ms(loader, real_check)
            without = per_call_ms(loader, _resolved_only)
            if round_index >= 20:
                guarded.append(with_guard)
                unguarded.append(without)
    finally:
        loader_module.checked_profile = real_check
    guarded_ms, unguarded_ms = statistics.median(guarded), statistics.median(unguarded)
    print(f"| load_training_config({LEAF}) | {guarded_ms:.2f} ms with the guard | {unguarded_ms:.2f} ms without "
          f"| guard adds {guarded_ms - unguarded_ms:.2f} ms |")


if __name__ == "__main__":
    main()
