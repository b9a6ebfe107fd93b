#!/usr/bin/env bash
# Stage-2 AB launcher: preflight the profile, then start rollout servers and learners.
#
#   config=configs/stage2_ab/prod/ab_mixed.yaml server_gpus=0,1,2,3,4,5 train_gpus=6,7 bash scripts/train_stage2.sh
#   config=configs/stage2_ab/smoke/ab_mixed.yaml gpus=0 dry_run=1 bash scripts/train_stage2.sh
#
# Settings come as key=value arguments or environment variables (arguments win):
#   config       profile to train (required)
#   server_gpus  GPUs for rollout servers in vllm server mode (default: train_gpus)
#   train_gpus   GPUs for the learners (default: gpus)
#   gpus         shorthand for train_gpus
#   dry_run=1    preflight and print the launch plan; start nothing
#
# The rollout settings come from one call to the Python resolver (src.launch_preflight),
# which applies the same contract guard and normalizer as the trainer. Bash never reads YAML.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
PREFLIGHT_CMD="${STAGE2_PREFLIGHT_CMD:-$PYTHON -m src.launch_preflight}"

die() {
  echo "train_stage2.sh: $*" >&2
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    config=*) config="${arg#config=}" ;;
    server_gpus=*) server_gpus="${arg#server_gpus=}" ;;
    train_gpus=*) train_gpus="${arg#train_gpus=}" ;;
    gpus=*) gpus="${arg#gpus=}" ;;
    dry_run=*) dry_run="${arg#dry_run=}" ;;
    *) die "unknown argument '$arg' (expected config=, server_gpus=, train_gpus=, gpus=, dry_run=)" ;;
  esac
done
config="${config:-}"
server_gpus="${server_gpus:-}"
gpus="${gpus:-0}"
train_gpus="${train_gpus:-$gpus}"
dry_run="${dry_run:-0}"

[ -n "$config" ] || die "config= is required (a profile under configs/stage2_ab/prod or smoke)"
[ -f "$config" ] || die "config '$config' does not exist"

# 1. Preflight: exactly one call to the resolver.
if ! preflight_json="$($PREFLIGHT_CMD "$config")"; then
  die "preflight failed for $config (see the message above); nothing was started"
fi

# 2. Validate the JSON's keys and types before acting on it (Python's json module; no jq).
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
checks = {"rollout_backend": lambda v: isinstance(v, str) and v,
          "vllm_mode": lambda v: v is None or isinstance(v, str),
          "server_base_urls": lambda v: isinstance(v, list) and all(isinstance(u, str) and u for u in v)}
for key, ok in checks.items():
    if key not in data:
        sys.exit(f"missing key {key!r}")
    if not ok(data[key]):
        sys.exit(f"key {key!r} has the wrong type: {data[key]!r}")
if data["vllm_mode"] == "server" and not data["server_base_urls"]:
    sys.exit("vllm_mode is server but server_base_urls is empty")
print(data["rollout_backend"])
print(data["vllm_mode"] or "")
print(" ".join(data["server_base_urls"]))
')"; then
  die "preflight JSON rejected; nothing was started"
fi
{ read -r rollout_backend; read -r vllm_mode; read -r server_base_urls; } <<< "$fields"

echo "preflight: $preflight_json"
num_learners=$(( $(tr -cd ',' <<< "$train_gpus" | wc -c) + 1 ))
learner_cmd=(torchrun --nproc_per_node "$num_learners" -m src.sft --config "$config")

server_cmds=()
if [ "$rollout_backend" = "vllm" ] && [ "$vllm_mode" = "server" ]; then
  if [ -z "$server_gpus" ]; then
    server_gpus="$train_gpus"
    echo "note: server_gpus not set; rollout servers share train_gpus=$train_gpus" >&2
  fi
  for url in $server_base_urls; do
    port="${url##*:}"
    port="${port%%/*}"
    server_cmds+=("CUDA_VISIBLE_DEVICES=$server_gpus swift rollout --port $port")
  done
fi

if [ "$dry_run" = "1" ]; then
  for cmd in "${server_cmds[@]}"; do
    echo "plan: $cmd"
  done
  echo "plan: CUDA_VISIBLE_DEVICES=$train_gpus ${learner_cmd[*]}"
  echo "dry run: nothing started"
  exit 0
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

for url in $server_base_urls; do
  [ "$vllm_mode" = "server" ] || break
  port="${url##*:}"
  port="${port%%/*}"
  CUDA_VISIBLE_DEVICES="$server_gpus" swift rollout --port "$port" &
  pids+=("$!")
done
CUDA_VISIBLE_DEVICES="$train_gpus" "${learner_cmd[@]}"
