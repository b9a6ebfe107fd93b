"""scripts/train_stage2.sh through bash, with fake `swift` and `torchrun` executables that run
a real HTTP server on 127.0.0.1 and record what they were started with and when (monotonic
clock, shared by all processes). Ordering is asserted on those records, never on timing.

The test binds the server's port itself (port 0, held for the whole test) and hands the
listening socket to each fake server over a Unix socket, so no other process can take the
port between choosing it and serving on it."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import REPO, install_contract

SCRIPT = REPO / "scripts" / "train_stage2.sh"

FAKE_SWIFT = """\
#!{python}
# Fake `swift rollout`: a real HTTP server. FAKE_SERVER: "ready_after=N" (503 for the first N
# health checks, then 200), "never" (always 503), "die_when_learners_start".
import http.server, json, os, socket, sys, time
sys.path.insert(0, {tests!r})
from launcher_fakes import record, learners_started
args = sys.argv[1:]
host, port = args[args.index("--host") + 1], int(args[args.index("--port") + 1])
with socket.socket(socket.AF_UNIX) as handoff:  # the test's listening socket, already bound
    handoff.connect(os.environ["FAKE_LISTENER"])
    _, fds, _, _ = socket.recv_fds(handoff, 1, 1)
listener = socket.socket(fileno=fds[0])
record("server-start", argv=args, cuda=os.environ.get("CUDA_VISIBLE_DEVICES"),
       root_image_dir=os.environ.get("ROOT_IMAGE_DIR"), pgid=os.getpgid(0),
       serving=list(listener.getsockname()))
mode = os.environ.get("FAKE_SERVER", "ready_after=2")
checks = [0]
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        checks[0] += 1
        ready = mode.startswith("ready_after=") and checks[0] > int(mode.split("=")[1])
        ready = ready or (mode == "die_when_learners_start" and checks[0] > 1)
        self.send_response(200 if ready and self.path == "/health/" else 503)
        self.end_headers()
        if ready:
            record("health-200")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer((host, port), Health, bind_and_activate=False)
server.socket.close()
server.socket = listener
server.timeout = 0.1
while True:
    server.handle_request()
    if mode == "die_when_learners_start" and learners_started():
        record("server-dies")
        sys.exit(3)
"""

FAKE_TORCHRUN = """\
#!{python}
# Fake torchrun: records its start; FAKE_LEARNER "exit=N" exits with N, "sleep" runs until stopped.
import os, sys, time
sys.path.insert(0, {tests!r})
from launcher_fakes import record
record("learner-start", argv=sys.argv[1:], cuda=os.environ.get("CUDA_VISIBLE_DEVICES"),
       root_image_dir=os.environ.get("ROOT_IMAGE_DIR"), pgid=os.getpgid(0))
mode = os.environ.get("FAKE_LEARNER", "exit=0")
if mode == "sleep":
    while True:
        time.sleep(0.1)
record("learner-exit")
sys.exit(int(mode.split("=")[1]))
"""

FAKES_MODULE = """\
import json, os, time
LOG = os.environ["FAKE_LOG"]
def record(event, **fields):
    line = json.dumps({"event": event, "t": time.monotonic_ns(), "pid": os.getpid(), **fields}) + "\\n"
    with open(LOG, "a") as handle:
        handle.write(line)
def learners_started():
    with open(LOG) as handle:
        return any('"learner-start"' in line for line in handle)
"""


@pytest.fixture
def listener():
    """A listening socket on a port the kernel chose, and the path of a Unix socket that hands
    it to every fake server that asks, for as long as the test runs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    directory = tempfile.mkdtemp(prefix="s2l-")  # short: a Unix socket path is at most 107 bytes
    path = os.path.join(directory, "listener")
    handoff = socket.socket(socket.AF_UNIX)
    handoff.bind(path)
    handoff.listen(4)

    def serve():
        while True:
            try:
                connection, _ = handoff.accept()
            except OSError:  # closed at teardown
                return
            with connection:
                socket.send_fds(connection, [b"fd"], [server.fileno()])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], path
    handoff.shutdown(socket.SHUT_RDWR)
    handoff.close()
    thread.join()
    server.close()
    shutil.rmtree(directory)


