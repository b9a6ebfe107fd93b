"""Stage-2 launcher: preflight the profile, start the rollout server, wait until it is
healthy, then start the learners; stop everything when either side ends.

    python -m src.launch config=configs/stage2_ab/prod/ab_mixed.yaml server_gpus=0,1,2,3,4,5 train_gpus=6,7
    python -m src.launch config=configs/stage2_ab/smoke/ab_mixed.yaml server_gpus=0 train_gpus=1 dry_run=1

(``scripts/train_stage2.sh`` is a thin shim in front of this module.) Settings come as
key=value arguments or environment variables of the same name (arguments win):
  config        profile to train, relative to the repository root (required)
  server_gpus   GPUs of the one rollout server (vllm server mode; disjoint from train_gpus)
  train_gpus    GPUs of the learners (default: gpus, then 0)
  gpus          shorthand for train_gpus
  dry_run       1: preflight and print the plan, start nothing; 0 (default): launch
  wait_timeout  seconds to wait for the server's /health/ to answer 200 (1-86400, default 900)
  master_port   torchrun's --master_port (1-65535, default 29500)

The profile is read once, by the trainer's own loader and normalizer (or, with
STAGE2_PREFLIGHT set, by that executable, which must print the preflight's one line of
JSON). Every value is checked before anything starts; commands run as argument lists,
never through a shell, and are printed shell-quoted, so a pasted plan runs exactly what
was planned.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from stage2_lint.core.escape import printable_lines, shell_command

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = ("config", "server_gpus", "train_gpus", "gpus", "dry_run", "wait_timeout", "master_port")
GPU_LIST = re.compile(r"[0-9]{1,4}(?:,[0-9]{1,4}){0,255}")
HEALTH_POLL_S = 0.5
STOP_GRACE_S = 5.0


class LaunchError(Exception):
    """The launch cannot go on; the message says why (and what was stopped)."""


class Options(NamedTuple):
    config: str
    server_gpus: Tuple[str, ...]
    train_gpus: Tuple[str, ...]
    dry_run: bool
    wait_timeout: int
    master_port: int


class Command(NamedTuple):
    argv: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...]  # set on top of the launcher's own environment

    def shown(self) -> str:
        return shell_command(self.argv, self.env)


class Plan(NamedTuple):
    preflight: dict
    server: Optional[Command]
    server_url: Optional[str]  # polled at {server_url}/health/
    learners: Command
    note: Optional[str]  # why no server is started


# -- settings ---------------------------------------------------------------------------

def parse_options(args: Sequence[str], environ: Dict[str, str]) -> Options:
    values = {name: environ[name] for name in SETTINGS if environ.get(name)}
    for arg in args:
        name, equals, value = arg.partition("=")
        if not equals or name not in SETTINGS:
            raise LaunchError(f"unknown argument {_quoted(arg)} (expected {', '.join(s + '=' for s in SETTINGS)}; "
                              f"see --help)")
        values[name] = value
    config = values.get("config", "")
    if not config:
        raise LaunchError("config= is required (a profile under configs/stage2_ab/prod or smoke)")
    train = values.get("train_gpus") or values.get("gpus") or "0"
    server = values.get("server_gpus", "")
    dry_run = values.get("dry_run", "0")
    if dry_run not in ("0", "1"):
        raise LaunchError(f"dry_run must be 0 or 1, not {_quoted(dry_run)}")
    options = Options(config, _gpus("server_gpus", server) if server else (), _gpus("train_gpus", train),
                      dry_run == "1", _bounded("wait_timeout", values.get("wait_timeout", "900"), 1, 86_400,
                                               "a whole number of seconds"),
                      _bounded("master_port", values.get("master_port", "29500"), 1, 65_535, "a port number"))
    if not os.path.isfile(os.path.join(REPO_ROOT, config)):
        raise LaunchError(f"config {_quoted(config)} does not exist (paths are relative to {REPO_ROOT})")
    return options


def _gpus(name: str, text: str) -> Tuple[str, ...]:
    if not GPU_LIST.fullmatch(text):
        raise LaunchError(f"{name} must be a comma-separated list of GPU numbers, not {_quoted(text)}")
    return tuple(text.split(","))


def _bounded(name: str, text: str, low: int, high: int, what: str) -> int:
    if not re.fullmatch(r"[1-9][0-9]{0,5}", text) or not low <= int(text) <= high:
        raise LaunchError(f"{name} must be {what} from {low} to {high}, not {_quoted(text)}")
    return int(text)


def _quoted(text: str) -> str:
    return printable_lines(repr(text[:200]))


# -- the plan ---------------------------------------------------------------------------

def make_plan(options: Options, environ: Dict[str, str]) -> Plan:
    data = _preflight(options.config, environ)
    server = data["rollout_backend"] == "vllm" and data["vllm_mode"] == "server"
    learner_env = [("CUDA_VISIBLE_DEVICES", ",".join(options.train_gpus))]
    if data["root_image_dir_resolved"]:
        learner_env.append(("ROOT_IMAGE_DIR", data["root_image_dir_resolved"]))
    learners = Command(("torchrun", "--nproc_per_node", str(len(options.train_gpus)), "--master_port",
                        str(options.master_port), "-m", "src.sft", "--config", options.config), tuple(learner_env))
    if not server:
        mode = f", vllm mode {data['vllm_mode']}" if data["vllm_mode"] else ""
        return Plan(data, None, None, learners,
                    f"rollout backend {data['rollout_backend']}{mode}: no rollout server to start; "
                    f"launching the learners only")
    return Plan(data, _server_command(options, data), data["server_base_urls"][0].rstrip("/"), learners, None)


def _server_command(options: Options, data: dict) -> Command:
    if not options.server_gpus:
        raise LaunchError("server mode needs server_gpus= (GPUs for the rollout server, disjoint from train_gpus)")
    shared = [gpu for gpu in options.server_gpus if gpu in options.train_gpus]
    if shared:
        raise LaunchError(f"GPU {shared[0]} is in both server_gpus and train_gpus; they must be disjoint")
    parallel = data["vllm_tensor_parallel_size"]
    if len(options.server_gpus) % parallel:
        raise LaunchError(f"server_gpus has {len(options.server_gpus)} GPU(s), not a multiple of "
                          f"rollout_matching.vllm.tensor_parallel_size={parallel}")
    host, port = _host_and_port(data["server_base_urls"][0])
    env = [("CUDA_VISIBLE_DEVICES", ",".join(options.server_gpus))]
    if data["root_image_dir_resolved"]:
        env.append(("ROOT_IMAGE_DIR", data["root_image_dir_resolved"]))
    argv = ("swift", "rollout", "--model", data["server_model"], "--host", host, "--port", str(port),
            "--infer_backend", "vllm", "--torch_dtype", data["server_torch_dtype"],
            "--vllm_data_parallel_size", str(len(options.server_gpus) // parallel),
            "--vllm_tensor_parallel_size", str(parallel),
            "--vllm_gpu_memory_utilization", str(data["vllm_gpu_memory_utilization"]),
            "--vllm_max_model_len", str(data["vllm_max_model_len"]),
            "--vllm_enable_lora", "true" if data["vllm_enable_lora"] else "false")
    return Command(argv, tuple(env))


def _host_and_port(url: str) -> Tuple[str, int]:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port \
            or any(char.isspace() for char in url) or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise LaunchError(f"server base_url {_quoted(url)} is not an http(s)://host:port URL")
    return parts.hostname, port


_TEXT = (lambda v: isinstance(v, str) and v != "" and not re.search(r"[\x00-\x1f\x7f]", v))
_CHECKS = {"rollout_backend": _TEXT,
           "vllm_mode": lambda v: v is None or _TEXT(v),
           "server_base_urls": lambda v: isinstance(v, list) and all(_TEXT(u) for u in v)}
_SERVER_CHECKS = {"server_model": _TEXT, "server_torch_dtype": _TEXT,
                  "root_image_dir_resolved": lambda v: v is None or _TEXT(v),
                  "vllm_max_model_len": lambda v: type(v) is int and v > 0,
                  "vllm_enable_lora": lambda v: type(v) is bool,
                  "vllm_tensor_parallel_size": lambda v: type(v) is int and v > 0,
                  "vllm_gpu_memory_utilization": lambda v: type(v) in (int, float) and 0 < v <= 1}


def _preflight(config: str, environ: Dict[str, str]) -> dict:
    """The preflight's answer, checked key by key before anything acts on it."""
    data = _external_preflight(environ["STAGE2_PREFLIGHT"], config) if environ.get("STAGE2_PREFLIGHT") \
        else _own_preflight(config)
    if not isinstance(data, dict):
        raise LaunchError("preflight JSON rejected: expected a JSON object")
    server = data.get("rollout_backend") == "vllm" and data.get("vllm_mode") == "server"
    data.setdefault("root_image_dir_resolved", None)
    for key, ok in {**_CHECKS, **(_SERVER_CHECKS if server else {})}.items():
        if key not in data:
            raise LaunchError(f"preflight JSON rejected: missing key {key!r}")
        if not ok(data[key]):
            raise LaunchError(f"preflight JSON rejected: key {key!r} has the wrong type or value: "
                              f"{_quoted(repr(data[key]))}")
    if server and len(data["server_base_urls"]) != 1:
        raise LaunchError(f"preflight JSON rejected: vllm_mode is server but server_base_urls has "
                          f"{len(data['server_base_urls'])} entries (the launcher manages exactly one server)")
    return data


