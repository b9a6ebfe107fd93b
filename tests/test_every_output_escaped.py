"""One escape for every output: every command and format, fed key names, values, file names
and settings holding every C0 and C1 control character, U+2028/U+2029, bidi controls, a
forged workflow command, ``%0A``, HTML, link syntax, pipes and backticks, prints none of the
dangerous ones raw; and random settings, schema files and arguments never give a traceback
or an internal error."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from conftest import REPO, run_cli_process, write_tree

RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
POISON = ("".join(map(chr, [*range(1, 32), 127, *range(0x80, 0xA0)])) + "\u2028\u2029\u202e\u2066"
          + " ::error file=x::FORGED %0A <b>bold</b> <img src=x> [link](http://evil.example) | `tick`")
KEY = "k" + POISON.replace("\n", "\nFORGED")
NAME = "leaf\x1b[31m\nFORGED\u202e"
SETTINGS = """\
[stage2_lint.contract.fam]
scope = configs/**/*.yaml
canonical = configs/fam/prod/*.yaml
required_parent = ../base.yaml
required_keys = train.seed
moved = old.ns -> new.ns
    dup -> top
[stage2_lint.contract.fam\x1b[2J\u202e]
scope = elsewhere/\x1b\x07\u202e*.yaml
required_keys = a\x1b[31m.b
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    key, value = json.dumps(KEY), json.dumps(POISON)
    write_tree(root, {
        "setup.cfg": SETTINGS,
        "configs/fam/base.yaml": "train:\n  seed: 1\n",
        f"configs/fam/prod/{NAME}.yaml": f"extends: ../base.yaml\ntrain:\n  seed: 2\n  {key}: {value}\n"
                                         f"old:\n  ns:\n    {key}: 1\n",
        "configs/fam/prod/other.yaml": f"extends: ../base.yaml\ntrain:\n  seed: 3\nnew:\n  ns:\n    {key}: {value}\n"
                                       f"dup:\n  {key}: 1\ntop:\n  {key}: 2\n",
        "configs/fam/chain.yaml": f"extends: prod/{json.dumps(NAME + '.yaml')[1:-1]}\n{key}: 1\n",
    }, contract=False)
    (root / ".git").mkdir()
    return root


LEAF = f"configs/fam/prod/{NAME}.yaml"
COMMANDS = {
    **{f"check-{fmt}": ["--format", fmt, "configs"] for fmt in ("text", "json", "github", "sarif", "markdown")},
    "check-a-hostile-argument": [NAME],
    "show-settings": ["--show-settings"],
    "fix-diff": ["fix", "--diff", "configs"],
    "fix": ["fix", "configs"],
    "flatten-diff": ["flatten", "--diff", "configs/fam/chain.yaml"],
    "flatten": ["flatten", "configs/fam/chain.yaml"],
    "resolve": ["resolve", LEAF],
    "resolve-blame": ["resolve", "--blame", LEAF],
    "resolve-json": ["resolve", "--format", "json", LEAF],
    "resolve-key": ["resolve", "--key", "train", LEAF],
    "resolve-missing": ["resolve", NAME],
    "diff": ["diff", LEAF, "configs/fam/prod/other.yaml"],
    "diff-json": ["diff", "--format", "json", LEAF, "configs/fam/prod/other.yaml"],
    **{f"graph-{fmt}": ["graph", "--format", fmt, "configs"] for fmt in ("mermaid", "dot", "json")},
    "explain": ["explain", NAME],
    "rules": ["rules"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_no_command_prints_a_strangers_control_character_raw(hostile, tmp_path, name):
    root = tmp_path / "tree"
    shutil.copytree(hostile, root)  # fix and flatten write
    result = subprocess.run([sys.executable, "-m", "stage2_lint", *COMMANDS[name]], cwd=root, capture_output=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr, result.stderr[-2000:]
    usage_errors = ("check-a-hostile-argument", "resolve-missing", "explain")
    assert (result.returncode == 2) == (name in usage_errors), (result.returncode, result.stderr[-2000:])
    for stream in (result.stdout, result.stderr):
        text = stream.decode("utf-8")  # valid UTF-8 whatever the names held
        assert not RAW.search(text), (name, RAW.search(text))
        assert not [line for line in text.splitlines() if line.startswith(("FORGED", "::error file=x"))], name
    if name == "check-markdown":
        _assert_markdown_is_inert(result.stdout.decode())
    if name == "check-github":
        assert "%0A" not in result.stdout.decode().replace("%250A", "")  # GitHub would decode it to a line feed


def _assert_markdown_is_inert(text):
    """Outside code spans (and the mermaid block), nothing a stranger wrote can be HTML, a link
    or a table cell boundary."""
    body = text.split("```mermaid", 1)[0]
    for row in [line for line in body.splitlines() if line.startswith("| ")]:
        outside = re.sub(r"(`+)(?:(?!\1).)*?\1", "", row)  # drop the code spans
        outside = re.sub(r"\]\([^)]*\)", "]", outside)  # our own path#Lline links
        assert "<" not in outside and "](" not in outside, row
        cells = re.split(r"(?<!\\)\|", row)
        assert len(cells) in (5, 6), row  # | a | b | c | (or four columns)


def test_the_launchers_plan_is_shell_quoted_and_runs_exactly_what_was_planned(tmp_path):
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    write_tree(tmp_path, {})
    leaf = tmp_path / "configs/stage2_ab/smoke/b_only.yaml"
    model = "ckpt dir/* [final] $HOME `id` 'q'\u202e\u2028\x85"  # odd but printable-by-YAML: quoted, not refused
    leaf.write_text(leaf.read_text().replace("model: output/1-26/checkpoint-1516-merged", f"model: {json.dumps(model)}"))
    result = subprocess.run([sys.executable, "-m", "src.launch", f"config={leaf}", "server_gpus=0", "train_gpus=1",
                             "dry_run=1"], cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert not RAW.search(result.stdout)
    plan = [line[len("plan: "):] for line in result.stdout.splitlines() if line.startswith("plan: CUDA")][0]
    # bash itself reads the pasted line: the words it gets are the planned argv
    words = subprocess.run(["bash", "-c", f"printf '%s\\0' {plan}"], capture_output=True, timeout=10).stdout
    argv = words.decode().split("\0")[:-1]
    assert argv[argv.index("--model") + 1] == model
    assert argv[:2] == ["CUDA_VISIBLE_DEVICES=0", f"ROOT_IMAGE_DIR={tmp_path}/public_data/lvis/rescale_32_768_bbox_max60"]


@pytest.mark.parametrize("args,reason", [
    (("master_port=70000",), "master_port must be a port number from 1 to 65535, not '70000'"),
    (("wait_timeout=99999999999999999999",), "wait_timeout must be a whole number of seconds from 1 to 86400"),
    (("server_gpus=0\x1b[2J",), "server_gpus must be a comma-separated list of GPU numbers, not '0\\x1b[2J'"),
    (("config=configs/\x1b[2J.yaml",), "config 'configs/\\x1b[2J.yaml' does not exist"),
])
def test_the_launcher_bounds_its_own_settings(args, reason):
    result = subprocess.run([sys.executable, "-m", "src.launch", "config=configs/stage2_ab/smoke/b_only.yaml", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert reason in result.stderr and "nothing was started" in result.stderr
    assert not RAW.search(result.stderr)


# -- random settings, schema files and arguments -----------------------------------------

SETTING_NAMES = ["scope", "canonical", "required_parent", "required_keys", "retired_parents", "schema", "moved",
                 "removed", "root", "exclude", "select", "ignore", "max_file_bytes", "max_depth", "max_nodes",
                 "require_contract", "per_file_ignores", "schema_source"]
WORDS = st.sampled_from(["configs/**/*.yaml", "{a,b}", "[", "**/**/x", "../base.yaml", "a -> b", "x: S2L0",
                         "1", "0", "-5", "99999999999999999999", "true", "no", "*", "", "/abs", "a.b", "\x1b", "%",
                         "S2L999", "src.config.schema:Profile", "schemas/x.json", "nested -> a.b.c"])
