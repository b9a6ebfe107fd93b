"""The legacy tree (before the refactor) and the larger real tree, end to end."""
from pathlib import Path

from conftest import REAL, REPO, requires_shared, run_cli_process, repo_settings

GOLDEN = Path(__file__).parent / "golden" / "legacy_stage2_ab.txt"


@requires_shared
def test_legacy_tree_report_matches_golden(legacy_corpus):
    result = run_cli_process(["-q", "configs/stage2_ab"], cwd=legacy_corpus)
    assert result.returncode == 1, result.stderr
    assert result.stdout == GOLDEN.read_text()


@requires_shared
def test_legacy_report_names_each_contract_breach():
    lines = GOLDEN.read_text().splitlines()
    assert ("configs/stage2_ab/smoke/ab_mixed.yaml:4:1: S2L013 canonical leaf extends 2 parents "
            "(../prod/ab_mixed.yaml, ../base_smoke_runtime.yaml); it must extend exactly '../base.yaml' "
            "and inline the rest") in lines
    assert any(line.startswith("configs/stage2_ab/prod/a_only_iter-1.yaml:3:10: S2L012 canonical leaf extends "
                               "'a_only_base.yaml'") for line in lines)
    assert ("configs/stage2_ab/prod/ab_mixed.yaml:25:7: S2L030 custom.extra.rollout_matching.decode_batch_size "
            "is in the retired namespace; move it to rollout_matching.decode_batch_size") in lines
    assert "configs/stage2_ab/prod/base.yaml:1:1: S2L050 retired parent on the canonical surface; fold its values " \
           "into '../base.yaml' and the leaves, then delete it" in lines
    holders = {line.split(":")[0] for line in lines if " S2L030 " in line and "is in the retired namespace" in line}
    expected = {f"configs/stage2_ab/{name}" for name in (
        "base_rollout_matching_sft.yaml", "base_smoke_runtime.yaml", "prod/a_only_base.yaml",
        "prod/a_only_iter-1.yaml", "prod/a_only_iter-3.yaml", "prod/a_only_iter-4.yaml", "prod/ab_mixed.yaml",
        "prod/b_only.yaml", "prod/base.yaml")}
    assert holders == expected
    inheritors = {line.split(":")[0] for line in lines if " S2L030 inherits " in line}
    assert inheritors == expected - {"configs/stage2_ab/base_rollout_matching_sft.yaml",
                                     "configs/stage2_ab/base_smoke_runtime.yaml"} | {
        f"configs/stage2_ab/smoke/{name}.yaml" for name in ("a_only_iter1", "ab_mixed", "b_only")}
    intermediates = {line.split(":")[0] for line in lines if "S2L050 intermediate parent" in line}
    assert intermediates == {"configs/stage2_ab/prod/a_only_base.yaml", "configs/stage2_ab/prod/a_only_iter-1.yaml",
                             "configs/stage2_ab/prod/ab_mixed.yaml", "configs/stage2_ab/prod/b_only.yaml"}


@requires_shared
def test_real_configs_never_crash():
    result = run_cli_process(["--config", str(REPO / "setup.cfg"), "configs"], cwd=REAL)
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "in 213 files" in result.stderr
    assert "configs/analysis/unmatched_proposal_verifier/smoke.yaml:59:3: S2L002 duplicate key " \
           "'authoritative_temperatures' (first set at line 58)" in result.stdout


@requires_shared
def test_parallel_run_reports_exactly_what_a_serial_run_does(monkeypatch):
    from stage2_lint.checking import engine

    monkeypatch.chdir(REAL)
    monkeypatch.setattr(engine, "PARALLEL_FROM", 10)
    settings = repo_settings(str(REAL))
    serial = engine.lint_paths(["configs"], settings, jobs=1)
    parallel = engine.lint_paths(["configs"], settings, jobs=2)
    assert parallel == serial and len(serial.files) == 213