@pytest.fixture
def launch(tmp_path, listener):
    """Run the launcher with the fakes first on PATH, on a copy of the canonical configs whose
    rollout server listens on a free port; returns (result, events)."""
    bin_dir, tests_dir = tmp_path / "bin", tmp_path / "fakes"
    bin_dir.mkdir()
    tests_dir.mkdir()
    (tests_dir / "launcher_fakes.py").write_text(FAKES_MODULE)
    for name, text in (("swift", FAKE_SWIFT), ("torchrun", FAKE_TORCHRUN)):
        (bin_dir / name).write_text(text.format(python=sys.executable, tests=str(tests_dir)))
        (bin_dir / name).chmod(0o755)
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    install_contract(tmp_path)
    port, handoff = listener
    base = tmp_path / "configs/stage2_ab/base.yaml"
    base.write_text(base.read_text().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}"))
    log = tmp_path / "events.jsonl"

    def run(*args, cwd=REPO, timeout=60, **env):
        log.write_text("")
        environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHON": sys.executable,
                   "FAKE_LOG": str(log), "FAKE_LISTENER": handoff, **env}
        result = subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True,
                                timeout=timeout, env=environ)
        events = [json.loads(line) for line in log.read_text().splitlines()]
        return result, events

    run.root, run.port = tmp_path, port
    return run


def _profile(launch, name="smoke/ab_mixed"):
    return str(launch.root / f"configs/stage2_ab/{name}.yaml")


def _first(events, name):
    return next(event for event in events if event["event"] == name)


def _names(events):
    return [event["event"] for event in events]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has stopped running
    except FileNotFoundError:
        return True


def test_dry_run_prints_the_upstream_server_command_and_starts_nothing(launch):
    result, events = launch(f"config={_profile(launch)}", "server_gpus=0,1", "train_gpus=2,3", "dry_run=1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    preflight = json.loads(lines[0][len("preflight: "):])
    assert preflight["server_base_urls"] == [f"http://127.0.0.1:{launch.port}"]
    assert preflight["vllm_max_model_len"] == 12000 and preflight["repeat_terminate_enabled"] is True
    assert preflight["root_image_dir_resolved"] == str(launch.root / "public_data/lvis/rescale_32_768_bbox_max60")
    assert lines[1] == (f"plan: CUDA_VISIBLE_DEVICES=0,1 ROOT_IMAGE_DIR={launch.root}/public_data/lvis/"
                        f"rescale_32_768_bbox_max60 swift rollout --model output/1-26/checkpoint-1516-merged "
                        f"--host 127.0.0.1 --port {launch.port} --infer_backend vllm --torch_dtype bfloat16 "
                        "--vllm_data_parallel_size 2 --vllm_tensor_parallel_size 1 --vllm_gpu_memory_utilization "
                        "0.85 --vllm_max_model_len 12000 --vllm_enable_lora false")
    assert lines[-1] == "dry run: nothing started"
    assert events == []


def test_learners_start_only_after_the_server_is_healthy_and_nothing_is_left(launch):
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2,3",
                            FAKE_SERVER="ready_after=3")
    assert result.returncode == 0, result.stderr
    assert _names(events)[:2] == ["server-start", "health-200"]
    server, learner = _first(events, "server-start"), _first(events, "learner-start")
    assert _first(events, "health-200")["t"] < learner["t"]
    assert server["argv"][:4] == ["rollout", "--model", "output/1-26/checkpoint-1516-merged", "--host"]
    assert server["serving"] == ["127.0.0.1", launch.port]  # the port the launcher told it and checked
    assert server["cuda"] == "1" and learner["cuda"] == "2,3"
    assert server["root_image_dir"] == learner["root_image_dir"] == \
        str(launch.root / "public_data/lvis/rescale_32_768_bbox_max60")
    assert server["pgid"] == server["pid"] and server["pgid"] != learner["pgid"]  # own process groups
    assert learner["argv"] == ["--nproc_per_node", "2", "--master_port", "29500", "-m", "src.sft", "--config",
                               _profile(launch)]
    assert "learners finished; stopping the rollout server" in result.stdout
    assert _gone(server["pid"]) and _gone(learner["pid"])


