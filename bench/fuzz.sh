#!/usr/bin/env bash
# Long fuzz run: every property in tests/test_fuzz.py with N examples each (default 100,000).
# Usage: bench/fuzz.sh [N] [pytest -k expression]
set -euo pipefail
cd "$(dirname "$0")/.."
export STAGE2_FUZZ_EXAMPLES="${1:-100000}"
exec .venv/bin/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider ${2:+-k "$2"}