def _own_preflight(config: str) -> dict:
    from stage2_lint.guard import ConfigContractError
    from src.config.loader import ConfigLoader
    from src.config.rollout import launch_problems, normalize_rollout, preflight
    from stage2_lint.contracts.settings import settings_for
    from stage2_lint.tree.layout import config_root

    path = os.path.join(REPO_ROOT, config)
    try:
        settings = settings_for(path)
        profile = ConfigLoader(settings).load_profile(path).config
        plan = preflight(normalize_rollout(profile), profile, os.path.dirname(config_root(settings, path)))
    except (ConfigContractError, ValueError, OSError) as error:
        raise LaunchError(f"preflight failed for {config}: {error}") from None
    problems = launch_problems(plan)
    if problems:
        raise LaunchError(f"preflight failed for {config}: " + "\n".join(problems))
    return plan


def _external_preflight(executable: str, config: str) -> object:
    result = subprocess.run([executable, config], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                            errors="replace")
    if result.returncode != 0:
        raise LaunchError(f"preflight failed for {config} (see the message above)")
    lines = result.stdout.splitlines()
    if len(lines) != 1:
        raise LaunchError(f"preflight JSON rejected: expected one line of JSON, got {len(lines)}")
    try:
        return json.loads(lines[0])
    except ValueError as error:
        raise LaunchError(f"preflight JSON rejected: invalid JSON: {error}") from None


