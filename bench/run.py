"""Speed benchmark: stage2-lint against yamllint -d relaxed and a compose-only floor, in one run.

Usage: python3 bench/run.py [--repeat N] [--sizes 1,10,50] [--venv .venv]
Needs ../shared/corpus/real-configs. It builds its own virtual environment under bench/work/
with a regular (non-editable, byte-compiled) install of this checkout and yamllint, as a
pre-commit hook environment would have, so both tools are measured the same way. With
--venv it measures an existing environment instead (``--venv .venv``: the README's install,
editable; yamllint is added to it).
Prints markdown tables (paste them into docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "real-configs" / "configs"
WORK = REPO / "bench" / "work"
VENV = WORK / "venv"
BIN = VENV / "bin"
LEAF = "configs/stage2_ab/prod/ab_mixed.yaml"


def build_venv(existing: bool) -> None:
    """A fresh environment with stage2-lint installed like a hook's (pip byte-compiles it);
    ``existing``: the environment --venv named, measured as it is (even bench/work/venv)."""
    if existing:
        subprocess.run([str(BIN / "pip"), "install", "-q", "yamllint", "check-jsonschema"], check=True)
        return
    if VENV.exists():
        shutil.rmtree(VENV)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(BIN / "pip"), "install", "-q", str(REPO), "yamllint", "check-jsonschema"], check=True)


def build_corpus(copies: int) -> Path:
    """``copies`` copies of the real tree side by side under one ``configs`` root, with
    bench/contract.cfg beside it as ``contract.cfg`` (globs are relative to the settings file)."""
    root = WORK / f"x{copies}"
    configs = root / "configs"
    if not configs.is_dir():
        for index in range(copies):
            shutil.copytree(CORPUS, configs / f"copy{index:03d}")
    contract = (REPO / "bench" / "contract.cfg").read_text()
    (root / "contract.cfg").write_text(contract.replace("../schemas/", f"{REPO / 'schemas'}/"))
    return root


def wall(command, cwd, repeat: int) -> float:
    """Median wall time of ``repeat`` runs (after one warm-up), in seconds."""
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interleaved(rows, cwd, repeat: int, before=None) -> dict:
    """Median wall time per command, running the commands round-robin so that the machine's
    drift hits all of them alike. ``before`` maps a row's name to a change made (untimed)
    right before each of its runs."""
    samples = {name: [] for name, _ in rows}
    for round_index in range(repeat + 1):
        for name, command in rows:
            if before and name in before:
                before[name](round_index)
            started = time.perf_counter()
            subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if round_index:  # the first round warms caches
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def count_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*") if path.suffix in (".yaml", ".yml"))


def after_each(change, command, cwd, repeat: int) -> float:
    """Median wall time of ``command`` right after ``change(round)`` (one warm-up first)."""
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    for round_index in range(repeat):
        change(round_index)
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def appending(path: Path):
    """A change per round: the file's original text plus a comment naming the round."""
    original = path.read_text()
    return lambda round_index: path.write_text(original + f"# bench round {round_index}\n"), original


