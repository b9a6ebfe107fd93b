"""Growth of time with hostile input size: each case doubles its input and prints the time
of one `stage2-lint` run, so linear growth shows as a ratio near 2 per doubling (and a
quadratic or exponential one as 4 or worse).

    .venv/bin/python bench/hostile.py [--repeat 3]

Cases: `extends` listing one parent N times; a glob with many wildcards in `exclude`
against long names; a profile of N bytes with `max_file_bytes` at 10**11 (memory: what the
file holds, not what the limit allows); a schema pattern checked against long values.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAMILY = ("[stage2_lint.contract.fam]\nscope = configs/**/*.yaml\ncanonical = configs/fam/prod/*.yaml\n"
          "required_parent = ../base.yaml\n")


def _tree(root: Path, files: dict, settings: str = FAMILY) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for relative, text in {"setup.cfg": settings, **files}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / ".git").mkdir()
    return root


def repeated_parent(root: Path, size: int) -> Path:
    return _tree(root, {"configs/fam/base.yaml": "".join(f"k{i}: {i}\n" for i in range(200)),
                        "configs/fam/leaf.yaml": "extends:\n" + "  - base.yaml\n" * size})


def wildcard_glob(root: Path, size: int) -> Path:
    files = {f"configs/fam/prod/{'a' * 200}{index}.yaml": "a: 1\n" for index in range(size // 1000)}
    return _tree(root, files, FAMILY + "[stage2_lint]\nexclude = " + "*a" * 12 + "*b\n")


def big_file_no_limit(root: Path, size: int) -> Path:
    body = "".join(f"k{i}: {i}\n" for i in range(size // 10))
    return _tree(root, {"configs/fam/leaf.yaml": body}, FAMILY + "[stage2_lint]\nmax_file_bytes = 100000000000\n"
                 "max_nodes = 100000000\n")


def long_pattern_values(root: Path, size: int) -> Path:
    schema = {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[a-z]+x?[a-z]*$"}}
    body = "".join(f"k{i}: {'a' * 999}\n" for i in range(size // 1000))
    return _tree(root, {"configs/fam/leaf.yaml": body, "schemas/s.json": json.dumps(schema)},
                 FAMILY + "schema = schemas/s.json\n")


CASES = {"extends lists one parent N times": (repeated_parent, 10_000),
         "exclude glob *a*a...*b against N/1000 long names": (wildcard_glob, 8_000),
         "N-byte profile, max_file_bytes 10**11": (big_file_no_limit, 200_000),
         "N/1000 values of 999 characters against a pattern": (long_pattern_values, 100_000)}


def _time(root: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stage2_lint", "configs"], cwd=root, capture_output=True,
                       timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for name, (build, size) in CASES.items():
            times = []
            for step in range(4):
                times.append(_time(build(Path(scratch) / "tree", size << step), args.repeat))
            ratios = ", ".join(f"{later / earlier:.2f}" for earlier, later in zip(times, times[1:]))
            print(f"{name}: N={size}..{size << 3}: " + ", ".join(f"{t * 1000:.0f} ms" for t in times)
                  + f" (ratio per doubling: {ratios})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
