#!/usr/bin/env bash
# Stage-2 AB launcher: preflight the profile, start the rollout server, wait until it is
# healthy, then start the learners; stop everything when either side ends.
#
#   bash scripts/train_stage2.sh config=configs/stage2_ab/prod/ab_mixed.yaml server_gpus=0,1,2,3,4,5 train_gpus=6,7
#   bash scripts/train_stage2.sh config=configs/stage2_ab/smoke/ab_mixed.yaml server_gpus=0 train_gpus=1 dry_run=1
#
# Settings come as key=value arguments or environment variables of the same name (arguments win):
#   config        profile to train, relative to the repository root (required)
#   server_gpus   GPUs of the one rollout server (vllm server mode; disjoint from train_gpus)
#   train_gpus    GPUs of the learners (default: gpus, then 0)
#   gpus          shorthand for train_gpus
#   dry_run       1: preflight and print the plan, start nothing; 0 (default): launch
#   wait_timeout  seconds to wait for the server's /health/ to answer 200 (default 900)
#   master_port   torchrun's --master_port (default 29500)
#
# The profile is read once, by the Python resolver (src.launch_preflight: the same contract
# guard and normalizer as the trainer). Bash never parses YAML, and no value taken from the
# profile is ever word-split or glob-expanded. Runs from any working directory.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "train_stage2.sh: $*" >&2
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    config=*) config="${arg#config=}" ;;
    server_gpus=*) server_gpus="${arg#server_gpus=}" ;;
    train_gpus=*) train_gpus="${arg#train_gpus=}" ;;
    gpus=*) gpus="${arg#gpus=}" ;;
    dry_run=*) dry_run="${arg#dry_run=}" ;;
    wait_timeout=*) wait_timeout="${arg#wait_timeout=}" ;;
    master_port=*) master_port="${arg#master_port=}" ;;
    *) die "unknown argument '$arg' (expected config=, server_gpus=, train_gpus=, gpus=, dry_run=, wait_timeout=, master_port=; see --help)" ;;
  esac
done
config="${config:-}"
server_gpus="${server_gpus:-}"
gpus="${gpus:-0}"
train_gpus="${train_gpus:-$gpus}"
dry_run="${dry_run:-0}"
wait_timeout="${wait_timeout:-900}"
master_port="${master_port:-29500}"

is_gpu_list() {
  [[ "$1" =~ ^[0-9]+(,[0-9]+)*$ ]]
}
count_items() {
  local IFS=,
  local -a items
  read -r -a items <<< "$1"
  echo "${#items[@]}"
}

[ -n "$config" ] || die "config= is required (a profile under configs/stage2_ab/prod or smoke)"
[[ "$dry_run" =~ ^[01]$ ]] || die "dry_run must be 0 or 1, not '$dry_run'"
[[ "$wait_timeout" =~ ^[1-9][0-9]*$ ]] || die "wait_timeout must be a whole number of seconds, not '$wait_timeout'"
[[ "$master_port" =~ ^[1-9][0-9]*$ ]] || die "master_port must be a port number, not '$master_port'"
is_gpu_list "$train_gpus" || die "train_gpus must be a comma-separated list of GPU numbers, not '$train_gpus'"
if [ -n "$server_gpus" ] && ! is_gpu_list "$server_gpus"; then
  die "server_gpus must be a comma-separated list of GPU numbers, not '$server_gpus'"
fi

cd "$REPO_ROOT"
[ -f "$config" ] || die "config '$config' does not exist (paths are relative to $REPO_ROOT)"

# 1. Preflight: exactly one call to the resolver (STAGE2_PREFLIGHT: another resolver
# executable, taking the profile as its one argument).
preflight_cmd=("$PYTHON" -m src.launch_preflight)
[ -z "${STAGE2_PREFLIGHT:-}" ] || preflight_cmd=("$STAGE2_PREFLIGHT")
if ! preflight_json="$("${preflight_cmd[@]}" "$config")"; then
  die "preflight failed for $config (see the message above); nothing was started"
