"""The repository's own canonical tree: clean, and value-for-value what the legacy tree ran."""
import os

import pytest

from stage2_lint.editing.fix import Move, relocated
from stage2_lint.tree.resolver import Resolver
from stage2_lint.contracts.settings import find_settings

from conftest import LEGACY, REPO, flat, requires_shared, run_cli_process, repo_settings, MOVED_ROLLOUT

MOVES = (Move.parse(*MOVED_ROLLOUT),)

PAIRS = {  # canonical leaf -> legacy profile it replaces
    "prod/a_only.yaml": "prod/a_only_base.yaml",
    "prod/b_only.yaml": "prod/b_only.yaml",
    "prod/ab_mixed.yaml": "prod/ab_mixed.yaml",
    "smoke/b_only.yaml": "smoke/b_only.yaml",
    "smoke/ab_mixed.yaml": "smoke/ab_mixed.yaml",
    "smoke/a_only.yaml": "smoke/a_only_iter1.yaml",
    "ablation/a_only_iter1.yaml": "prod/a_only_iter-1.yaml",
    "ablation/a_only_iter3.yaml": "prod/a_only_iter-3.yaml",
    "ablation/a_only_iter4.yaml": "prod/a_only_iter-4.yaml",
}
# Deliberate changes (docs/migration.md): run identity and output roots only.
RENAMED = {"smoke/a_only.yaml": {"training.run_name", "training.output_dir", "training.logging_dir"}}


def test_repo_tree_lints_clean():
    result = run_cli_process(["configs/stage2_ab"], cwd=REPO)
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_canonical_surface_is_exactly_the_six_leaves_and_the_stage1_pair():
    from stage2_lint.tree.hierarchy import canonical_files

    os.chdir(REPO)
    settings = find_settings()
    stage2_ab = next(contract for contract in settings.contracts if contract.name == "stage2_ab")
    assert canonical_files(settings, stage2_ab.canonical) == [
        f"configs/stage2_ab/{name}" for name in (
            "prod/a_only.yaml", "prod/ab_mixed.yaml", "prod/b_only.yaml",
            "smoke/a_only.yaml", "smoke/ab_mixed.yaml", "smoke/b_only.yaml")]
    assert [path for path in canonical_files(settings) if "stage1" in path] == [
        "configs/stage1/prod/coco_desc_first.yaml", "configs/stage1/smoke/coco_desc_first.yaml"]


@requires_shared
@pytest.mark.parametrize("canonical", sorted(PAIRS))
def test_canonical_leaf_resolves_to_the_legacy_values(canonical):
    new = Resolver(repo_settings(str(REPO))).merge.resolve(str(REPO / "configs/stage2_ab" / canonical))
    old = Resolver(repo_settings(str(LEGACY))).merge.resolve(str(LEGACY / "configs/stage2_ab" / PAIRS[canonical]))
    assert new is not None and old is not None
    new_values, old_values = dict(flat(new.config)), dict(flat(relocated(old.config, MOVES)))
    missing = object()
    differing = {key for key in new_values.keys() | old_values.keys()
                 if new_values.get(key, missing) != old_values.get(key, missing)}
    assert differing == RENAMED.get(canonical, set())
