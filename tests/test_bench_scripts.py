"""The benchmark's own scripts keep running as the code they measure changes (bench/run.py
itself needs ../shared/corpus and is run by hand; these are the parts it calls)."""
import re
import subprocess
import sys

from conftest import REPO


def test_guard_overhead_measures_the_loader_with_and_without_the_guard():
    result = subprocess.run([sys.executable, "bench/guard_overhead.py", "configs/stage2_ab/prod/ab_mixed.yaml", "3"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\| load_training_config\(configs/stage2_ab/prod/ab_mixed\.yaml\) \| [\d.]+ ms with the "
                        r"guard \| [\d.]+ ms without \| guard adds -?[\d.]+ ms \|\n", result.stdout), result.stdout


def test_the_floor_composes_every_profile_of_the_repository():
    result = subprocess.run([sys.executable, "bench/floor.py", "configs"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stderr