def settle(command, cwd) -> None:
    """Run once, wait 2 s, run again: the run memo trusts a file's signature only once it is
    2 s older than the run (git's racy-clean rule), as a re-run a minute later finds it."""
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.1)
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _warm_rows(root: Path, command, floor_s: float, repeat: int):
    """(warm, one leaf changed, shared base changed, floor, cold) seconds for one tree."""
    settle(command, root)
    warm_s = after_each(lambda _: None, command, root, repeat)
    leaves = sorted((root / "configs").rglob("prod/*.yaml"))
    change, original = appending(leaves[0])
    try:
        leaf_s = after_each(change, command, root, repeat)
    finally:
        leaves[0].write_text(original)
    base = root / "configs" / "copy000" / "base.yaml"
    change, original = appending(base)
    try:
        base_s = after_each(change, command, root, repeat)
    finally:
        base.write_text(original)
    cold = [part for part in command if part != "-q"] + ["--no-cache"]
    return warm_s, leaf_s, base_s, floor_s, wall(cold, root, repeat)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--venv", help="measure this environment instead of a fresh regular install")
    args = parser.parse_args()
    if args.venv:
        global VENV, BIN
        VENV = Path(args.venv).resolve()
        BIN = VENV / "bin"
    build_venv(existing=bool(args.venv))
    python = str(BIN / "python")
    lint = [str(BIN / "stage2-lint"), "-q", "--no-cache"]  # cold: every file checked afresh
    cached_lint = [str(BIN / "stage2-lint"), "-q"]
    # The repository's own settings: its contracts' scopes do not reach the copied trees, so this
    # measures parsing, extends resolution and the generic rules (the previous runs' workload).
    repo_lint = lint + ["--config", str(REPO / "setup.cfg")]
    # bench/contract.cfg (copied beside each tree) governs every copied file: schema walk,
    # required keys, provenance.
    full_lint = lint + ["--config", "contract.cfg"]
    yamllint = [str(BIN / "yamllint"), "-d", "relaxed"]
    floor = [python, str(REPO / "bench" / "floor.py")]
    checker = [str(BIN / "check-jsonschema"), "--schemafile", str(REPO / "schemas" / "stage2_ab.schema.json")]

    print("| tree | files | floor (compose only) | stage2-lint, repo settings | lint / floor "
          "| stage2-lint, every rule on every file | full / floor | yamllint -d relaxed | yamllint / full "
          "| check-jsonschema | check-jsonschema / full |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    warm, parallel = {}, {}
    for copies in (int(size) for size in args.sizes.split(",")):
        root = build_corpus(copies)
        repeat = args.repeat if copies < 50 else max(1, args.repeat // 2)
        serial = [("repo -j 1", repo_lint + ["-j", "1", "configs"]), ("full -j 1", full_lint + ["-j", "1", "configs"])]
        paired = interleaved([("floor", floor + ["configs"]), ("repo", repo_lint + ["configs"]),
                              ("full", full_lint + ["configs"])] + (serial if copies >= 10 else []), root, repeat)
        if copies >= 10:  # where the parallel runner starts to matter: the default against one process
            parallel[copies] = (paired["repo -j 1"] / paired["repo"], paired["full -j 1"] / paired["full"])
        floor_s, repo_s, full_s = paired["floor"], paired["repo"], paired["full"]
        yamllint_s = wall(yamllint + ["configs"], root, max(1, repeat // 2) if copies >= 10 else repeat)
        files = sorted(str(path.relative_to(root)) for path in (root / "configs").rglob("*.yaml"))
        checker_s = wall(checker + files, root, 1)
        print(f"| real-configs x{copies} | {len(files)} | {floor_s:.3f} s | {repo_s:.3f} s | "
              f"{repo_s / floor_s:.2f}x | {full_s:.3f} s | {full_s / floor_s:.2f}x | {yamllint_s:.3f} s | "
              f"{yamllint_s / full_s:.1f}x | {checker_s:.3f} s | {checker_s / full_s:.1f}x |")
        warm[copies] = _warm_rows(root, cached_lint + ["--config", "contract.cfg", "configs"], floor_s, repeat)
    if parallel:
        print()
        print("The parallel default (a worker per core) against `-j 1`, same rounds as the table above:")
        print()
        print("| tree | repo settings: -j 1 / default | every rule: -j 1 / default |")
        print("| --- | ---: | ---: |")
        for copies, (repo_speedup, full_speedup) in parallel.items():
            print(f"| real-configs x{copies} | {repo_speedup:.2f}x | {full_speedup:.2f}x |")
    print()
    print("The result cache (every rule on every file, `--config contract.cfg`): a warm re-run of the")
    print("unchanged tree, and a re-run right after changing one leaf or the shared base:")
    print()
    print("| tree | warm | warm / floor | one leaf changed | / floor | shared base changed | / floor | cold |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for copies, (warm_s, leaf_s, base_s, floor_s, full_s) in warm.items():
        print(f"| real-configs x{copies} | {warm_s:.3f} s | {warm_s / floor_s:.2f}x | {leaf_s:.3f} s | "
              f"{leaf_s / floor_s:.2f}x | {base_s:.3f} s | {base_s / floor_s:.2f}x | {full_s:.3f} s |")

    repeat = args.repeat * 4
    rows = [
        ('`python -c "import yaml"`', [python, "-c", "import yaml"]),
        ("stage2-lint LEAF", lint + [LEAF]),
        ("stage2-lint --with-dependents --with-surface LEAF (the pre-commit hook's command), cold",
         lint + ["--with-dependents", "--with-surface", LEAF]),
        ("the hook's command, warm (the cache)", cached_lint + ["--with-dependents", "--with-surface", LEAF]),
        ("stage2-lint resolve LEAF", [str(BIN / "stage2-lint"), "resolve", LEAF]),
        ("stage2-lint resolve --blame LEAF", [str(BIN / "stage2-lint"), "resolve", "--blame", LEAF]),
        ("yamllint -d relaxed LEAF", yamllint + [LEAF]),
    ]
    settle(rows[3][1], REPO)
    times = interleaved(rows, REPO, repeat)
    # A commit's case: the hook right after LEAF changed. Its own round-robin with import yaml
    # (an edit left in place would make the warm row above a cold one).
    edited = "the hook's command right after an edit of LEAF (a commit's case)"
    edit, original = appending(REPO / LEAF)
    try:
        pair = interleaved([(rows[0][0], rows[0][1]), (edited, rows[3][1])], REPO, repeat, before={edited: edit})
    finally:
        (REPO / LEAF).write_text(original)
    times[edited] = pair[edited]
    rows.insert(4, (edited, rows[3][1]))
    base, peer = times[rows[0][0]], times[rows[-1][0]]
    to_yaml = {name: times[name] / base for name, _ in rows}
    to_yaml[edited] = pair[edited] / pair[rows[0][0]]  # against import yaml of its own rounds
    print()
    print(f"One canonical leaf, LEAF = `{LEAF}` (its parents are read too), median of {repeat} runs:")
    print()
    print("| command | wall time | vs import yaml | vs yamllint |")
    print("| --- | ---: | ---: | ---: |")
    for name, _ in rows:
        print(f"| {name} | {times[name] * 1000:.0f} ms | {to_yaml[name]:.2f}x | {times[name] / peer:.2f}x |")
    print()
    print("Runtime guard, in-process (median of 200 calls):")
    print()
    subprocess.run([python, str(REPO / "bench" / "guard_overhead.py")], cwd=REPO, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
