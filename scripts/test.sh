#!/usr/bin/env bash
# Set up, then run the checks CI runs: ruff, mypy, and the whole test suite (two workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LITERT_TORCH_SHOW_PROGRESS=n
# set-up installs without byte-compiling (pip --no-compile): let the first import of each module
# write its .pyc, or every test subprocess would compile torch again.
unset PYTHONDONTWRITEBYTECODE
# Small matmuls: BLAS threads only fight the test workers for the two cores.
export OPENBLAS_NUM_THREADS=1
echo "== ruff"; .venv/bin/ruff check src tests benchmarks scripts
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
# loadgroup: tests marked with one xdist_group share a worker (and its trained module fixtures)
exec .venv/bin/pytest -n "${EDGECRAFT_TEST_WORKERS:-2}" --dist loadgroup --timeout 600 -q "$@"
