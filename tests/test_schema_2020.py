"""The schema file is JSON Schema 2020-12: stage2-lint's verdicts agree with an independent
implementation (the `jsonschema` library, and the `check-jsonschema` command on the same files),
a malformed or unenforceable schema is refused when loaded, and the differential test notices a
validator that skips a keyword."""
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings, strategies as st

from stage2_lint.contracts import schema as walker
from stage2_lint.core.records import SchemaError

from conftest import run_cli_process, write_tree

# Formats both sides check without optional packages (jsonschema's date-time and uri need more).
FORMATS = ["date", "ipv4", "ipv6", "uuid", "email", "regex"]
CHECKER = jsonschema.FormatChecker(formats=FORMATS)

# Integral floats are left out on purpose: stage2-lint does not take 1.0 as an integer (a YAML
# profile tells 1 and 1.0 apart), a documented departure tested on its own below.
NUMBERS = st.one_of(st.integers(-4, 4), st.sampled_from([0.5, -1.5, 2.25]))
TEXT = st.one_of(st.text(alphabet="ab", max_size=3),
                 st.sampled_from(["2020-01-31", "2020-02-30", "1.2.3.4", "::1", "a@b", "(", "x" * 5,
                                  "12345678-1234-1234-1234-123456789abc"]))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
KEYS = st.sampled_from(["a", "b", "ab", "c"])
REPEATS = st.lists(st.sampled_from([0, 1, "a"]), min_size=2, max_size=3)  # uniqueItems needs repeats to judge
VALUES = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), REPEATS, st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8)
TYPES = st.sampled_from(["null", "boolean", "object", "array", "number", "string", "integer"])
SMALL = st.integers(0, 3)

LEAF_KEYWORDS = {
    "type": st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=3, unique=True)),
    "enum": st.lists(SCALARS, min_size=1, max_size=3), "const": SCALARS,
    "minimum": NUMBERS, "maximum": NUMBERS, "exclusiveMinimum": NUMBERS, "exclusiveMaximum": NUMBERS,
    "multipleOf": st.sampled_from([1, 2, 3, 0.5]), "minLength": SMALL, "maxLength": SMALL,
    "pattern": st.sampled_from(["^a", "b$", "a+", "^$"]), "format": st.sampled_from(FORMATS),
    "minItems": SMALL, "maxItems": SMALL, "uniqueItems": st.booleans(),
    "required": st.lists(KEYS, max_size=2, unique=True), "minProperties": SMALL, "maxProperties": SMALL,
    "dependentRequired": st.dictionaries(KEYS, st.lists(KEYS, max_size=2, unique=True), max_size=2),
    "minContains": SMALL, "maxContains": SMALL,
}


def _keywords(options: dict):
    return st.fixed_dictionaries({}, optional=options)


def _with_children(children, ref=True):
    lists = st.lists(children, min_size=1, max_size=3)
    return _keywords({
        **LEAF_KEYWORDS,
        "properties": st.dictionaries(KEYS, children, max_size=3), "patternProperties": st.dictionaries(
            st.sampled_from(["^a", "b"]), children, max_size=2), "additionalProperties": children,
        "propertyNames": children, "items": children, "prefixItems": lists, "contains": children,
        "allOf": lists, "anyOf": lists, "oneOf": lists, "not": children, "if": children, "then": children,
        "else": children, "dependentSchemas": st.dictionaries(KEYS, children, max_size=2),
        "unevaluatedProperties": children, "unevaluatedItems": children,
        **({"$ref": st.just("#/$defs/shared")} if ref else {}),
    })


PLAIN = st.recursive(st.one_of(st.booleans(), _keywords(LEAF_KEYWORDS)), lambda c: _with_children(c, ref=False),
                     max_leaves=6)
SCHEMAS = st.builds(lambda body, shared: {**body, "$defs": {"shared": shared}} if isinstance(body, dict) else body,
                    st.recursive(st.one_of(st.booleans(), _keywords(LEAF_KEYWORDS)), _with_children, max_leaves=6),
                    PLAIN)


def _ours(instance, schema) -> bool:
    return not list(walker.walk(instance, schema))


def _theirs(instance, schema) -> bool:
    return jsonschema.Draft202012Validator(schema, format_checker=CHECKER).is_valid(instance)


def _disagree(pair) -> bool:
    schema, instance = pair
    return _ours(instance, schema) != _theirs(instance, schema)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=not os.environ.get("STAGE2_LINT_EXPLORE"))  # CI: the same cases; explore: new ones