# -- running it -------------------------------------------------------------------------

class _Stopped(Exception):
    """SIGINT or SIGTERM reached the launcher: stop both sides, exit 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def run(plan: Plan, options: Options, out=sys.stdout) -> int:
    started: List[subprocess.Popen] = []
    previous = {signum: signal.signal(signum, _raise_stopped) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        server = None
        if plan.server is not None:
            _say(out, f"starting rollout server: {plan.server.shown()}")
            server = _start(plan.server, started)
            _wait_healthy(server, plan.server_url, options.wait_timeout)
            _say(out, f"rollout server healthy at {plan.server_url}/health/")
        _say(out, f"starting learners: {plan.learners.shown()}")
        learners = _start(plan.learners, started)
        return _supervise(server, learners, out)
    except _Stopped as stopped:
        return 128 + stopped.signum
    finally:
        for process in reversed(started):
            _stop_group(process)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_stopped(signum, frame):
    raise _Stopped(signum)


def _start(command: Command, started: List[subprocess.Popen]) -> subprocess.Popen:
    """Start ``command`` in its own process group (so stopping it stops all it started)."""
    try:
        process = subprocess.Popen(list(command.argv), cwd=REPO_ROOT, env={**os.environ, **dict(command.env)},
                                   start_new_session=True)
    except OSError as error:
        raise LaunchError(f"cannot start {command.argv[0]}: {error.strerror}") from None
    started.append(process)
    return process


def _wait_healthy(server: subprocess.Popen, server_url: str, timeout: int) -> None:
    from src.rollout.client import health

    url = f"{server_url}/health/"
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise LaunchError(f"rollout server exited before {url} became healthy")
        last = health(server_url, timeout=5)
        if last == "200":
            return
        if time.monotonic() >= deadline:
            raise LaunchError(f"rollout server at {url} not healthy after {timeout}s (last answer: {last})")
        time.sleep(HEALTH_POLL_S)


def _supervise(server: Optional[subprocess.Popen], learners: subprocess.Popen, out) -> int:
    """Whichever side ends first ends the launch."""
    if server is None:
        return learners.wait()
    while True:
        pid, status = os.wait()
        code = os.waitstatus_to_exitcode(status)
        if pid == learners.pid:
            learners.returncode = code
            if code != 0:
                raise LaunchError(f"learners exited with status {code}; stopping the rollout server")
            _say(out, "learners finished; stopping the rollout server")
            return 0
        if pid == server.pid:
            server.returncode = code
            raise LaunchError(f"rollout server died mid-run (status {code}); stopping the learners")


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL it after a grace period, and reap the leader."""
    for signum, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            break
        if grace is None:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.05)
        if not _group_alive(process):
            break
    try:
        process.wait(timeout=STOP_GRACE_S)
    except (subprocess.TimeoutExpired, ChildProcessError):
        pass


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the leader once it exits, so its zombie does not keep the group alive
    try:
        os.killpg(process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _say(out, line: str) -> None:
    print(printable_lines(line), file=out, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.split("\n\n", 1)[1].strip())
        return 0
    try:
        options = parse_options(argv, dict(os.environ))
        plan = make_plan(options, dict(os.environ))
    except LaunchError as error:
        print(printable_lines(f"launch: {error}\nnothing was started"), file=sys.stderr)
        return 1
    try:
        _say(sys.stdout, f"preflight: {json.dumps(plan.preflight)}")
        if plan.note:
            _say(sys.stdout, plan.note)
        if options.dry_run:
            if plan.server is not None:
                _say(sys.stdout, f"plan: {plan.server.shown()}")
                _say(sys.stdout, f"plan: wait for {plan.server_url}/health/ (up to {options.wait_timeout}s)")
            _say(sys.stdout, f"plan: {plan.learners.shown()}")
            _say(sys.stdout, "dry run: nothing started")
            return 0
        return run(plan, options)
    except LaunchError as error:
        print(printable_lines(f"launch: {error}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("launch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
