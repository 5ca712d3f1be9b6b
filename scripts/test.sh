#!/usr/bin/env bash
# Set up, then run the checks CI runs: ruff, mypy, and the whole test suite (two workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LITERT_TORCH_SHOW_PROGRESS=n
echo "== ruff"; .venv/bin/ruff check src tests benchmarks
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
exec .venv/bin/pytest -n "${EDGECRAFT_TEST_WORKERS:-2}" --timeout 600 -q "$@"