fi

# 2. Validate the JSON before acting on it (Python's json module; no jq). The fields come
# back one per line, each checked to hold no line break, and are read into an array.
if ! fields="$(printf '%s\n' "$preflight_json" | "$PYTHON" -c '
import json, sys
lines = sys.stdin.read().splitlines()
if len(lines) != 1:
    sys.exit(f"expected one line of JSON, got {len(lines)}")
try:
    data = json.loads(lines[0])
except ValueError as error:
    sys.exit(f"invalid JSON: {error}")
if not isinstance(data, dict):
    sys.exit("expected a JSON object")
text = lambda v: isinstance(v, str) and v != ""
checks = {"rollout_backend": text,
          "vllm_mode": lambda v: v is None or isinstance(v, str),
          "server_base_urls": lambda v: isinstance(v, list) and all(text(u) for u in v)}
server_checks = {"server_model": text, "torch_dtype": text,
                 "root_image_dir_resolved": lambda v: v is None or text(v),
                 "vllm_max_model_len": lambda v: type(v) is int and v > 0,
                 "vllm_enable_lora": lambda v: type(v) is bool,
                 "vllm_tensor_parallel_size": lambda v: type(v) is int and v > 0,
                 "vllm_gpu_memory_utilization": lambda v: type(v) in (int, float) and 0 < v <= 1}
server = data.get("rollout_backend") == "vllm" and data.get("vllm_mode") == "server"
for key, ok in {**checks, **(server_checks if server else {})}.items():
    if key not in data:
        sys.exit(f"missing key {key!r}")
    if not ok(data[key]):
        sys.exit(f"key {key!r} has the wrong type or value: {data[key]!r}")
servers = len(data["server_base_urls"])
if server and servers != 1:
    sys.exit(f"vllm_mode is server but server_base_urls has {servers} entries "
             "(the launcher manages exactly one server)")
url = data["server_base_urls"][0] if server else ""
host = port = ""
if server:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.port:
        sys.exit(f"server base_url {url!r} is not an http(s)://host:port URL")
    host, port = parts.hostname, str(parts.port)
values = [data["rollout_backend"], data["vllm_mode"] or "", url, host, port]
values += [str(data.get(key, "")) if not isinstance(data.get(key), bool) else str(data[key]).lower()
           for key in ("server_model", "torch_dtype", "root_image_dir_resolved", "vllm_max_model_len",
                       "vllm_enable_lora", "vllm_tensor_parallel_size", "vllm_gpu_memory_utilization")]
values = ["" if v == "None" else v for v in values]
if any("\n" in v or "\r" in v or "\0" in v for v in values):
    sys.exit("a preflight value holds a line break")
print("\n".join(values))
')"; then
  die "preflight JSON rejected; nothing was started"
fi
mapfile -t field <<< "$fields"
rollout_backend="${field[0]}"
vllm_mode="${field[1]}"
server_url="${field[2]}"
server_host="${field[3]}"
server_port="${field[4]}"
server_model="${field[5]}"
torch_dtype="${field[6]}"
root_image_dir="${field[7]}"
max_model_len="${field[8]}"
enable_lora="${field[9]}"
tensor_parallel="${field[10]}"
gpu_memory="${field[11]}"

echo "preflight: $preflight_json"
num_learners="$(count_items "$train_gpus")"
learner_cmd=(torchrun --nproc_per_node "$num_learners" --master_port "$master_port" -m src.sft --config "$config")
learner_env=(CUDA_VISIBLE_DEVICES="$train_gpus")
if [ -n "$root_image_dir" ]; then
  learner_env+=(ROOT_IMAGE_DIR="$root_image_dir")
fi