@given(schema=SCHEMAS, instance=VALUES)
def test_verdicts_agree_with_jsonschema(schema, instance):
    assert _ours(instance, schema) == _theirs(instance, schema), (schema, instance)


@pytest.mark.parametrize("skipped", ["_not", "_oneof", "_anyof", "_string_problem"])
def test_the_differential_test_notices_a_skipped_keyword(skipped, monkeypatch):
    """A validator that skips one keyword is caught by the same strategies."""
    in_place = lambda self, *args: walker._nothing()  # noqa: E731 - the applicator does nothing
    skip = {"_not": in_place, "_oneof": in_place, "_anyof": in_place,
            "_string_problem": lambda value, schema: None}[skipped]
    owner = walker._Evaluation if skipped != "_string_problem" else walker
    monkeypatch.setattr(owner, skipped, skip)
    budget = settings(max_examples=5000, deadline=None, database=None, phases=[Phase.generate],  # no shrinking
                      derandomize=True)  # the same examples every run: never a flaky miss
    found = find(st.tuples(SCHEMAS, VALUES), _disagree, settings=budget)
    assert _disagree(found)


def test_an_integral_float_is_not_an_integer_nor_nan_a_number():
    assert not _ours(1.0, {"type": "integer"}) and _theirs(1.0, {"type": "integer"})
    assert not _ours(float("nan"), {"type": "number"})
    assert _ours(1.0, {"enum": [1]}) and _theirs(1.0, {"enum": [1]})  # JSON Schema equality otherwise


# A schema written by hand with every validation keyword, and the instances check-jsonschema judges.
EVERY_KEYWORD = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"name": {"$anchor": "name", "type": "string", "minLength": 2, "maxLength": 12,
                       "pattern": "^[a-z_]+$"}},
    "properties": {
        "extends": {"type": "string"},
        "run": {"type": "object", "properties": {
            "name": {"$ref": "#name"}, "kind": {"const": "sft"}, "mode": {"enum": ["a", "b"]},
            "steps": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 10},
            "rate": {"type": "number", "exclusiveMaximum": 1, "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3,
                     "uniqueItems": True, "contains": {"const": "main"}, "maxContains": 1},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
            "seed": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 10}]},
            "device": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "day": {"type": "string", "format": "date"},
            "opts": {"type": "object", "minProperties": 1, "maxProperties": 2,
                     "propertyNames": {"pattern": "^[a-z]+$"}, "patternProperties": {"^x": {"type": "integer"}}},
            "gpu": {"not": {"type": "null"}},
        }, "required": ["name"], "dependentRequired": {"rate": ["steps"]},
            "dependentSchemas": {"mode": {"required": ["kind"]}},
            "if": {"properties": {"kind": {"const": "sft"}}, "required": ["kind"]},
            "then": {"required": ["steps"]}, "unevaluatedProperties": False},
    },
    "additionalProperties": False,
}
GOOD = "run:\n  name: demo\n  kind: sft\n  steps: 20\n"
BAD = {
    "ref-minLength": "run:\n  name: d\n  kind: sft\n  steps: 20\n",
    "ref-pattern": "run:\n  name: Demo\n  kind: sft\n  steps: 20\n",
    "const": "run:\n  name: demo\n  kind: rl\n",
    "enum": GOOD + "  mode: c\n",
    "exclusiveMinimum": "run:\n  name: demo\n  kind: sft\n  steps: 0\n",
    "multipleOf": "run:\n  name: demo\n  kind: sft\n  steps: 15\n",
    "exclusiveMaximum": GOOD + "  rate: 1.0\n",
    "minItems": GOOD + "  tags: []\n",
    "maxItems": GOOD + "  tags: [main, a, b, c]\n",
    "uniqueItems": GOOD + "  tags: [main, a, a]\n",
    "contains": GOOD + "  tags: [a]\n",
    "maxContains": GOOD + "  tags: [main, main2]\n".replace("main2", "x") + "  extra_tag: 1\n",
    "prefixItems": GOOD + "  pair: [a, b]\n",
    "items-false": GOOD + "  pair: [1, b, 3]\n",
    "oneOf": GOOD + "  seed: 5\n",
    "anyOf": GOOD + "  device: [0]\n",
    "format": GOOD + "  day: '2020-02-30'\n",
    "minProperties": GOOD + "  opts: {}\n",
    "maxProperties": GOOD + "  opts: {a: 1, b: 2, c: 3}\n",
    "propertyNames": GOOD + "  opts: {A: 1}\n",
    "patternProperties": GOOD + "  opts: {xa: s}\n",
    "not": GOOD + "  gpu: null\n",
    "required": "run:\n  kind: sft\n  steps: 20\n",
    "dependentRequired": "run:\n  name: demo\n  rate: 0.5\n",
    "dependentSchemas": "run:\n  name: demo\n  mode: a\n",
    "if-then": "run:\n  name: demo\n  kind: sft\n",
    "unevaluatedProperties": GOOD + "  other: 1\n",
    "additionalProperties": GOOD + "top: 1\n",
}


