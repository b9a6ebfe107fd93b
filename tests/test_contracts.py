"""Contracts are data: a family adopted with a settings section and a schema file gets the
same reports as Stage-2 AB; the typed config is the single source of the schema; settings are
declared once, documented, and never crash; no run passes having checked nothing."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from stage2_lint.contracts.settings import DECLARED, settings_table

from conftest import REPO, run_cli_process, write_tree

FAMILY_SETTINGS = """\
[stage2_lint.contract.family]
scope = configs/family/**/*.yaml
canonical = configs/family/prod/*.yaml configs/family/smoke/*.yaml
required_parent = ../base.yaml
required_keys = model.name run.id
retired_parents = configs/family/old_base.yaml
schema = schemas/family.schema.json
"""
FAMILY_SCHEMA = {
    "type": "object",
    "properties": {
        "extends": {},
        "model": {"type": ["object", "null"], "additionalProperties": False,
                  "properties": {"name": {"type": "string"}, "layers": {"type": "integer", "minimum": 1}}},
        "run": {"type": ["object", "null"], "additionalProperties": False,
                "properties": {"id": {"type": "string"}, "steps": {"type": "integer", "minimum": 1}}},
    },
    "additionalProperties": False,
}
FAMILY_LEAF = "extends: ../base.yaml\nmodel:\n  name: m\nrun:\n  id: r\n"


def _family(tmp_path, files):
    write_tree(tmp_path, {"setup.cfg": FAMILY_SETTINGS, "schemas/family.schema.json": json.dumps(FAMILY_SCHEMA),
                          "configs/family/base.yaml": "model:\n  layers: 2\n",
                          "configs/family/old_base.yaml": "run:\n  steps: 5\n", **files})
    return run_cli_process(["configs"], cwd=tmp_path)


def test_a_family_adopted_through_settings_only_gets_every_contract_report(tmp_path):
    result = _family(tmp_path, {
        "configs/family/prod/good.yaml": FAMILY_LEAF,
        "configs/family/prod/chained.yaml": FAMILY_LEAF.replace("../base.yaml", "../mid.yaml"),
        "configs/family/mid.yaml": "extends: base.yaml\n",
        "configs/family/smoke/dual.yaml": FAMILY_LEAF.replace("extends: ../base.yaml",
                                                              "extends: [../base.yaml, ../old_base.yaml]"),
        "configs/family/smoke/missing.yaml": FAMILY_LEAF.replace("run:\n  id: r\n", "run:\n  steps: 0\n"),
        "configs/family/smoke/typo.yaml": FAMILY_LEAF + "  stepz: 3\n",
    })
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "configs/family/prod/chained.yaml:1:10: S2L012 canonical leaf extends '../mid.yaml'; it must extend exactly "
        "'../base.yaml' (one hop, no chain): configs/family/prod/chained.yaml -> configs/family/mid.yaml -> "
        "configs/family/base.yaml",
        "configs/family/smoke/dual.yaml:1:1: S2L013 canonical leaf extends 2 parents (../base.yaml, ../old_base.yaml); "
        "it must extend exactly '../base.yaml' and inline the rest",
        "configs/family/smoke/dual.yaml:1:25: S2L050 extends retired parent '../old_base.yaml'; extend '../base.yaml' "
        "(the canonical base) instead",
        "configs/family/smoke/missing.yaml:4:1: S2L020 run.id is not set in this leaf (nor anywhere in its chain); "
        "canonical leaves pin it explicitly",
        "configs/family/smoke/missing.yaml:5:10: S2L040 run.steps: expected an integer >= 1, got 0",
        "configs/family/smoke/typo.yaml:6:3: S2L060 unknown key run.stepz; did you mean run.steps?",
    ]


def test_two_contracts_claiming_one_file_are_an_error_naming_both(tmp_path):
    settings = FAMILY_SETTINGS + "[stage2_lint.contract.other]\nscope = configs/**/prod/*.yaml\n"
    write_tree(tmp_path, {"setup.cfg": settings, "schemas/family.schema.json": json.dumps(FAMILY_SCHEMA),
                          "configs/family/base.yaml": "a: 1\n", "configs/family/prod/x.yaml": FAMILY_LEAF})
    result = run_cli_process(["configs/family/prod/x.yaml"], cwd=tmp_path)
    assert result.returncode == 2
    assert "configs/family/prod/x.yaml is in the scope of two contracts, family and other" in result.stderr


@pytest.mark.parametrize("settings,message", [
    ("[stage2_lint]\nnot_a_setting = 1\n", "[stage2_lint]: unknown setting 'not_a_setting' (known here: select,"),
    ("[stage2_lint.contract.x]\nscope = configs/**\ncanonical_keys = a\n",
     "[stage2_lint.contract.x]: unknown setting 'canonical_keys'"),
    ("[stage2_lint.contract.x]\ncanonical = configs/x/*.yaml\n", "[stage2_lint.contract.x]: a contract needs a scope"),
    ("[stage2_lint.contract.x]\nscope = configs/**\nmoved = a.b to c\n",
     "[stage2_lint.contract.x]: moved: 'a.b to c' needs the form 'old -> new'"),
    ("[stage2_lint]\nselect = S9X\n", "[stage2_lint]: select: S9X is not a rule code or prefix"),
    ("[stage2_lint]\nmax_nodes = many\n", "[stage2_lint]: max_nodes must be a whole number >= 1, not 'many'"),
    ("[stage2_lint.contract.x]\nscope = configs/**\nschema = missing.json\n", "schema file "),
])
def test_bad_settings_are_one_line_naming_the_file_and_key(tmp_path, settings, message):
    write_tree(tmp_path, {"setup.cfg": settings, "configs/x.yaml": "a: 1\n"})
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_readme_settings_table_is_the_declaration():
    readme = (REPO / "README.md").read_text()
    table = re.search(r"<!-- settings-table:[^\n]*-->\n(.*?)<!-- /settings-table -->", readme, re.S).group(1)
    assert table == settings_table()


# A valid value for every declared setting, in setup.cfg syntax.
VALUES = {"select": "S2L0", "ignore": "S2L031", "per_file_ignores": "\n    configs/legacy/*.yaml: S2L002",
          "exclude": ".* vendor", "root": "configs", "max_file_bytes": "4096", "max_depth": "8",
          "max_nodes": "100", "require_contract": "true", "scope": "configs/**/*.yaml", "canonical": "configs/prod/*.yaml",
          "required_parent": "../base.yaml", "required_keys": "model.name", "retired_parents": "configs/old.yaml",
          "schema": "schemas/family.schema.json", "schema_source": "family_types:Profile", "schema_stand_ins": "torch",
          "required_keys_in": "chain", "max_hops": "2", "multiple_parents": "true", "severity": "S2L050: warning",
          "moved": "old.block -> block", "removed": "run.legacy -> run.steps", "key_aliases": "inherit -> extends",
          "section_classes": "model -> family_types:ModelArgs", "catch_all": "model.extra",
          "not_sized_from": "model.draw_size -> run.steps", "cache": "false", "cache_dir": "build/lint-cache"}


def test_every_declared_setting_has_a_sample_value():
    assert set(VALUES) == {setting.name for setting in DECLARED}


@pytest.mark.parametrize("setting", DECLARED, ids=[s.name for s in DECLARED])
def test_every_declared_setting_can_be_set_and_shown(tmp_path, setting):
    contract = {"scope": "configs/**/*.yaml"}
    if setting.where == "contract":
        contract[setting.name] = VALUES[setting.name]
        text = "[stage2_lint.contract.c]\n" + "".join(f"{k} = {v}\n" for k, v in contract.items())
    else:
        text = f"[stage2_lint]\n{setting.name} = {VALUES[setting.name]}\n[stage2_lint.contract.c]\nscope = configs/**\n"
    write_tree(tmp_path, {"setup.cfg": text, "schemas/family.schema.json": json.dumps(FAMILY_SCHEMA),
                          "configs/base.yaml": "model:\n  name: m\n",
                          "configs/prod/x.yaml": "extends: ../base.yaml\nmodel:\n  name: n\n"})
    shown = run_cli_process(["--show-settings", "configs"], cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    engine_part, _, contract_part = shown.stdout.partition("[stage2_lint.contract.c]")
    section = engine_part if setting.where == "engine" else contract_part  # moved/removed are in both
    line = next(line for line in section.splitlines() if line.startswith(f"{setting.name} = "))
    assert line.endswith("setup.cfg [stage2_lint]" if setting.where == "engine"
                         else "setup.cfg [stage2_lint.contract.c]"), line
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_config_and_isolated_choose_the_settings(tmp_path):
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint]\nignore = S2L002\n", "other.cfg": "[stage2_lint]\n",
                          "configs/x.yaml": "a: 1\na: 2\n"})
    assert run_cli_process(["configs"], cwd=tmp_path).returncode == 0
    assert run_cli_process(["--config", "other.cfg", "configs"], cwd=tmp_path).returncode == 1
    assert run_cli_process(["--isolated", "configs"], cwd=tmp_path).returncode == 1
    result = run_cli_process(["--config", "nope.cfg", "configs"], cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "stage2-lint: error: --config nope.cfg: no such file\n")