server_cmd=()
if [ "$rollout_backend" = "vllm" ] && [ "$vllm_mode" = "server" ]; then
  [ -n "$server_gpus" ] || die "server mode needs server_gpus= (GPUs for the rollout server, disjoint from train_gpus)"
  IFS=, read -r -a server_list <<< "$server_gpus"
  IFS=, read -r -a train_list <<< "$train_gpus"
  for gpu in "${server_list[@]}"; do
    for other in "${train_list[@]}"; do
      [ "$gpu" != "$other" ] || die "GPU $gpu is in both server_gpus and train_gpus; they must be disjoint"
    done
  done
  num_server_gpus="${#server_list[@]}"
  (( num_server_gpus % tensor_parallel == 0 )) \
    || die "server_gpus has $num_server_gpus GPU(s), not a multiple of rollout_matching.vllm.tensor_parallel_size=$tensor_parallel"
  data_parallel=$(( num_server_gpus / tensor_parallel ))
  server_cmd=(swift rollout --model "$server_model" --host "$server_host" --port "$server_port"
              --infer_backend vllm --torch_dtype "$torch_dtype"
              --vllm_data_parallel_size "$data_parallel" --vllm_tensor_parallel_size "$tensor_parallel"
              --vllm_gpu_memory_utilization "$gpu_memory" --vllm_max_model_len "$max_model_len"
              --vllm_enable_lora "$enable_lora")
else
  mode_note=""
  [ -z "$vllm_mode" ] || mode_note=", vllm mode $vllm_mode"
  echo "rollout backend $rollout_backend$mode_note: no rollout server to start; launching the learners only"
fi

if [ "$dry_run" = "1" ]; then
  if [ "${#server_cmd[@]}" -gt 0 ]; then
    echo "plan: CUDA_VISIBLE_DEVICES=$server_gpus${root_image_dir:+ ROOT_IMAGE_DIR=$root_image_dir} ${server_cmd[*]}"
    echo "plan: wait for ${server_url%/}/health/ (up to ${wait_timeout}s)"
  fi
  echo "plan: ${learner_env[*]} ${learner_cmd[*]}"
  echo "dry run: nothing started"
  exit 0
fi

# 3. Launch. Each side runs in its own process group (job control on), so stopping a side
# stops everything it started; the trap stops whatever is still running on any exit.
server_pid=""
learner_pid=""
# shellcheck disable=SC2317  # stop_group and cleanup run from the EXIT trap
stop_group() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_group "$learner_pid"
  stop_group "$server_pid"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
set -m

if [ "${#server_cmd[@]}" -gt 0 ]; then
  echo "starting rollout server: ${server_cmd[*]}"
  CUDA_VISIBLE_DEVICES="$server_gpus" ROOT_IMAGE_DIR="$root_image_dir" "${server_cmd[@]}" &
  server_pid=$!
  health_url="${server_url%/}/health/"
  deadline=$(( SECONDS + wait_timeout ))
  last_status="no answer"
  while :; do
    kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid" || true; die "rollout server exited before $health_url became healthy"; }
    last_status="$("$PYTHON" - "$health_url" <<'PY'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        print(response.status)
except urllib.error.HTTPError as error:
    print(error.code)
except Exception:
    print("no answer")
PY
)"
    [ "$last_status" != "200" ] || break
    (( SECONDS < deadline )) || die "rollout server at $health_url not healthy after ${wait_timeout}s (last answer: $last_status)"
    sleep 1
  done
  echo "rollout server healthy at $health_url"
fi

echo "starting learners: ${learner_env[*]} ${learner_cmd[*]}"
env "${learner_env[@]}" "${learner_cmd[@]}" &
learner_pid=$!

if [ -z "$server_pid" ]; then
  status=0
  wait "$learner_pid" || status=$?
  learner_pid=""
  exit "$status"
fi

# Whichever side ends first ends the launch.
status=0
wait -n -p finished "$server_pid" "$learner_pid" || status=$?
if [ "${finished:-}" = "$learner_pid" ]; then
  learner_pid=""
  [ "$status" -eq 0 ] || die "learners exited with status $status; stopping the rollout server"
  echo "learners finished; stopping the rollout server"
  exit 0
fi
server_pid=""
die "rollout server died mid-run (status $status); stopping the learners"
