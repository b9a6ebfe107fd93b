#!/usr/bin/env bash
# Stage-2 AB launcher: a thin shim in front of the Python orchestrator (src/launch.py), which
# preflights the profile, starts the rollout server, waits until it is healthy, then starts
# the learners, and stops everything when either side ends.
#
#   bash scripts/train_stage2.sh config=configs/stage2_ab/prod/ab_mixed.yaml server_gpus=0,1,2,3,4,5 train_gpus=6,7
#   bash scripts/train_stage2.sh config=configs/stage2_ab/smoke/ab_mixed.yaml server_gpus=0 train_gpus=1 dry_run=1
#   bash scripts/train_stage2.sh --help
#
# PYTHON picks the interpreter (default python3). Runs from any working directory.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
exec "${PYTHON:-python3}" -m src.launch "$@"