def test_no_vacuous_pass(tmp_path):
    write_tree(tmp_path, {"setup.cfg": FAMILY_SETTINGS, "schemas/family.schema.json": json.dumps(FAMILY_SCHEMA),
                          "configs/renamed/prod/x.yaml": FAMILY_LEAF, "docs/readme.txt": "no yaml here\n"})
    result = run_cli_process(["docs"], cwd=tmp_path)
    assert result.returncode == 1
    assert "stage2-lint: docs: no YAML profile in this directory; nothing was checked" in result.stderr
    result = run_cli_process([], cwd=tmp_path)  # the family was renamed: its surface is empty
    assert result.returncode == 1
    assert ("stage2-lint: contract family: its canonical surface (configs/family/prod/*.yaml, "
            "configs/family/smoke/*.yaml) matches no file under") in result.stderr
    result = run_cli_process(["--isolated"], cwd=tmp_path)
    assert result.returncode == 2 and "no path given and no contract configured" in result.stderr


def test_a_removed_key_names_its_replacement_in_lint_and_guard(tmp_path):
    from stage2_lint.guard import ConfigContractError, enforce
    from stage2_tree import BASE, LEAF

    write_tree(tmp_path, {"configs/stage2_ab/base.yaml": BASE, "configs/stage2_ab/prod/leaf.yaml":
                          LEAF + "  channel_b:\n    rollout_decode_batch_size: 4\n"})
    expected = ("configs/stage2_ab/prod/leaf.yaml:21:5: S2L032 stage2_ab.channel_b.rollout_decode_batch_size was "
                "removed; use rollout_matching.decode_batch_size (the one decode knob)")
    assert run_cli_process(["configs"], cwd=tmp_path).stdout.splitlines() == [expected]
    with pytest.raises(ConfigContractError) as refused:
        enforce(str(tmp_path / "configs/stage2_ab/prod/leaf.yaml"))
    assert "S2L032 stage2_ab.channel_b.rollout_decode_batch_size was removed; use " \
           "rollout_matching.decode_batch_size" in str(refused.value)


