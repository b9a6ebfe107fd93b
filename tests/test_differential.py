"""The CLI and the runtime loader agree: the CLI reports an error for a profile exactly when
load_training_config raises, and with the same codes."""
import re
import shutil

import pytest

from stage2_lint.checking.engine import lint_paths
from stage2_lint.guard import ConfigContractError

from src.config.loader import ConfigLoader

from conftest import LEGACY, REPO, reference_resolve, requires_shared, repo_settings, install_contract

LEAVES = ["prod/a_only", "prod/b_only", "prod/ab_mixed", "smoke/a_only", "smoke/b_only", "smoke/ab_mixed"]


def _under(text, section, lines):
    """Add ``lines`` under top-level ``section``, creating the section when absent."""
    if f"\n{section}:\n" in text:
        return text.replace(f"\n{section}:\n", f"\n{section}:\n{lines}", 1)
    return text + f"{section}:\n{lines}"


MUTATIONS = {
    "delete-required-key": lambda t: t.replace("  vit_lr: 2.0e-05\n", ""),
    "delete-run-name": lambda t: t.replace("  run_name:", "  old_run_name:", 1),
    "retype-eval-strategy": lambda t: t.replace("eval_strategy: steps", "eval_strategy: no"),
    "retype-lr": lambda t: t.replace("learning_rate: 2.0e-05", "learning_rate: 2e-5"),
    "retype-batch": lambda t: _under(t, "rollout_matching", "  decode_batch_size: four\n"),
    "legacy-namespace": lambda t: _under(t, "custom", "  extra:\n    rollout_matching:\n      decode_batch_size: 4\n"),
    "extends-missing": lambda t: t.replace("extends: ../base.yaml", "extends: ../missing.yaml"),
    "extends-chain": lambda t: t.replace("extends: ../base.yaml", "extends: ../../base.yaml"),
    "extends-dual": lambda t: t.replace("extends: ../base.yaml", "extends: [../base.yaml, ../base.yaml]"),
    "extends-retired": lambda t: t.replace("extends: ../base.yaml", "extends: ../base_smoke_runtime.yaml"),
    "unknown-key": lambda t: t.replace("training:\n", "training:\n  eval_step: 3\n", 1),
    "duplicate-key": lambda t: t.replace("training:\n", "training:\n  seed: 1\n  seed: 2\n", 1),
    "untouched": lambda t: t,
}


def _codes_cli(path, settings):
    return sorted({v.code for v in lint_paths([path], settings).violations if v.is_error})


def _codes_loader(path, settings):
    try:
        ConfigLoader(settings).load_training_config(path)
    except ConfigContractError as error:
        return sorted(set(re.findall(r": (S2L\d{3}) ", str(error))))
    return []


def _agree(path, settings):
    cli, loader = _codes_cli(path, settings), _codes_loader(path, settings)
    assert cli == loader, f"{path}: CLI {cli} vs loader {loader}"
    return cli


@pytest.fixture(scope="module")
def mutant_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("mutants")
    shutil.copytree(REPO / "configs", root / "configs")
    install_contract(root)
    (root / "configs/stage2_ab/base_smoke_runtime.yaml").write_text("training:\n  max_steps: 100\n")
    return root


@pytest.mark.parametrize("leaf", LEAVES)
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_cli_and_loader_agree_on_mutants(mutant_tree, leaf, mutation, monkeypatch):
    monkeypatch.chdir(mutant_tree)
    source = (REPO / f"configs/stage2_ab/{leaf}.yaml").read_text()
    target = mutant_tree / f"configs/stage2_ab/{leaf}.yaml"
    target.write_text(MUTATIONS[mutation](source))
    try:
        codes = _agree(f"configs/stage2_ab/{leaf}.yaml", repo_settings(str(mutant_tree)))
        assert bool(codes) == (mutation != "untouched")
    finally:
        target.write_text(source)


@requires_shared
@pytest.mark.parametrize("profile", sorted(p.relative_to(LEGACY).as_posix()
                                           for p in (LEGACY / "configs/stage2_ab").rglob("*.yaml")))
def test_cli_and_loader_agree_on_the_legacy_corpus(profile, monkeypatch):
    monkeypatch.chdir(LEGACY)
    assert _agree(profile, repo_settings(str(LEGACY)))  # every legacy profile breaks the contract


@pytest.mark.parametrize("profile", sorted(p.relative_to(REPO).as_posix()
                                           for p in (REPO / "configs/stage2_ab").rglob("*.yaml")
                                           if p.name != "base.yaml"))
def test_cli_and_loader_agree_on_the_canonical_tree(profile, monkeypatch):
    monkeypatch.chdir(REPO)
    assert _agree(profile, repo_settings(str(REPO))) == []


# -- against independent implementations: a reference merge and the jsonschema library ------

SCHEMA_MUTATIONS = ("retype-eval-strategy", "retype-lr", "retype-batch", "unknown-key", "untouched")


@pytest.mark.parametrize("leaf", LEAVES)
@pytest.mark.parametrize("mutation", SCHEMA_MUTATIONS)
def test_the_loader_refuses_exactly_what_jsonschema_refuses(mutant_tree, leaf, mutation, monkeypatch):
    """The whole resolved profile, merged by a reference implementation and validated by the
    jsonschema library against the repository's schema file, is refused by the loader exactly
    when jsonschema refuses it; an accepted profile's mapping is the reference merge's."""
    import json

    import jsonschema

    monkeypatch.chdir(mutant_tree)
    source = (REPO / f"configs/stage2_ab/{leaf}.yaml").read_text()
    target = mutant_tree / f"configs/stage2_ab/{leaf}.yaml"
    target.write_text(MUTATIONS[mutation](source))
    try:
        expected = reference_resolve(str(target))
        schema = json.loads((mutant_tree / "schemas/stage2_ab.schema.json").read_text())
        valid = jsonschema.Draft202012Validator(schema).is_valid(expected)
        loader = ConfigLoader(repo_settings(str(mutant_tree)))
        try:
            profile = loader.load_profile(str(target))
        except ConfigContractError:
            refused = True
        else:
            refused = False
            assert profile.config == expected
        assert refused == (not valid) and refused == (mutation != "untouched")
    finally:
        target.write_text(source)