def test_a_server_that_never_becomes_healthy_ends_the_launch_after_the_timeout(launch):
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2", "wait_timeout=2",
                            FAKE_SERVER="never")
    assert result.returncode == 1
    assert (f"rollout server at http://127.0.0.1:{launch.port}/health/ not healthy after 2s (last answer: 503)"
            in result.stderr)
    assert _names(events) == ["server-start"]
    assert _gone(events[0]["pid"])


def test_a_server_that_dies_mid_run_ends_the_learners(launch):
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2",
                            FAKE_SERVER="die_when_learners_start", FAKE_LEARNER="sleep")
    assert result.returncode == 1
    assert "rollout server died mid-run (status 3); stopping the learners" in result.stderr
    assert _names(events)[-1] == "server-dies"
    assert _gone(_first(events, "learner-start")["pid"])


def test_a_failing_learner_stops_the_server_and_names_itself(launch):
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2", FAKE_LEARNER="exit=4")
    assert result.returncode == 1
    assert "learners exited with status 4; stopping the rollout server" in result.stderr
    assert _gone(_first(events, "server-start")["pid"])


def test_a_colocate_profile_launches_learners_only_and_says_so(launch):
    leaf = launch.root / "configs/stage2_ab/smoke/a_only.yaml"
    base = launch.root / "configs/stage2_ab/base.yaml"
    base.write_text(base.read_text().replace("    mode: server\n", "    mode: colocate\n"))
    result, events = launch(f"config={leaf}", "train_gpus=0")
    assert result.returncode == 0, result.stderr
    assert "rollout backend vllm, vllm mode colocate: no rollout server to start; launching the learners only" \
        in result.stdout
    assert _names(events) == ["learner-start", "learner-exit"]


def test_no_profile_value_is_word_split_or_glob_expanded(launch):
    leaf = launch.root / "configs/stage2_ab/smoke/b_only.yaml"
    leaf.write_text(leaf.read_text().replace("model: output/1-26/checkpoint-1516-merged",
                                             'model: "ckpt dir/* [final]"'))
    result, events = launch(f"config={leaf}", "server_gpus=1", "train_gpus=2")
    assert result.returncode == 0, result.stderr
    argv = _first(events, "server-start")["argv"]
    assert argv[argv.index("--model") + 1] == "ckpt dir/* [final]"