def _repository_copy(tmp_path):
    root = tmp_path / "repo"
    for name in ("src", "configs", "schemas"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "setup.cfg", root / "setup.cfg")
    return root


def test_a_knob_added_to_the_typed_config_needs_only_an_export(tmp_path):
    root = _repository_copy(tmp_path)
    types = root / "src/config/schema.py"
    types.write_text(types.read_text().replace(
        "    bbox_smoothl1_weight: Optional[float] = knob(None, minimum=0)\n",
        "    bbox_smoothl1_weight: Optional[float] = knob(None, minimum=0)\n"
        "    bbox_ciou_weight: Optional[float] = knob(None, minimum=0, doc=\"CIoU term weight\")\n"))
    leaf = root / "configs/stage2_ab/prod/ab_mixed.yaml"
    leaf.write_text(leaf.read_text().replace("  n_softctx_iter: 2\n", "  n_softctx_iter: 2\n  bbox_ciou_weight: 0.5\n"))
    before = run_cli_process(["configs/stage2_ab"], cwd=root)
    assert "S2L060 unknown key stage2_ab.bbox_ciou_weight" in before.stdout
    stale = run_cli_process(["schema", "check"], cwd=root)
    assert stale.returncode == 1
    assert "schemas/stage2_ab.schema.json is stale" in stale.stderr and '+        "bbox_ciou_weight": {' in stale.stdout
    assert run_cli_process(["schema", "export", "--contract", "stage2_ab"], cwd=root).returncode == 0
    assert run_cli_process(["schema", "check"], cwd=root).returncode == 0
    after = run_cli_process(["configs/stage2_ab"], cwd=root)
    assert (after.returncode, after.stdout) == (0, ""), after.stdout
    loaded = subprocess.run([sys.executable, "-m", "src.sft", "--config", str(leaf), "--dry-run"], cwd=root,
                            capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr


def test_the_committed_schemas_are_current_and_valid_2020_12():
    from jsonschema import Draft202012Validator

    assert run_cli_process(["schema", "check"], cwd=REPO).returncode == 0
    for path in sorted((REPO / "schemas").glob("*.json")):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=os.path.dirname(sys.executable))