def test_every_validation_keyword_is_enforced_where_check_jsonschema_enforces_it(tmp_path):
    settings_text = ("[stage2_lint.contract.every]\nscope = configs/**/*.yaml\n"
                     "schema = schemas/every.schema.json\n")
    files = {f"configs/{name}.yaml": text for name, text in BAD.items()}
    write_tree(tmp_path, {"setup.cfg": settings_text, "schemas/every.schema.json": json.dumps(EVERY_KEYWORD),
                          "configs/good.yaml": GOOD, **files})
    verdicts = {}
    for name in ["good", *BAD]:
        theirs = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--schemafile",
                                 str(tmp_path / "schemas/every.schema.json"), str(tmp_path / f"configs/{name}.yaml")],
                                capture_output=True, text=True, timeout=120)
        ours = run_cli_process([f"configs/{name}.yaml"], cwd=tmp_path)
        assert "Traceback" not in ours.stderr, ours.stderr
        verdicts[name] = (ours.returncode, theirs.returncode)
    assert verdicts == {"good": (0, 0), **{name: (1, 1) for name in BAD}}


MALFORMED = {
    "properties-list": {"type": "object", "properties": []},
    "pattern": {"type": "object", "properties": {"a": {"pattern": "("}}},
    "enum-number": {"type": "object", "properties": {"a": {"enum": 5}}},
    "type-name": {"type": "object", "properties": {"a": {"type": "float"}}},
    "minLength-negative": {"type": "object", "properties": {"a": {"minLength": -1}}},
    "required-number": {"type": "object", "required": [1]},
    "anyOf-empty": {"type": "object", "anyOf": []},
    "items-list": {"type": "object", "properties": {"a": {"items": [1]}}},
    "format-list": {"type": "object", "properties": {"a": {"format": ["date"]}}},  # was an internal error
    "format-number": {"type": "object", "properties": {"a": {"format": 5}}},
    "pattern-number": {"type": "object", "properties": {"a": {"pattern": 5}}},
    "const-under-bad-type": {"type": "object", "properties": {"a": {"const": [], "type": ["string", "string"]}}},
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_schema_is_refused_as_the_metaschema_refuses_it(name, tmp_path):
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema(MALFORMED[name])
    _assert_refused(tmp_path, MALFORMED[name])


@pytest.mark.parametrize("schema,said", [
    ({"type": "object", "properties": {"a": {"minimun": 1}}}, "unknown keyword 'minimun'"),
    ({"type": "object", "$dynamicRef": "#x"}, "$dynamicRef (dynamic references) is not enforced"),
    ({"type": "object", "properties": {"a": {"format": "hostname"}}}, "format 'hostname' is not enforced"),
    ({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}, "never fetches"),
    ({"type": "object", "properties": {"a": {"$ref": "../../outside.json"}}}, "leads outside the repository"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "no such place"),
    ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}, "not 'http://json-schema.org"),
])
def test_a_schema_with_what_the_validator_would_skip_is_refused(schema, said, tmp_path):
    assert said in _assert_refused(tmp_path, schema)


@pytest.mark.parametrize("schema,pointer", [
    ({"type": "object", "properties": {"a/b~c": {"minLength": -1}}}, "#/properties/a~1b~0c/minLength must be"),
    ({"type": "object", "allOf": [{}, {"properties": {"x": {"anyOf": [True, 3]}}}]},
     "#/allOf/1/properties/x/anyOf/1 must be a schema"),
    ({"type": "object", "$defs": {"d": {"format": ["date"]}}}, "#/$defs/d/format must be a string, not an array"),
    ({"type": "object", "patternProperties": {"(": {}}}, "#/patternProperties: '(' is not a valid"),
])
def test_a_malformed_keyword_is_named_by_its_json_pointer(schema, pointer, tmp_path):
    assert pointer in _assert_refused(tmp_path, schema)


def _assert_refused(root, schema) -> str:
    write_tree(root, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/**/*.yaml\nschema = schemas/c.json\n",
                      "schemas/c.json": json.dumps(schema), "configs/x.yaml": "a: 1\n"})
    result = run_cli_process(["configs/x.yaml"], cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"stage2-lint: error: schema file {root / 'schemas/c.json'}"), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.stderr