SETTING_VALUE = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=3).map(lambda parts: "\n    ".join(parts))
SCHEMA_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["(a+)+", "^a$", "[", "x"]),
                        st.text(max_size=5))
KEYWORDS = st.sampled_from(["type", "properties", "enum", "pattern", "items", "required", "minimum", "$ref",
                            "additionalProperties", "anyOf", "format", "const", "patternProperties", "$defs"])
SCHEMA = st.recursive(SCHEMA_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(st.one_of(KEYWORDS, st.text(max_size=4)),
                                                                           inner, max_size=4)), max_leaves=12)
ARGUMENTS = st.lists(st.one_of(st.sampled_from(["--format", "json", "markdown", "-j", "2", "--select", "S2L0",
                                                "--ignore", "--config", "setup.cfg", "--isolated", "--dependents",
                                                "configs", "configs/fam/prod/a.yaml", "resolve", "diff", "graph",
                                                "fix", "flatten", "schema", "check", "explain", "--key", "-",
                                                "--diff", "x.y", "--contract", "fam", "--onto", "--output"]),
                               st.text(st.characters(blacklist_characters="\x00"), max_size=8)), max_size=6)


def _project(root, settings_text, schema):
    write_tree(root, {"setup.cfg": settings_text, "schemas/x.json": json.dumps(schema),
                      "configs/fam/base.yaml": "a: 1\n", "configs/fam/prod/a.yaml": "extends: ../base.yaml\nb: 2\n"},
               contract=False)
    (root / ".git").mkdir(exist_ok=True)


def _assert_no_crash(result):
    assert result.returncode in (0, 1, 2), result.returncode
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-3000:]


@hypothesis_settings(max_examples=40, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=st.dictionaries(st.sampled_from(SETTING_NAMES), SETTING_VALUE, max_size=5), schema=SCHEMA,
       args=ARGUMENTS)
def test_random_settings_schemas_and_arguments_never_crash_or_hang(tmp_path_factory, values, schema, args):
    root = tmp_path_factory.mktemp("random")
    engine = {k: v for k, v in values.items() if k in ("root", "exclude", "select", "ignore", "max_file_bytes",
                                                       "max_depth", "max_nodes", "require_contract",
                                                       "per_file_ignores")}
    contract = {"scope": "configs/**/*.yaml", "schema": "schemas/x.json",
                **{k: v for k, v in values.items() if k not in engine}}
    text = "[stage2_lint]\n" + "".join(f"{k} = {v}\n" for k, v in engine.items()) + \
           "[stage2_lint.contract.fam]\n" + "".join(f"{k} = {v}\n" for k, v in contract.items())
    _project(root, text, schema)
    _assert_no_crash(run_cli_process(["configs"], cwd=root, timeout=10))
    _assert_no_crash(run_cli_process(args, cwd=root, timeout=10))
