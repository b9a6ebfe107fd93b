"""scripts/train_stage2.sh through bash: it preflights once, validates the JSON, and starts
nothing on any failure. torchrun and swift are stand-ins on PATH that record each start."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from src.config.loader import ConfigLoader
from src.config.rollout import normalize_rollout, preflight

from conftest import LEGACY, REPO, requires_shared

SCRIPT = REPO / "scripts" / "train_stage2.sh"
SMOKE = "configs/stage2_ab/smoke/ab_mixed.yaml"
GOOD = {"rollout_backend": "vllm", "vllm_mode": "server", "server_base_urls": ["http://127.0.0.1:8000"]}


@pytest.fixture
def fake_bin(tmp_path):
    """torchrun and swift that only record that they were started."""
    record = tmp_path / "started.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("torchrun", "swift"):
        tool = bin_dir / name
        tool.write_text(f"#!/usr/bin/env bash\necho \"{name} $*\" >> {record}\n")
        tool.chmod(0o755)
    return bin_dir, record


def _launch(fake_bin, *args, preflight_output=None, preflight_status=0, **env):
    bin_dir, _ = fake_bin
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHON": sys.executable, **env}
    if preflight_output is not None:
        fake = bin_dir / "fake_preflight"
        fake.write_text(f"#!/usr/bin/env bash\ncat <<'JSON'\n{preflight_output}\nJSON\nexit {preflight_status}\n")
        fake.chmod(0o755)
        environ["STAGE2_PREFLIGHT_CMD"] = str(fake)
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env=environ)


def _started(fake_bin):
    record = fake_bin[1]
    return record.read_text().splitlines() if record.exists() else []


def test_dry_run_succeeds_and_matches_the_normalizer(fake_bin):
    result = _launch(fake_bin, config=SMOKE, gpus="0", dry_run="1")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("preflight: ")]
    reported = json.loads(line[len("preflight: "):])
    assert reported == preflight(normalize_rollout(ConfigLoader().load_profile(str(REPO / SMOKE)).config))
    assert "dry run: nothing started" in result.stdout
    assert _started(fake_bin) == []


def test_real_launch_starts_servers_then_learners(fake_bin):
    result = _launch(fake_bin, f"config={SMOKE}", "server_gpus=1", "train_gpus=2,3")
    assert result.returncode == 0, result.stderr
    assert _started(fake_bin) == ["swift rollout --port 8000",
                                  f"torchrun --nproc_per_node 2 -m src.sft --config {SMOKE}"]


@pytest.mark.parametrize("output,status,reason", [
    ("", 1, "preflight failed"),
    ("not json", 0, "invalid JSON"),
    ('{"rollout_backend": "vllm", "vllm_mode": "server"}', 0, "missing key 'server_base_urls'"),
    ('{"vllm_mode": "server", "server_base_urls": []}', 0, "missing key 'rollout_backend'"),
    ('{"rollout_backend": "vllm", "server_base_urls": []}', 0, "missing key 'vllm_mode'"),
    ('{"rollout_backend": 3, "vllm_mode": "server", "server_base_urls": ["http://a:1"]}', 0,
     "key 'rollout_backend' has the wrong type"),
    ('{"rollout_backend": "vllm", "vllm_mode": 1, "server_base_urls": ["http://a:1"]}', 0,
     "key 'vllm_mode' has the wrong type"),
    ('{"rollout_backend": "vllm", "vllm_mode": "server", "server_base_urls": "http://a:1"}', 0,
     "key 'server_base_urls' has the wrong type"),
    ('{"rollout_backend": "vllm", "vllm_mode": "server", "server_base_urls": [7]}', 0,
     "key 'server_base_urls' has the wrong type"),
    ('{"rollout_backend": "vllm", "vllm_mode": "server", "server_base_urls": []}', 0,
     "vllm_mode is server but server_base_urls is empty"),
    ('[1, 2]', 0, "expected a JSON object"),
    ('{"rollout_backend": "vllm",\n"vllm_mode": null, "server_base_urls": []}', 0, "expected one line of JSON"),
])
def test_preflight_refusals_start_nothing(fake_bin, output, status, reason):
    result = _launch(fake_bin, config=SMOKE, preflight_output=output, preflight_status=status)
    assert result.returncode != 0
    assert reason in result.stderr
    assert "nothing was started" in result.stderr
    assert _started(fake_bin) == []


def test_extra_keys_are_allowed(fake_bin):
    result = _launch(fake_bin, config=SMOKE, dry_run="1",
                     preflight_output=json.dumps({**GOOD, "decode_batch_size": 4, "future": {"x": 1}}))
    assert result.returncode == 0, result.stderr


@requires_shared
def test_legacy_profile_is_refused_before_anything_starts(fake_bin):
    result = _launch(fake_bin, config=str(LEGACY / "configs/stage2_ab/smoke/ab_mixed.yaml"))
    assert result.returncode != 0
    assert "S2L030 inherits 48 key(s) under the retired namespace" in result.stderr
    assert _started(fake_bin) == []


def test_usage_errors(fake_bin):
    assert "config= is required" in _launch(fake_bin).stderr
    assert "unknown argument 'bogus=1'" in _launch(fake_bin, f"config={SMOKE}", "bogus=1").stderr
    assert "does not exist" in _launch(fake_bin, config="nope.yaml").stderr
    assert _started(fake_bin) == []


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (.ci/run installs it)")
def test_script_is_shellcheck_and_bash_n_clean():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
