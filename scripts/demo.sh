#!/usr/bin/env bash
# Set everything up, then run the end-to-end demo (scripts/demo.py): train, quantize, inspect,
# run, plan, profile, build, emulate on QEMU, and verify against TFLM.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OPENBLAS_NUM_THREADS=1 LITERT_TORCH_SHOW_PROGRESS=n
exec .venv/bin/python scripts/demo.py "$@"