def test_a_ref_to_another_schema_file_in_the_repository_is_followed(tmp_path):
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/**/*.yaml\nschema = schemas/c.json\n",
                          "schemas/c.json": json.dumps({"type": "object", "properties": {
                              "a": {"$ref": "common/count.json#/$defs/count"}}}),
                          "schemas/common/count.json": json.dumps({"$defs": {"count": {"type": "integer",
                                                                                       "minimum": 1}}}),
                          "configs/x.yaml": "a: 0\n"})
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path)
    assert result.stdout == "configs/x.yaml:1:4: S2L040 a: expected an integer >= 1, got 0\n"


def test_the_loader_refuses_a_bad_schema_with_a_value_error_not_a_traceback(tmp_path):
    write_tree(tmp_path, {"schemas/c.json": json.dumps(MALFORMED["pattern"])})
    with pytest.raises(SchemaError):
        walker.load(str(tmp_path / "schemas/c.json"))


def test_a_bad_schema_in_a_parallel_run_is_exit_2_naming_it(tmp_path):
    files = {f"configs/x{index}.yaml": "a: 1\n" for index in range(12)}
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/**/*.yaml\nschema = schemas/c.json\n",
                          "schemas/c.json": json.dumps(MALFORMED["pattern"]), **files})
    from stage2_lint.checking import engine
    from stage2_lint.contracts.settings import find_settings

    settings = find_settings(str(tmp_path))
    with pytest.raises(SchemaError, match="is not a valid regular expression"):
        engine._lint_in_processes([str(tmp_path / name) for name in files], settings, engine.YAML_RULES, 2)


def _two_families(tmp_path, count: int) -> list[str]:
    """``count`` files of family ``good`` (a sound schema) and none of family ``bad`` (a
    malformed one)."""
    files = {f"configs/good/x{index:04d}.yaml": f"a: {index % 2}\n" for index in range(count)}
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.good]\nscope = configs/good/*.yaml\n"
                                       "schema = schemas/good.json\n"
                                       "[stage2_lint.contract.bad]\nscope = configs/bad/*.yaml\nschema = schemas/bad.json\n",
                          "schemas/good.json": json.dumps({"type": "object", "properties": {"a": {"minimum": 1}}}),
                          "schemas/bad.json": json.dumps(MALFORMED["pattern"]), **files})
    return sorted(files)


def test_a_parallel_run_reads_only_the_schemas_of_contracts_governing_its_files(tmp_path):
    """A parallel run reads a schema only once a file of the run needs it, as one process
    does: the same verdict either way (one process is the oracle), and a run that reaches the
    malformed schema's family stops on it with exit 2, naming it, in either mode."""
    from stage2_lint.checking.engine import PARALLEL_FROM

    names = _two_families(tmp_path, PARALLEL_FROM + 10)
    parallel = run_cli_process(["-j", "2", "configs/good"], cwd=tmp_path)
    alone = run_cli_process(["-j", "1", "configs/good"], cwd=tmp_path)
    assert (parallel.returncode, parallel.stdout) == (alone.returncode, alone.stdout) == (1, parallel.stdout)
    assert parallel.stdout.splitlines()[0] == f"{names[0]}:1:4: S2L040 a: expected a number >= 1, got 0"
    assert len(parallel.stdout.splitlines()) == (PARALLEL_FROM + 10) // 2
    (tmp_path / "configs/bad").mkdir()
    (tmp_path / "configs/bad/y.yaml").write_text("a: 1\n")
    for jobs in ("1", "2"):
        reached = run_cli_process(["-j", jobs, "configs"], cwd=tmp_path)
        assert reached.returncode == 2 and "schemas/bad.json" in reached.stderr, reached.stderr
        assert "Traceback" not in reached.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_a_schema_file_is_read_like_a_profile(kind, tmp_path):
    """Never a hang, never unbounded memory: a FIFO, a device or an oversized file is refused."""
    write_tree(tmp_path, {"setup.cfg": "[stage2_lint.contract.c]\nscope = configs/**/*.yaml\nschema = schemas/c.json\n",
                          "configs/x.yaml": "a: 1\n"})
    (tmp_path / "schemas").mkdir(exist_ok=True)
    target = tmp_path / "schemas/c.json"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", target)
    else:
        target.write_text('{"type": "object", "description": "' + "x" * (walker.MAX_SCHEMA_BYTES + 1) + '"}')
    result = run_cli_process(["configs/x.yaml"], cwd=tmp_path, timeout=30, memory_mb=1024)
    assert result.returncode == 2, result.stderr
    assert f"schema file {target}" in result.stderr and "Traceback" not in result.stderr