@pytest.mark.skipif(CHECK_JSONSCHEMA is None, reason="check-jsonschema is in the test extra")
def test_check_jsonschema_validates_the_leaves_and_catches_a_typo(tmp_path):
    for family in ("stage2_ab", "stage1"):
        leaves = sorted(str(p) for p in (REPO / "configs" / family).glob("*/*.yaml"))
        result = subprocess.run([CHECK_JSONSCHEMA, "--schemafile", str(REPO / f"schemas/{family}.schema.json"),
                                 *leaves], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout
    typo = tmp_path / "typo.yaml"
    typo.write_text((REPO / "configs/stage2_ab/prod/ab_mixed.yaml").read_text().replace("eval_steps:", "eval_step:"))
    result = subprocess.run([CHECK_JSONSCHEMA, "--schemafile", str(REPO / "schemas/stage2_ab.schema.json"), str(typo)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "'eval_step' was unexpected" in result.stdout


def test_the_documented_editor_modeline_points_at_the_schema():
    readme = (REPO / "README.md").read_text()
    relative = re.search(r"# yaml-language-server: \$schema=(\S+?)`", readme).group(1)
    leaf_dir = REPO / "configs/stage2_ab/prod"
    assert (leaf_dir / relative).resolve() == (REPO / "schemas/stage2_ab.schema.json").resolve()


def test_discovery_and_membership_use_one_glob_matcher(tmp_path):
    """Once, prod/.hidden.yaml was canonical for the membership check and not found by discovery."""
    from stage2_lint.core import globs
    from stage2_lint.tree.hierarchy import canonical_files
    from stage2_lint.tree.layout import matches
    from stage2_lint.contracts.settings import find_settings

    write_tree(tmp_path, {name: FAMILY_LEAF for name in (
        "configs/family/prod/a.yaml", "configs/family/prod/.hidden.yaml", "configs/family/prod/deeper/b.yaml",
        "configs/family/smoke/c.yaml", "configs/family/.git/d.yaml")} | {
        "setup.cfg": FAMILY_SETTINGS, "schemas/family.schema.json": json.dumps(FAMILY_SCHEMA)})
    settings = find_settings(str(tmp_path))
    everything = [str(p.relative_to(tmp_path)) for p in sorted(tmp_path.rglob("*.yaml"))]
    surface = [os.path.relpath(path, tmp_path) for path in canonical_files(settings)]
    members = [path for path in everything if matches(settings, str(tmp_path / path), settings.contracts[0].canonical)]
    assert sorted(surface) == sorted(members) == ["configs/family/prod/a.yaml", "configs/family/smoke/c.yaml"]
    assert [p for p in everything if globs.matches(p, ("configs/**/*.yaml",))] == [
        "configs/family/prod/a.yaml", "configs/family/prod/deeper/b.yaml", "configs/family/smoke/c.yaml"]


def test_repository_wide_moved_and_removed_keys_apply_outside_every_contract(tmp_path):
    """A profile no contract governs still may not use the retired namespace the repository
    declared (the training code's loader refuses it anywhere)."""
    write_tree(tmp_path, {
        "setup.cfg": "[stage2_lint]\nmoved = old.ns -> new\nremoved = gone.key -> nothing: it did nothing\n"
                     "[stage2_lint.contract.fam]\nscope = configs/fam/**/*.yaml\n",
        "configs/other/x.yaml": "old:\n  ns:\n    a: 1\ngone:\n  key: 2\n",
        "configs/fam/y.yaml": "old:\n  ns:\n    b: 1\n",
    }, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "configs/fam/y.yaml:3:5: S2L030 old.ns.b is in the retired namespace; move it to new.b",
        "configs/other/x.yaml:3:5: S2L030 old.ns.a is in the retired namespace; move it to new.a",
        "configs/other/x.yaml:5:3: S2L032 gone.key was removed (it did nothing); delete it"]
    assert run_cli_process(["fix", "configs"], cwd=tmp_path).returncode == 0
    assert (tmp_path / "configs/other/x.yaml").read_text().startswith("gone:\n  key: 2\n\nnew:\n  a: 1\n")


def test_the_file_that_breaks_the_contract_is_reported_not_its_conforming_parent(tmp_path):
    write_tree(tmp_path, {
        "setup.cfg": "[stage2_lint.contract.fam]\nscope = configs/**/*.yaml\ncanonical = configs/fam/prod/*.yaml\n"
                     "required_parent = ../base.yaml\n",
        "configs/fam/base.yaml": "a: 1\n",
        "configs/fam/prod/leaf.yaml": "extends: ../base.yaml\nb: 2\n",
        "configs/fam/prod/child.yaml": "extends: leaf.yaml\nc: 3\n",
    }, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(" ")[:2] for line in result.stdout.splitlines()] == [
        ["configs/fam/prod/child.yaml:1:10:", "S2L012"]]


RENAMED_FAMILY = {
    "setup.cfg": "[stage2_lint.contract.fam]\nscope =\n    configs/fam/**/*.yaml\n    configs/base.yaml\n"
                 "canonical =\n    configs/fam/prod/*.yaml\n    configs/fam/smoke/*.yaml\nrequired_parent = ../base.yaml\n",
    "configs/base.yaml": "a: 1\n",
    "configs/newfam/base.yaml": "a: 1\n",
    "configs/newfam/prod/leaf.yaml": "extends: ../base.yaml\n",
}


def test_a_renamed_family_is_not_a_pass(tmp_path):
    """The directory was renamed and the settings were not: linting the new directory must not
    say "no violations", and a whole-surface run names each stale glob."""
    write_tree(tmp_path, RENAMED_FAMILY, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["configs/newfam"], cwd=tmp_path)
    assert result.returncode == 1
    assert ("stage2-lint: configs/newfam: no contract (fam) governs any of its 2 profile(s): was the family renamed "
            f"or moved? update the contracts' scope in {tmp_path}/setup.cfg") in result.stderr
    result = run_cli_process([], cwd=tmp_path)
    assert result.returncode == 1
    for kind, glob in (("scope", "configs/fam/**/*.yaml"), ("canonical", "configs/fam/prod/*.yaml"),
                       ("canonical", "configs/fam/smoke/*.yaml")):
        assert (f"contract fam: its {kind} glob '{glob}' matches no file under {tmp_path} (renamed or moved?); "
                f"update or drop it") in result.stderr
    assert "its scope glob 'configs/base.yaml'" not in result.stderr


@pytest.mark.parametrize("jobs", [[], ["-j", "1"]])
def test_a_renamed_family_big_enough_for_workers_is_not_a_pass_either(tmp_path, jobs):
    """In a parallel run the workers place the files; the parent asks them, not the settings
    again, whether any is governed. Two directories, so the answer is asked of each."""
    from stage2_lint.checking.engine import PARALLEL_FROM

    tree = dict(RENAMED_FAMILY)
    tree.update({f"configs/newfam/{kind}/f{index:03d}.yaml": "a: 1\n"
                 for kind in ("prod", "smoke") for index in range(PARALLEL_FROM // 2 + 5)})
    write_tree(tmp_path, tree, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["-q", *jobs, "configs/newfam"], cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr == ("stage2-lint: configs/newfam: no contract (fam) governs any of its "
                             f"{PARALLEL_FROM + 12} profile(s): was the family renamed or moved? update the contracts' "
                             f"scope in {tmp_path}/setup.cfg\n")


@pytest.mark.parametrize("ci_yaml, said", [(False, True), (True, False)])
def test_a_walk_that_also_holds_yaml_outside_the_config_tree_is_not_called_a_renamed_family(tmp_path, ci_yaml, said):
    """Every file of the walk must be a profile (under ``configs/``) for the walk to be a
    renamed family: CI or hook YAML beside them is another story."""
    tree = {name: text for name, text in RENAMED_FAMILY.items() if name != "configs/base.yaml"}  # base is governed
    write_tree(tmp_path, {**tree, **({"ci/lint.yaml": "a: 1\n"} if ci_yaml else {})}, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["-q", "."], cwd=tmp_path)
    assert ("stage2-lint: .: no contract (fam) governs any of its" in result.stderr) is said, result.stderr


LATER_CONTRACT = """\
[stage2_lint.contract.relaxed]
scope = configs/relaxed/**/*.yaml
canonical =
    configs/relaxed/prod/*.yaml
    configs/relaxed/smoke/*.yaml
    configs/relaxed/ablation/*.yaml
required_parent = ../base.yaml
max_hops = 3
multiple_parents = true
required_keys_in = chain
required_keys =
    model.model
    training.output_dir | training.artifact_subdir
severity = S2L050: warning
[stage2_lint.contract.strict]
scope = configs/strict/**/*.yaml
canonical = configs/strict/prod/*.yaml
required_parent = ../base.yaml
required_keys = model.model
"""


def test_a_relaxed_contract_is_written_in_settings_alone_and_relaxes_only_its_family(tmp_path):
    """The later upstream contract: chains and list-valued extends allowed, required keys after
    inheritance, output_dir or artifact_subdir, three canonical directories. Nothing is
    ignored tool-wide: the strict family beside it still fails the same shapes."""
    write_tree(tmp_path, {
        "setup.cfg": LATER_CONTRACT,
        "configs/relaxed/base.yaml": "model:\n  model: m\n",
        "configs/relaxed/mixins/eval.yaml": "training:\n  eval_steps: 10\n",
        "configs/relaxed/prod/a.yaml": "extends: ../base.yaml\ntraining:\n  artifact_subdir: a\n",
        "configs/relaxed/smoke/b.yaml": "extends: [../base.yaml, ../mixins/eval.yaml]\ntraining:\n  output_dir: o\n",
        "configs/relaxed/ablation/c.yaml": "extends: ../variants/c_base.yaml\n",
        "configs/relaxed/variants/c_base.yaml": "extends: ../base.yaml\ntraining:\n  output_dir: c\n",
        "configs/strict/base.yaml": "model:\n  model: m\n",
        "configs/strict/prod/a.yaml": "extends: [../base.yaml, ../base.yaml]\nmodel:\n  model: m\n",
    }, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.stdout.splitlines() == [
        "configs/strict/prod/a.yaml:1:1: S2L013 canonical leaf extends 2 parents (../base.yaml, ../base.yaml); "
        "it must extend exactly '../base.yaml' and inline the rest"]
    # each relaxed rule still catches what it still forbids
    write_tree(tmp_path, {
        "configs/relaxed/prod/far.yaml": "extends: ../variants/h1.yaml\ntraining:\n  output_dir: f\n",
        "configs/relaxed/variants/h1.yaml": "extends: h2.yaml\n",
        "configs/relaxed/variants/h2.yaml": "extends: h3.yaml\n",
        "configs/relaxed/variants/h3.yaml": "extends: ../base.yaml\n",
        "configs/relaxed/smoke/bare.yaml": "extends: ../base.yaml\n",
        "configs/relaxed/ablation/chained.yaml": "extends: ../prod/a.yaml\ntraining:\n  output_dir: r\n",
        "configs/relaxed/prod/mid.yaml": "extends: ../variants/h3.yaml\ntraining:\n  output_dir: m\n",
        "configs/relaxed/smoke/on_mid.yaml": "extends: ../prod/mid.yaml\n",
    }, contract=False)
    result = run_cli_process(["configs/relaxed"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "configs/relaxed/prod/far.yaml:1:10: S2L012 canonical leaf does not reach '../base.yaml' within 3 hop(s): "
        "configs/relaxed/prod/far.yaml -> configs/relaxed/variants/h1.yaml -> configs/relaxed/variants/h2.yaml -> "
        "configs/relaxed/variants/h3.yaml -> configs/relaxed/base.yaml",
        "configs/relaxed/prod/mid.yaml:1:1: S2L050 [warning] intermediate parent on the canonical surface (extended by "
        "configs/relaxed/smoke/on_mid.yaml); only one-hop leaves live here",
        "configs/relaxed/smoke/bare.yaml:1:1: S2L020 training.output_dir or training.artifact_subdir is set "
        "neither in this leaf nor anywhere in its chain"]
    report = json.loads(run_cli_process(["--format", "json", "configs/relaxed"], cwd=tmp_path).stdout)
    severities = {v["code"]: v["severity"] for v in report["violations"]}
    assert severities == {"S2L012": "error", "S2L050": "warning", "S2L020": "error"}


def test_an_alias_key_declared_in_settings_is_read_as_the_key_it_spells(tmp_path):
    """The codebase's loader accepts ``inherit:`` for ``extends:``. Undeclared, the alias is an
    unknown key and the leaf misses its parent; declared, the leaf conforms; both spelled in
    one file is a duplicate key."""
    leaf = "inherit: ../base.yaml\nmodel:\n  name: m\nrun:\n  id: r\n"
    result = _family(tmp_path, {"configs/family/prod/a.yaml": leaf})
    assert result.returncode == 1
    assert "configs/family/prod/a.yaml:1:1: S2L012 canonical leaf has no 'extends'" in result.stdout
    assert "configs/family/prod/a.yaml:1:1: S2L060 unknown key inherit" in result.stdout
    (tmp_path / "setup.cfg").write_text("[stage2_lint]\nkey_aliases = inherit -> extends\n" + FAMILY_SETTINGS)
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout
    resolved = run_cli_process(["resolve", "configs/family/prod/a.yaml"], cwd=tmp_path)
    assert "layers: 2" in resolved.stdout, resolved.stdout  # the parent's value arrived through the alias
    (tmp_path / "configs/family/prod/a.yaml").write_text("extends: ../base.yaml\n" + leaf)
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 1
    assert ("configs/family/prod/a.yaml:2:1: S2L002 'inherit' is read as 'extends', which this file also sets; "
            "keep one of them") in result.stdout, result.stdout


def test_a_second_contract_speaks_in_its_own_words(tmp_path):
    """Messages, fixes, the guard and explain name the contract's own parent, prefixes and
    name; nothing of this repository's contract leaks into another repository's run."""
    from stage2_lint.guard import ConfigContractError, enforce

    settings = ("[stage2_lint.contract.vision]\nscope = configs/**/*.yaml\ncanonical = configs/runs/*.yaml\n"
                "required_parent = ../root.yaml\nrequired_keys = net.depth\nmoved = legacy.opts -> opts\n")
    write_tree(tmp_path, {"setup.cfg": settings, "configs/root.yaml": "net: {depth: 2}\n",
                          "configs/mid.yaml": "extends: root.yaml\n",
                          "configs/runs/a.yaml": "extends: ../mid.yaml\nlegacy:\n  opts:\n    lr: 1\n"}, contract=False)
    (tmp_path / ".git").mkdir()
    result = run_cli_process(["--format", "json", "configs"], cwd=tmp_path)
    report = json.loads(result.stdout)
    assert {v["code"] for v in report["violations"]} == {"S2L012", "S2L020", "S2L030"}
    text = json.dumps(report) + run_cli_process(["rules"], cwd=tmp_path).stdout + "".join(
        run_cli_process(["explain", code], cwd=tmp_path).stdout for code in ("S2L012", "S2L030", "S2P002"))
    assert not re.search(r"stage2_ab|stage-2|rollout", text, re.IGNORECASE), text
    assert "../root.yaml" in json.dumps(report) and "move it to opts.lr" in json.dumps(report)
    assert "[stage2_lint.contract.vision]\n    canonical = configs/runs/*.yaml\n    required_parent = ../root.yaml" in \
        run_cli_process(["explain", "S2L012"], cwd=tmp_path).stdout
    with pytest.raises(ConfigContractError) as refused:
        enforce(str(tmp_path / "configs/runs/a.yaml"))
    assert "breaks the vision config contract" in str(refused.value)
