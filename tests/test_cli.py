"""The CLI as a user meets it: exact lines, exit codes, formats, selection, suppressions."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stage2_lint.checking.rules import REGISTRY, YAML_RULES
from conftest import REPO, run_cli_process
from stage2_tree import BASE, LEAF

CANONICAL = {"configs/stage2_ab/base.yaml": BASE, "configs/stage2_ab/prod/leaf.yaml": LEAF}

# One exact output line per rule, from a small tree that breaks exactly that rule.
EXACT = {
    "S2L080": ({"setup.cfg": "[stage2_lint]\nrequire_contract = true\n[stage2_lint.contract.c]\nscope = configs/c/*.yaml\n",
                "configs/x.yml": "a: 1\n"},
               "configs/x.yml:1:1: S2L080 no contract governs this profile (contract scopes: configs/c/*.yaml), so only "
               "the generic rules checked it"),
    "S2L001": ({"configs/x.yaml": "a: [1\n"},
               "configs/x.yaml:2:1: S2L001 invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'"),
    "S2L002": ({"configs/x.yaml": "a: 1\na: 2\n"},
               "configs/x.yaml:2:1: S2L002 duplicate key 'a' (first set at line 1); YAML keeps only the last value"),
    "S2L003": ({"configs/x.yaml": "- 1\n"},
               "configs/x.yaml:1:1: S2L003 top level is a list; a profile must be a mapping"),
    "S2L004": ({"configs/x.yaml": "a: !!python/name:os.system x\n"},
               "configs/x.yaml:1:4: S2L004 tag !!python/name:os.system is not allowed; configs use plain YAML values only"),
    "S2L010": ({"configs/x.yaml": "extends: 3\n"},
               "configs/x.yaml:1:10: S2L010 'extends' must be a path or a list of paths, not int 3"),
    "S2L011": ({"configs/x.yaml": "extends: nope.yaml\n"},
               "configs/x.yaml:1:10: S2L011 parent 'nope.yaml' does not exist"),
    "S2L012": ({**CANONICAL, "configs/stage2_ab/prod/leaf.yaml": LEAF.replace("../base.yaml", "../mid.yaml"),
                "configs/stage2_ab/mid.yaml": "extends: base.yaml\n"},
               "configs/stage2_ab/prod/leaf.yaml:1:10: S2L012 canonical leaf extends '../mid.yaml'; it must extend "
               "exactly '../base.yaml' (one hop, no chain): configs/stage2_ab/prod/leaf.yaml -> "
               "configs/stage2_ab/mid.yaml -> configs/stage2_ab/base.yaml"),
    "S2L013": ({**CANONICAL, "configs/stage2_ab/smoke.yaml": "a: 1\n",
                "configs/stage2_ab/prod/leaf.yaml": LEAF.replace("extends: ../base.yaml",
                                                                 "extends: [../base.yaml, ../smoke.yaml]")},
               "configs/stage2_ab/prod/leaf.yaml:1:1: S2L013 canonical leaf extends 2 parents (../base.yaml, "
               "../smoke.yaml); it must extend exactly '../base.yaml' and inline the rest"),
    "S2L020": ({**CANONICAL, "configs/stage2_ab/base.yaml": BASE.replace("training:\n", "training:\n  vit_lr: 1.0e-5\n"),
                "configs/stage2_ab/prod/leaf.yaml": LEAF.replace("  vit_lr: 2.0e-5\n", "")},
               "configs/stage2_ab/prod/leaf.yaml:4:1: S2L020 training.vit_lr is not set in this leaf (it inherits "
               "1e-05 from configs/stage2_ab/base.yaml:2); canonical leaves pin it explicitly"),
    "S2L030": ({"configs/stage2_ab/x.yaml": "custom:\n  extra:\n    rollout_matching:\n      vllm: {mode: server}\n"},
               "configs/stage2_ab/x.yaml:4:14: S2L030 custom.extra.rollout_matching.vllm.mode is in the retired "
               "namespace; move it to rollout_matching.vllm.mode"),
    "S2L031": ({"configs/stage2_ab/x.yaml": "custom:\n  extra:\n    monitor: true\n"},
               "configs/stage2_ab/x.yaml:3:5: S2L031 [warning] custom.extra.monitor is an untyped knob; give it a typed home "
               "in the schema or drop it"),
    "S2L032": ({"configs/stage2_ab/x.yaml": "stage2_ab:\n  channel_b:\n    rollout_decode_batch_size: 4\n"},
               "configs/stage2_ab/x.yaml:3:5: S2L032 stage2_ab.channel_b.rollout_decode_batch_size was removed; use "
               "rollout_matching.decode_batch_size (the one decode knob)"),
    "S2L040": ({"configs/stage2_ab/x.yaml": "training:\n  eval_strategy: no\n"},
               "configs/stage2_ab/x.yaml:2:18: S2L040 training.eval_strategy: expected one of no, steps, epoch, got "
               "the boolean false: YAML 1.1 reads unquoted yes/no/on/off as booleans; quote it: \"no\""),
    "S2L050": ({**CANONICAL, "configs/stage2_ab/prod/base.yaml": "a: 1\n"},
               "configs/stage2_ab/prod/base.yaml:1:1: S2L050 retired parent on the canonical surface; fold its "
               "values into '../base.yaml' and the leaves, then delete it"),
    "S2L060": ({"configs/stage2_ab/x.yaml": "training:\n  eval_step: 80\n"},
               "configs/stage2_ab/x.yaml:2:3: S2L060 unknown key training.eval_step; did you mean training.eval_steps?"),
    "S2L070": ({"configs/x.yaml": "a: 1  # stage2-lint: disable=S2L002 -- stale\n"},
               "configs/x.yaml:1:7: S2L070 [warning] unused suppression: nothing on this line violates S2L002; delete the comment"),
}


def test_every_rule_has_an_exact_line_test():
    assert set(EXACT) == {rule.code for rule in YAML_RULES}  # S2P rules: tests/test_flake8_plugin.py


@pytest.mark.parametrize("code", sorted(EXACT))
def test_exact_output_line(code, tree, cli):
    files, line = EXACT[code]
    tree(files)
    target = line.split(":")[0]
    status, out, _ = cli("--select", code if code != "S2L070" else "S2L002,S2L070", target)
    assert line in out.splitlines()
    assert status == (0 if code in ("S2L031", "S2L070") else 1)  # S2L031 and S2L070 are warnings


def test_clean_canonical_tree_exits_zero(tree, cli):
    tree(CANONICAL)
    status, out, err = cli("configs/stage2_ab")
    assert (status, out) == (0, "")
    assert "2 files checked, no violations" in err


def test_no_path_lints_the_canonical_surface(tree, cli):
    tree({**CANONICAL, "configs/stage2_ab/prod/bad.yaml": LEAF.replace("  run_name: leaf\n", ""),
          "configs/elsewhere.yaml": "a: [\n"})
    status, out, _ = cli()
    assert status == 1
    assert out.splitlines() == ["configs/stage2_ab/prod/bad.yaml:4:1: S2L020 training.run_name is not set in this "
                                "leaf (nor anywhere in its chain); canonical leaves pin it explicitly"]


@pytest.mark.parametrize("code", sorted(EXACT))
def test_json_carries_every_rules_fix(code, tree, cli):
    """Code, severity and fix come from the rule object, for parser and hierarchy findings too."""
    from stage2_lint.checking.rules import BY_CODE

    files, _ = EXACT[code]
    tree(files)
    _, out, _ = cli("--format", "json", *sorted({path for path in files if path.startswith("configs/")}))
    found = [v for v in json.loads(out)["violations"] if v["code"] == code]
    assert found and all(v["fix"] and v["severity"] == BY_CODE[code].severity for v in found)
    if code in ("S2L001", "S2L002", "S2L004", "S2L011"):  # found by the parser or the hierarchy
        assert all(v["fix"] == BY_CODE[code].fix for v in found)


def test_usage_errors_exit_two(tree, cli):
    tree({})
    assert cli("missing.yaml")[0] == 2
    assert cli("--select", "S9X")[0] == 2
    assert cli("--explain", "S2L999")[0] == 2


def test_select_ignore_and_prefixes(tree, cli):
    tree({"configs/stage2_ab/x.yaml": "a: 1\na: 2\ncustom: {extra: {rollout_matching: {x: 1}}}\n"})
    path = "configs/stage2_ab/x.yaml"
    assert {line.split()[1] for line in cli(path)[1].splitlines()} == {"S2L002", "S2L030", "S2L060"}
    assert {line.split()[1] for line in cli("--select", "S2L03", path)[1].splitlines()} == {"S2L030"}
    assert {line.split()[1] for line in cli("--ignore", "S2L002,S2L03,S2L06", path)[1].splitlines()} == set()


def test_inline_and_file_suppressions(tree, cli):
    tree({"configs/x.yaml": "a: 1\na: 2  # stage2-lint: disable=S2L002 -- kept for a test\n",
          "configs/y.yaml": "# stage2-lint: disable-file=S2L002\na: 1\na: 2\n",
          "configs/z.yaml": "a: 1  # stage2-lint: disable=S2L002\na: 2\n"})
    status, out, _ = cli("configs")
    assert status == 1
    assert out.splitlines() == [
        "configs/z.yaml:1:7: S2L070 [warning] unused suppression: nothing on this line violates S2L002; delete the comment",
        "configs/z.yaml:2:1: S2L002 duplicate key 'a' (first set at line 1); YAML keeps only the last value"]


def test_per_file_ignores_from_setup_cfg(tree, cli):
    tree({"setup.cfg": "[stage2_lint]\nper_file_ignores =\n    configs/legacy/*.yaml: S2L002\n",
          "configs/legacy/x.yaml": "a: 1\na: 2\n", "configs/y.yaml": "a: 1\na: 2\n"})
    _, out, _ = cli("configs")
    assert [line.split(":")[0] for line in out.splitlines()] == ["configs/y.yaml"]


def test_bad_settings_exit_two(tree, cli):
    tree({"setup.cfg": "[stage2_lint]\nnot_a_setting = 1\n", "configs/x.yaml": "a: 1\n"})
    status, _, err = cli("configs/x.yaml")
    assert status == 2 and "not_a_setting" in err


@pytest.mark.parametrize("name", ["max_depth", "max_nodes", "max_file_bytes"])
def test_limit_settings_apply_and_bad_values_exit_two(tree, cli, name):
    tree({"setup.cfg": f"[stage2_lint]\n{name} = 2\n", "configs/x.yaml": "a: {b: {c: 1}}\n"})
    status, out, err = cli("configs/x.yaml")
    assert status == 1 and " S2L004 " in out, err
    root = tree({"setup.cfg": f"[stage2_lint]\n{name} = -3\n"})
    status, _, err = cli("configs/x.yaml")
    assert status == 2 and err == f"stage2-lint: error: {root / 'setup.cfg'} [stage2_lint]: {name} must be a " \
                                  "whole number >= 1, not '-3'\n"


def test_json_format(tree, cli):
    tree({"configs/x.yaml": "a: 1\na: 2\n"})
    status, out, _ = cli("--format", "json", "configs/x.yaml")
    data = json.loads(out)
    assert status == 1
    assert data["version"] == 1 and data["files_checked"] == 1 and data["errors"] == 1
    assert data["violations"][0] == {
        "path": "configs/x.yaml", "line": 2, "col": 1, "code": "S2L002", "name": "duplicate-key",
        "severity": "error", "message": "duplicate key 'a' (first set at line 1); YAML keeps only the last value",
        "key_path": None, "fix": "Delete one of the two entries."}


def test_github_format_escapes_properties_and_data(tree, cli):
    tree({"configs/a,b.yaml": "a: 1\na: 2\n"})
    _, out, _ = cli("--format", "github", "configs/a,b.yaml")
    assert out == ("::error file=configs/a%2Cb.yaml,line=2,col=1,title=S2L002::duplicate key 'a' (first set at "
                   "line 1); YAML keeps only the last value\n")


def test_sarif_format_lists_rules_and_results(tree, cli):
    tree({"configs/x.yaml": "a: 1\na: 2\n"})
    _, out, _ = cli("--format", "sarif", "configs/x.yaml")
    run = json.loads(out)["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [rule.code for rule in REGISTRY]
    result = run["results"][0]
    assert result["ruleId"] == "S2L002"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 1}


def test_list_rules_and_explain(cli):
    status, out, _ = cli("--list-rules")
    assert status == 0 and len(out.splitlines()) == len(REGISTRY)
    status, out, _ = cli("--explain", "s2l040")
    assert status == 0
    assert "S2L040 value-type" in out and "eval_strategy: no" in out and "Fix:" in out


def test_python_dash_m_entry_point(tree):
    from conftest import run_cli_process

    root = tree({"configs/x.yaml": "a: 1\n"})
    result = run_cli_process(["configs/x.yaml"], cwd=root)
    assert result.returncode == 0, result.stderr


def test_the_console_command_pauses_the_collector_for_its_process_and_main_leaves_it_alone(tree, monkeypatch):
    """The console script and ``python -m`` run ``console_main``: the cyclic collector is
    paused for the process and what is left is frozen out of the exit's collection. ``main``,
    which a long-lived process (a test, the flake8 plugin) calls, leaves the collector as it was."""
    import gc
    from importlib.metadata import entry_points

    from stage2_lint import cli

    scripts = entry_points().select(group="console_scripts") if hasattr(entry_points(), "select") \
        else entry_points()["console_scripts"]
    # every copy of the metadata an environment holds (an egg-info beside a dist-info) says the same
    assert {script.value for script in scripts if script.name == "stage2-lint"} == {"stage2_lint.cli:console_main"}
    main_py = Path(cli.__file__).with_name("__main__.py").read_text()
    assert "sys.exit(console_main())" in main_py

    root = tree({"configs/x.yaml": "a: 1\n"})
    monkeypatch.chdir(root)
    assert gc.isenabled()
    assert cli.main(["--no-cache", "configs/x.yaml"]) == 0
    assert gc.isenabled()
    assert not hasattr(re.compile, "deferred")  # a library leaves its host's re alone

    seen = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(("main", gc.isenabled())) or 0)
    monkeypatch.setattr(gc, "freeze", lambda: seen.append(("freeze", gc.isenabled())))
    monkeypatch.setattr(cli, "_exit_is_watched", lambda: True)  # pytest's own exit must run
    monkeypatch.setattr(re, "compile", re.compile)  # console_main defers a pattern for its process
    try:
        assert cli.console_main() == 0
    finally:
        gc.enable()
    assert seen == [("main", False), ("freeze", False)]


class _Ended(Exception):
    pass


def test_the_console_command_ends_its_process_without_teardown_once_its_output_is_out(monkeypatch):
    """Nobody watching the exit: stdout and stderr are flushed, then ``os._exit`` with main's
    code. A stream that cannot be flushed leaves the exit to the interpreter, which reports it."""
    import gc

    from stage2_lint import cli

    events = []

    class Stream:
        def __init__(self, name, fails=False):
            self.name, self.fails = name, fails

        def flush(self):
            events.append(("flush", self.name))
            if self.fails:
                raise BrokenPipeError(32, "Broken pipe")

    def end(code):
        events.append(("_exit", code))
        raise _Ended

    monkeypatch.setattr(cli, "main", lambda: events.append(("main",)) or 1)
    monkeypatch.setattr(cli, "_exit_is_watched", lambda: False)
    monkeypatch.setattr(re, "compile", re.compile)
    monkeypatch.setattr(cli.os, "_exit", end)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(sys, "stdout", Stream("stdout"))
    monkeypatch.setattr(sys, "stderr", Stream("stderr"))
    try:
        with pytest.raises(_Ended):
            cli.console_main()
        assert events == [("main",), ("flush", "stdout"), ("flush", "stderr"), ("_exit", 1)]

        events.clear()
        monkeypatch.setattr(sys, "stdout", Stream("stdout", fails=True))
        assert cli.console_main() == 1
        assert events == [("main",), ("flush", "stdout")]
    finally:
        gc.enable()


def test_a_profiler_a_tracer_or_an_atexit_callback_gets_the_normal_exit():
    """cProfile and coverage write their data as the interpreter exits, whatever a caller
    registered with atexit runs then, and the interpreter waits for a running thread: the hard
    exit would lose them. Asked in fresh interpreters (pytest registers callbacks of its own)."""
    setups = {"nothing": "", "a profiler": "sys.setprofile(lambda *a: None)",
              "a tracer": "sys.settrace(lambda *a: None)", "atexit": "import atexit; atexit.register(print)",
              "a thread": "import threading; threading.Thread(target=__import__('time').sleep, args=(1,)).start()"}
    answers = {}
    for name, setup in setups.items():
        script = f"import sys\n{setup}\nfrom stage2_lint import cli\nprint(cli._exit_is_watched())\n"
        answers[name] = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                                       env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.strip()
    assert answers == {"nothing": "False", "a profiler": "True", "a tracer": "True", "atexit": "True",
                       "a thread": "True"}


def test_the_whole_report_reaches_a_pipe_and_atexit_callbacks_still_run(tree):
    """A real process: a report far larger than a pipe's buffer arrives whole through the
    hard exit, and a process that registered an atexit callback gets it called."""
    text = "".join(f"k{index}: 1\nk{index}: 2\n" for index in range(3000))  # 3,000 S2L002 lines
    root = tree({"configs/dup.yaml": text})
    result = run_cli_process(["--no-cache", "configs/dup.yaml"], cwd=root)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3000 and len(result.stdout) > 65536
    assert lines[-1].startswith("configs/dup.yaml:6000:1: S2L002 duplicate key 'k2999'"), lines[-1]

    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
              "from stage2_lint.cli import console_main\n"
              "sys.argv = ['stage2-lint', '--no-cache', 'configs/dup.yaml']\n"
              "sys.exit(console_main())\n")
    watched = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                             timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert watched.returncode == 1
    assert watched.stderr.rstrip().endswith("atexit ran")
    assert watched.stdout == result.stdout


def test_a_yaml_run_does_not_import_what_it_does_not_use(tree):
    """Every commit's hook pays each import: ``ast`` is the source rules' (S2P*) alone (2.5 ms),
    ``typing`` nobody's (3 ms; the records are ``core.records.record``s), ``argparse`` only a
    command line ``core.argv`` does not read (3 ms) and ``importlib`` nobody's (0.5 ms); the
    result cache and the run memo only a run that has a cache (not ``--no-cache``, CI's);
    ``configparser`` only a settings file ``core.ini`` does not read (1.7 ms).
    (``contextlib`` is only a parallel run's in our code, but 3.13's configparser imports it.) The rules still see Python:
    ``test_flake8_plugin``; argparse still reads the rest: ``test_argv``."""
    import os
    import subprocess
    import sys

    import yaml

    root = tree({"configs/x.yaml": "a: 1\na: 2\n",
                 "setup.cfg": "[metadata]\nname = x\n\n[stage2_lint.contract.c]\nscope =\n    configs/**/*.yaml\n"})
    # Without site (-S), which may import any of them itself (3.9's imports typing, an editable
    # install's finder importlib); the package and PyYAML come by PYTHONPATH.
    script = ("import sys\nfrom stage2_lint import cli\ncode = cli.main(['--no-cache', 'configs/x.yaml'])\n"
              "names = {'argparse', 'ast', 'configparser', 'importlib', 'typing', 'stage2_lint.checking.cache', "
              "'stage2_lint.checking.run_memo'}\n"
              "print('imported:', sorted(names & set(sys.modules)), file=sys.stderr)\nsys.exit(code)\n")
    where = [str(Path(__file__).resolve().parent.parent), str(Path(yaml.__file__).resolve().parent.parent)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(where)}
    result = subprocess.run([sys.executable, "-S", "-c", script], cwd=root, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and result.stdout.startswith("configs/x.yaml:2:1: S2L002"), result.stderr
    assert "imported: []" in result.stderr


def test_the_console_command_never_compiles_pyyamls_unused_reader_pattern(tree):
    """PyYAML's pure-Python reader compiles a class over all of Unicode as it is imported (4.5
    to 6 ms of every commit's hook), and the C parser never uses it: the console command
    defers it. Where the pure parser does run, the deferred pattern still refuses what PyYAML
    refuses, compiled on first use."""
    root = tree({"configs/x.yaml": "a: 1\na: 2\n"})
    script = ("import atexit, sys\n"
              "def report():\n"
              "    import yaml\n"
              "    pattern = yaml.reader.Reader.NON_PRINTABLE\n"
              "    try:\n"
              "        yaml.load('a: \\x07', Loader=yaml.SafeLoader)\n"
              "        refused = False\n"
              "    except yaml.YAMLError:\n"
              "        refused = True\n"
              "    print(type(pattern).__name__, refused, yaml.load('a: [1]', Loader=yaml.SafeLoader), file=sys.stderr)\n"
              "atexit.register(report)\n"
              "from stage2_lint.cli import console_main\n"
              "sys.argv = ['stage2-lint', '--no-cache', 'configs/x.yaml']\n"
              "sys.exit(console_main())\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1 and result.stdout.startswith("configs/x.yaml:2:1: S2L002"), result.stderr
    assert result.stderr.rstrip().endswith("LazyPattern True {'a': [1]}"), result.stderr


def test_a_deferred_pattern_finds_what_re_finds_and_other_compiles_are_res_own(monkeypatch):
    """The oracle is ``re`` itself: the same first match over text with controls, astral
    characters, surrogates and the BOM; a pattern with flags, or another source, is re's."""
    from stage2_lint.core import lazy

    monkeypatch.setattr(re, "compile", re.compile)
    source = lazy.YAML_READER_NON_PRINTABLE
    expected = re.compile(source)
    lazy.defer_compiling(source)
    deferred = re.compile(source)
    assert isinstance(deferred, lazy.LazyPattern) and deferred.pattern == source
    for text in ("plain", "tab\tok\n", "bell\x07", "\x85\xa0ok", "\ud800", "\ufeff\ufffe", "\U0001f600\x00",
                 "\x7f", ""):
        found, wanted = deferred.search(text), expected.search(text)
        assert (found and (found.start(), found.group())) == (wanted and (wanted.start(), wanted.group())), text
    assert isinstance(re.compile(source, re.IGNORECASE), re.Pattern)
    assert isinstance(re.compile("a+"), re.Pattern)
    wrapper = re.compile
    lazy.defer_compiling(source, "b+")  # asked again: the one wrapper defers one more source
    assert re.compile is wrapper and isinstance(re.compile("b+"), lazy.LazyPattern)


def test_a_cached_run_after_an_edit_does_not_import_what_it_does_not_use(tree, tmp_path):
    """A commit's hook: the cache is there and one file changed. Salting the run finds PyYAML's
    directory without importing importlib (1.5 ms with contextlib and warnings)."""
    import os
    import subprocess
    import sys

    import yaml

    root = tree({"configs/x.yaml": "a: 1\n", "setup.cfg": "[stage2_lint.contract.c]\nscope = configs/**/*.yaml\n"})
    script = ("import sys\nfrom stage2_lint import cli\ncode = cli.main(['configs/x.yaml'])\n"
              "names = {'argparse', 'ast', 'configparser', 'importlib', 'typing'}\n"
              "print('imported:', sorted(names & set(sys.modules)), file=sys.stderr)\nsys.exit(code)\n")
    where = [str(Path(__file__).resolve().parent.parent), str(Path(yaml.__file__).resolve().parent.parent)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(where), "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    for text in ("a: 1\n", "a: 2\n"):
        (root / "configs/x.yaml").write_text(text)
        result = subprocess.run([sys.executable, "-S", "-c", script], cwd=root, env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0 and "imported: []" in result.stderr, result.stderr
    assert (root / ".stage2_lint_cache" / "results.json").is_file()


def test_the_cache_finds_a_package_where_import_would_without_importing_it():
    """The tool fingerprint names PyYAML's directory; ``importlib.util.find_spec`` is the oracle."""
    import subprocess
    import sys

    script = ("import importlib.util, os, sys\nfrom stage2_lint.checking import cache\n"
              "assert 'yaml' not in sys.modules and 'pytest' not in sys.modules\n"
              "for name in ('yaml', 'pytest', 'stage2_lint', 'json', 'no_such_package_at_all'):\n"
              "    spec = importlib.util.find_spec(name)\n"
              "    expected = os.path.dirname(spec.origin) if spec and spec.origin else None\n"
              "    assert cache._package_directory(name) == expected, (name, cache._package_directory(name))\n"
              "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout == "ok\n", result.stderr


def test_settings_from_pyproject_toml(tree, cli):
    tree({"pyproject.toml": "[tool.stage2_lint.contract.profiles]\nscope = [\"configs/**/*.yaml\"]\n"
                            "canonical = [\"configs/profiles/*.yaml\"]\nrequired_keys = [\"model.model\"]\n",
          "configs/profiles/x.yaml": "extends: ../base.yaml\n", "configs/base.yaml": "a: 1\n"})
    status, out, _ = cli()
    assert status == 1
    assert out.splitlines() == ["configs/profiles/x.yaml:1:1: S2L020 model.model is not set in this leaf (nor anywhere "
                                "in its chain); canonical leaves pin it explicitly"]


def test_help_lists_every_command():
    from stage2_lint.cli import COMMANDS
    from conftest import run_cli_process

    result = run_cli_process(["--help"], cwd=".")
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ") and line.split()}
    assert set(COMMANDS) <= listed, result.stdout


def test_a_file_named_like_a_command_is_linted_with_dot_slash_or_double_dash(tree, cli):
    tree({"diff": "a: 1\na: 2\n"})
    for argv in (["./diff"], ["--", "diff"], ["check", "diff"]):
        status, out, _ = cli(*argv)
        assert status == 1 and "S2L002 duplicate key 'a'" in out, argv


def test_fix_command_and_the_fix_flag_are_the_same(tree, cli):
    text = "custom:\n  extra:\n    rollout_matching:\n      decode_batch_size: 4\n"
    tree({"configs/stage2_ab/a.yaml": text, "configs/stage2_ab/b.yaml": text})
    assert cli("fix", "--diff", "configs/stage2_ab/a.yaml")[0] == 1
    assert cli("fix", "configs/stage2_ab/a.yaml")[0] == 0
    cli("--fix", "configs/stage2_ab/b.yaml")
    fixed = "rollout_matching:\n  decode_batch_size: 4\n"
    assert open("configs/stage2_ab/a.yaml").read() == open("configs/stage2_ab/b.yaml").read() == fixed


@pytest.mark.parametrize("code", [rule.code for rule in REGISTRY])
def test_explain_shows_each_failing_example_and_its_fixed_form(code, cli):
    from stage2_lint.checking.rules import BY_CODE

    status, out, _ = cli("explain", code)
    assert status == 0
    rule = BY_CODE[code]
    assert out.count("This fails (") == len(rule.failing) == out.count("Use instead")
    first = rule.failing[0].repaired()
    assert "".join(f"    {line}\n" for line in first.text.splitlines()) in out.split("Use instead", 1)[1]


def _warning_and_error_tree(root):
    from conftest import write_tree

    write_tree(root, {"configs/x.yaml": "a: 1\na: 2\n", "configs/y.yaml": "b: 1  # stage2-lint: disable=S2L002\n"},
               contract=False)
    (root / "setup.cfg").write_text("[stage2_lint]\n")


def test_exit_zero_strict_statistics_and_output_format(tmp_path):
    from conftest import run_cli_process

    _warning_and_error_tree(tmp_path)
    plain = run_cli_process(["configs"], cwd=tmp_path)
    assert plain.returncode == 1
    assert run_cli_process(["--exit-zero", "configs"], cwd=tmp_path).returncode == 0
    only_warning = run_cli_process(["configs/y.yaml"], cwd=tmp_path)
    assert only_warning.returncode == 0 and "S2L070" in only_warning.stdout  # an unused suppression warns
    assert run_cli_process(["--strict", "configs/y.yaml"], cwd=tmp_path).returncode == 1
    stats = run_cli_process(["--statistics", "configs"], cwd=tmp_path)
    assert "     1  S2L002  duplicate-key\n     1  S2L070  unused-suppression\n" in stats.stderr
    alias = run_cli_process(["--output-format", "json", "configs"], cwd=tmp_path)
    assert json.loads(alias.stdout)["errors"] == 1


def test_help_is_a_command_not_a_path(tmp_path):
    from conftest import run_cli_process

    top = run_cli_process(["help"], cwd=tmp_path)
    assert top.returncode == 0 and "commands:" in top.stdout
    one = run_cli_process(["help", "flatten"], cwd=tmp_path)
    assert one.returncode == 0 and "--change-dependents" in one.stdout


def test_the_job_summary_counts_in_words_and_links_absolutely_on_github(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import REPO

    _warning_and_error_tree(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY":
           "team/repo", "GITHUB_SHA": "abc123", "GITHUB_WORKSPACE": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "stage2_lint", "--format", "markdown", "configs"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env=env)
    assert "2 files checked: **1 error**, 1 warning." in result.stdout, result.stdout[:300]
    assert "(https://github.com/team/repo/blob/abc123/configs/x.yaml#L2)" in result.stdout


def _tty_run(args, cwd, env):
    """Run the CLI with a pseudo-terminal as its stdout, as a user's shell does."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import REPO

    main, child = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-m", "stage2_lint", *args], cwd=cwd, stdout=child,
                                 stderr=subprocess.PIPE, env={**env, "PYTHONPATH": str(REPO)}, timeout=60)
        os.close(child)
        child = None
        output = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other end is closed: everything was read
                break
            if not chunk:
                break
            output += chunk
    finally:
        if child is not None:
            os.close(child)
        os.close(main)
    return process.returncode, output.decode()


TWO_SEVERITIES = {"configs/x.yaml": "a: 1\na: 2\nb: 1  # stage2-lint: disable=S2L002\n"}


@pytest.mark.parametrize("env,coloured", [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False),
                                          ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False)])
def test_a_terminal_gets_colour_unless_no_color(tmp_path, env, coloured):
    import os

    from conftest import write_tree

    write_tree(tmp_path, TWO_SEVERITIES)
    base = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    code, output = _tty_run(["configs"], tmp_path, {**base, "TERM": "xterm", **env})
    assert code == 1
    red = "\x1b[1mconfigs/x.yaml:2:1:\x1b[0m \x1b[31mS2L002\x1b[0m duplicate key 'a'"
    yellow = "\x1b[1mconfigs/x.yaml:3:7:\x1b[0m \x1b[33mS2L070 [warning]\x1b[0m unused suppression"
    if coloured:
        assert red in output and yellow in output, repr(output)
    else:
        assert "\x1b" not in output and "configs/x.yaml:3:7: S2L070 [warning] unused suppression" in output


def test_force_color_colours_a_pipe_and_a_pipe_is_plain_otherwise(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import REPO, write_tree

    write_tree(tmp_path, TWO_SEVERITIES)
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    run = [sys.executable, "-m", "stage2_lint", "configs"]
    plain = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env={**env, "PYTHONPATH": str(REPO)})
    forced = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(REPO), "FORCE_COLOR": "1"})
    assert "\x1b" not in plain.stdout and plain.stdout.count("\n") == 2
    assert "\x1b[31mS2L002\x1b[0m" in forced.stdout and "\x1b[33mS2L070 [warning]\x1b[0m" in forced.stdout


def test_stdin_is_linted_as_the_file_stdin_filename_names(tmp_path):
    """An editor's unsaved buffer: the contract, role and parents of the path it names, which
    need not exist yet; without a name, the generic rules only, said so."""
    import subprocess
    import sys

    from conftest import REPO, write_tree

    write_tree(tmp_path, CANONICAL)
    leaf = LEAF.replace("  vit_lr: 2.0e-5\n", "")

    def run(*args, data=leaf):
        return subprocess.run([sys.executable, "-m", "stage2_lint", *args], cwd=tmp_path, input=data,
                              capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})

    named = run("-", "--stdin-filename", "configs/stage2_ab/prod/new.yaml")
    assert named.returncode == 1
    assert named.stdout.startswith("configs/stage2_ab/prod/new.yaml:4:1: S2L020 training.vit_lr is not set in this "
                                   "leaf (nor anywhere in its chain)"), named.stdout
    assert not (tmp_path / "configs/stage2_ab/prod/new.yaml").exists()
    assert run("-", "--stdin-filename", "configs/stage2_ab/prod/new.yaml", data=LEAF).returncode == 0
    anonymous = run("-", data="a: 1\na: 2\n")
    assert anonymous.returncode == 1 and anonymous.stdout.startswith("<stdin>:2:1: S2L002 duplicate key 'a'")
    assert "governed by no contract" in anonymous.stderr
    mixed = run("-", "configs")
    assert mixed.returncode == 2 and "- (standard input) must be the only path" in mixed.stderr
    forged = run("-", "--stdin-filename", "configs/\x1b[2Jx.yaml", data="a: 1\na: 2\n")
    assert "\x1b" not in forged.stdout + forged.stderr and "configs/\\x1b[2Jx.yaml:2:1: S2L002" in forged.stdout
