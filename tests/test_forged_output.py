"""Nothing forged: key names, values and file names from a file cannot forge an output line,
drive a terminal, break a report's syntax or blow up its size."""
import json
import os
import re
import subprocess
import sys
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from stage2_lint.checking.engine import lint_run
from stage2_lint.reporting.output import FORMATS

from conftest import REPO, run_cli_process, write_tree, repo_settings

# What must never reach an output raw: C0 (but the line feeds that end lines), DEL, C1,
# line/paragraph separators, bidi overrides, lone surrogates.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
WORKFLOW_COMMAND = re.compile(r"^::(error|warning) file=([^,:]*),line=(\d+),col=(\d+),title=(S2L\d{3})::(.*)$")
# RFC 3986 URI-reference characters: unreserved, reserved and percent escapes.
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-F]{2})*$")


def _yaml_key(name: str) -> str:
    """``name`` as a double-quoted YAML key (YAML's escapes are a superset of JSON's)."""
    return json.dumps(name)


def _lint_all_formats(root, files):
    write_tree(root, files)
    os.chdir(root)
    run = lint_run(["configs"], repo_settings(str(root)), with_graph=True)
    return run.report, {name: render(run) for name, render in FORMATS.items()}


def _check_outputs(report, outputs):
    for name, output in outputs.items():
        assert not RAW_CONTROL.search(output), (name, output)
    text_lines = outputs["text"].splitlines()
    assert len(text_lines) == len(report.violations)
    assert all(re.match(r"^.*:\d+:\d+: S2L\d{3} ", line) for line in text_lines)
    assert len(json.loads(outputs["json"])["violations"]) == len(report.violations)
    github_lines = outputs["github"].splitlines()
    assert len(github_lines) == len(report.violations)
    assert all(WORKFLOW_COMMAND.match(line) for line in github_lines), github_lines
    for result in json.loads(outputs["sarif"])["runs"][0]["results"]:
        assert URI_REFERENCE.match(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=4, unique=True))
@example(keys=["save_steps"])
def test_any_key_name_gives_parsable_outputs_with_no_raw_control_character(tmp_path_factory, keys):
    root = tmp_path_factory.mktemp("keys")
    # a random key may be a real knob set well (hypothesis found ``save_steps``): one key that
    # is no knob keeps the report from being empty, whatever the others are
    body = "".join(f"  {_yaml_key(key)}: 1\n" for key in [*keys, "zz-no-such-knob"])
    report, outputs = _lint_all_formats(root, {"configs/stage2_ab/x.yaml": f"training:\n{body}"})
    assert report.violations
    _check_outputs(report, outputs)


FILE_NAME = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                    max_size=60).filter(lambda name: name not in (".", "..") and not name.startswith("."))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=FILE_NAME)
def test_any_file_name_gives_parsable_outputs_with_no_raw_control_character(tmp_path_factory, name):
    root = tmp_path_factory.mktemp("names")
    try:
        report, outputs = _lint_all_formats(root, {f"configs/{name}.yaml": "a: 1\na: 2\n"})
    except OSError:  # a name this filesystem will not store (too long in bytes)
        return
    assert len(report.violations) == 1
    _check_outputs(report, outputs)
    uri = json.loads(outputs["sarif"])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uriBaseId"] == "SRCROOT"
    assert unquote_to_bytes(uri["uri"]) == os.fsencode(f"configs/{name}.yaml")


def test_a_key_holding_a_newline_cannot_forge_a_workflow_command(tmp_path):
    forged = "x\n::error file=README.md,line=1::pwned\x1b]8;;http://evil\x07"
    write_tree(tmp_path, {"configs/stage2_ab/x.yaml": f"training:\n  {_yaml_key(forged)}: 1\n"})
    for fmt in ("text", "github"):
        result = run_cli_process(["--format", fmt, "configs"], cwd=tmp_path)
        assert result.returncode == 1
        assert len(result.stdout.splitlines()) == 1, result.stdout
        assert not any(line.startswith("::error file=README.md") for line in result.stdout.splitlines())
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "unknown key training.x\\n::error file=README.md" in result.stdout or fmt == "github"


def test_sarif_uri_is_a_percent_encoded_relative_reference(tmp_path):
    write_tree(tmp_path, {"configs/a b#c?d%20é.yaml": "a: 1\na: 2\n"})
    result = run_cli_process(["--format", "sarif", "configs"], cwd=tmp_path)
    run = json.loads(result.stdout)["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "configs/a%20b%23c%3Fd%2520%C3%A9.yaml", "uriBaseId": "SRCROOT"}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/")


@pytest.mark.parametrize("fmt", ["text", "github", "json", "sarif"])
def test_a_non_utf8_file_name_prints_under_a_strict_utf8_stdout(tmp_path, fmt):
    directory = os.fsencode(tmp_path / "configs")
    os.makedirs(directory)
    with open(os.path.join(directory, b"bad\xff\x1b.yaml"), "wb") as handle:
        handle.write(b"a: 1\na: 2\n")
    result = subprocess.run([sys.executable, "-m", "stage2_lint", "--format", fmt, "configs"], cwd=tmp_path,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO),
                                                      "PYTHONIOENCODING": "utf-8:strict"}, timeout=30)
    assert result.returncode == 1, result.stderr
    output = result.stdout.decode("utf-8")  # strictly valid UTF-8
    assert not RAW_CONTROL.search(output)
    if fmt in ("text", "github"):
        assert "bad\\xff\\x1b.yaml" in output
    if fmt == "sarif":
        assert "configs/bad%FF%1B.yaml" in output


def test_a_quoted_value_is_bounded_with_its_length(tmp_path):
    long_name = "k" * 5000
    write_tree(tmp_path, {"configs/stage2_ab/x.yaml": f"training:\n  ? {long_name}\n  : 1\n"
                                                      f"  eval_strategy: {'v' * 5000}\n"})
    result = run_cli_process(["configs"], cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(" ")[1] for line in lines] == ["S2L060", "S2L040"]
    for line in lines:
        assert len(line) < 1200, line[:200]
        assert "... (5000 characters)" in line


AMPLIFIER = ("s: &a " + "x" * 190_000 + "\nm:\n" + "".join("  *a : %d\n" % i for i in range(4000)))


@pytest.mark.parametrize("entry", ["cli", "guard"])
def test_an_anchored_string_used_as_4000_keys_gives_a_small_report(tmp_path, entry):
    """236 KB of YAML once gave an 800 MB report and 2.4 GB RSS."""
    assert 230_000 < len(AMPLIFIER) < 240_000
    write_tree(tmp_path, {"configs/stage2_ab/prod/x.yaml": AMPLIFIER})
    if entry == "cli":
        result = run_cli_process(["--format", "json", "configs"], cwd=tmp_path, timeout=20, memory_mb=600)
    else:
        code = ("from stage2_lint.guard import enforce, ConfigContractError\n"
                "try:\n    enforce('configs/stage2_ab/prod/x.yaml')\n"
                "except ConfigContractError as error:\n    print(error)\n    raise SystemExit(1)\n")
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                                timeout=20, env={**os.environ, "PYTHONPATH": str(REPO)},
                                preexec_fn=_address_space_cap(600))
    assert result.returncode == 1, result.stderr[-2000:]
    assert len(result.stdout) < 10 * 1024 * 1024
    assert "S2L004" in result.stdout and "alias bomb" in result.stdout


def _address_space_cap(megabytes):
    def limit():
        import resource
        cap = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return limit