def test_it_runs_from_any_working_directory_and_answers_help(launch, tmp_path):
    result, _ = launch("--help", cwd=tmp_path)
    assert result.returncode == 0 and "wait_timeout" in result.stdout
    result, _ = launch("config=configs/stage2_ab/smoke/b_only.yaml", "server_gpus=0", "train_gpus=1", "dry_run=1",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--config configs/stage2_ab/smoke/b_only.yaml" in result.stdout


@pytest.mark.parametrize("args,reason", [
    ((), "config= is required"),
    (("dry_run=true",), "dry_run must be 0 or 1, not 'true'"),
    (("train_gpus=a,b",), "train_gpus must be a comma-separated list of GPU numbers, not 'a,b'"),
    (("server_gpus=1,1;rm",), "server_gpus must be a comma-separated list of GPU numbers"),
    (("server_gpus=1,2", "train_gpus=2,3"), "GPU 2 is in both server_gpus and train_gpus"),
    (("train_gpus=1",), "server mode needs server_gpus="),
    (("wait_timeout=soon",), "wait_timeout must be a whole number of seconds"),
    (("bogus=1",), "unknown argument 'bogus=1'"),
    (("config=nope.yaml",), "config 'nope.yaml' does not exist"),
])
def test_bad_settings_are_refused_before_anything_starts(launch, args, reason):
    if not any(arg.startswith("config=") for arg in args) and args:
        args = (f"config={_profile(launch)}", *args)
    result, events = launch(*args)
    assert result.returncode != 0
    assert reason in result.stderr
    assert events == []


def test_profiles_the_launcher_cannot_manage_are_refused_naming_the_key(launch):
    base = launch.root / "configs/stage2_ab/base.yaml"
    text = base.read_text()
    base.write_text(text.replace("    max_model_len: 12000\n", ""))
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2")
    assert result.returncode == 1
    assert "rollout_matching.vllm.max_model_len is required in server mode" in result.stderr
    base.write_text(text.replace("        group_port: 51216\n", "        group_port: 51216\n"
                                 "      - base_url: http://127.0.0.1:8001\n"))
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2")
    assert "servers lists 2 servers; the launcher manages exactly one" in result.stderr
    base.write_text(text.replace(f"http://127.0.0.1:{launch.port}", "'*'"))
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2")
    assert "S2L040 rollout_matching.vllm.server.servers.0.base_url: expected an http(s)://host:port URL" \
        in result.stderr
    assert events == []


def _fake_preflight(tmp_path, output, status=0):
    fake = tmp_path / "fake_preflight"
    fake.write_text(f"#!/usr/bin/env bash\ncat <<'JSON'\n{output}\nJSON\nexit {status}\n")
    fake.chmod(0o755)
    return str(fake)


GOOD = {"rollout_backend": "vllm", "vllm_mode": "server", "server_base_urls": ["http://127.0.0.1:8000"],
        "server_model": "m", "server_torch_dtype": "bfloat16", "root_image_dir_resolved": None, "vllm_max_model_len": 8,
        "vllm_enable_lora": False, "vllm_tensor_parallel_size": 1, "vllm_gpu_memory_utilization": 0.5}


@pytest.mark.parametrize("output,status,reason", [
    ("", 1, "preflight failed"),
    ("not json", 0, "invalid JSON"),
    ('[1, 2]', 0, "expected a JSON object"),
    ('{"rollout_backend": "vllm",\n"vllm_mode": null, "server_base_urls": []}', 0, "expected one line of JSON"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "vllm_mode"}), 0, "missing key 'vllm_mode'"),
    (json.dumps({**GOOD, "rollout_backend": 3}), 0, "key 'rollout_backend' has the wrong type"),
    (json.dumps({**GOOD, "server_base_urls": "http://a:1"}), 0, "key 'server_base_urls' has the wrong type"),
    (json.dumps({**GOOD, "server_base_urls": []}), 0, "server_base_urls has 0 entries"),
    (json.dumps({**GOOD, "server_base_urls": ["http://a:1", "http://b:2"]}), 0, "server_base_urls has 2 entries"),
    (json.dumps({**GOOD, "server_base_urls": ["ftp://a"]}), 0, "is not an http(s)://host:port URL"),
    (json.dumps({**GOOD, "vllm_max_model_len": None}), 0, "key 'vllm_max_model_len' has the wrong type"),
    (json.dumps({**GOOD, "server_model": "a\nb"}), 0, "key 'server_model' has the wrong type or value"),
])
def test_preflight_refusals_start_nothing(launch, tmp_path, output, status, reason):
    result, events = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2",
                            STAGE2_PREFLIGHT=_fake_preflight(tmp_path, output, status))
    assert result.returncode != 0
    assert reason in result.stderr
    assert "nothing was started" in result.stderr
    assert events == []


def test_extra_preflight_keys_are_allowed(launch, tmp_path):
    output = json.dumps({**GOOD, "decode_batch_size": 4, "future": {"x": 1}})
    result, _ = launch(f"config={_profile(launch)}", "server_gpus=1", "train_gpus=2", "dry_run=1",
                       STAGE2_PREFLIGHT=_fake_preflight(tmp_path, output))
    assert result.returncode == 0, result.stderr


def test_a_legacy_profile_is_refused_before_anything_starts(launch):
    leaf = launch.root / "configs/stage2_ab/smoke/ab_mixed.yaml"
    leaf.write_text(leaf.read_text().replace("custom:\n", "custom:\n  extra:\n    rollout_matching:\n"
                                                          "      decode_batch_size: 2\n"))
    result, events = launch(f"config={leaf}", "server_gpus=1", "train_gpus=2")
    assert result.returncode == 1
    assert "S2L030 custom.extra.rollout_matching.decode_batch_size is in the retired namespace; move it to " \
           "rollout_matching.decode_batch_size" in result.stderr
    assert events == []


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (.ci/run installs it)")
def test_script_is_shellcheck_and_bash_n_clean():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_fakes_record_a_shared_monotonic_clock():
    """The ordering assertions compare timestamps from different processes: they rely on
    CLOCK_MONOTONIC being one clock for the whole machine (Linux)."""
    before = time.monotonic_ns()
    child = int(subprocess.run([sys.executable, "-c", "import time; print(time.monotonic_ns())"],
                               capture_output=True, text=True, check=True).stdout)
    assert before < child < time.monotonic_ns()
