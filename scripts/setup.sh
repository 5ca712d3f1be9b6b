#!/usr/bin/env bash
# Set up everything edgecraft needs on a Debian machine, from nothing but the clone:
# Debian packages (Cortex-M toolchain, QEMU, mosquitto, PostgreSQL, Chromium, espeak-ng, sox) when
# missing, a virtual environment in .venv, and the pinned Python packages (constraints.txt);
# Flower in .venv-flower (constraints-flower.txt).
# Idempotent: a second run only checks. Runs as root, or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc g++ cmake gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm mosquitto
              postgresql chromium espeak-ng sox)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The PostgreSQL package starts a system cluster; edgecraft's tests start their own.

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
# --no-compile: pip would byte-compile all ~35,000 installed modules (about 100 CPU seconds);
# Python compiles the few thousand that are ever imported on first use instead.
PIP_INSTALL=(install -q --no-compile)
stamp=.venv/.edgecraft-installed
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
fstamp=.venv-flower/.edgecraft-installed
fwant="$(sha256sum < constraints-flower.txt | cut -c1-16)"
need_main=0; need_flower=0
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || need_main=1
[ -f "$fstamp" ] && [ "$(cat "$fstamp")" = "$fwant" ] || need_flower=1
# Room on the disk first: a full disk stops pip halfway ("No space left on device") and leaves
# a broken environment behind. .venv takes about 3.3 GB, .venv-flower 1.7 GB, pip's unpacking
# about 0.5 GB more in the temporary folder.
need_mb=$(( need_main * 3400 + need_flower * 1700 ))
if [ "$need_mb" -gt 0 ]; then
  need_mb=$(( need_mb + 500 ))
  free_mb=$(df -Pm . | awk 'NR == 2 {print $4}')
  if [ -n "$free_mb" ] && [ "$free_mb" -lt "$need_mb" ]; then
    echo "setup: error: $free_mb MB free on the disk holding $PWD, the Python packages need about" \
         "$need_mb MB: free some space (other clones' .venv folders are the usual culprits) and run again" >&2
    exit 1
  fi
fi
if [ "$need_main" = 1 ]; then
  echo "setup: installing pinned Python packages (first run: a few minutes)"
  .venv/bin/pip "${PIP_INSTALL[@]}" --upgrade pip
  # torch first, pinned: an unpinned resolve would pull a CUDA build.
  .venv/bin/pip "${PIP_INSTALL[@]}" -c constraints.txt torch==2.13.0
fi
# Flower (federated learning, `edgecraft fl`) in its own environment: flwr 1.42 pins protobuf,
# typer, rich and fastapi below constraints.txt, so it cannot share .venv; edgecraft drives its
# processes. It installs in the background while .venv gets the rest (after torch, so a cold
# pip cache downloads the torch wheel once).
flower_pid=""
if [ ! -x .venv-flower/bin/python ]; then
  echo "setup: creating .venv-flower"
  "$PY" -m venv .venv-flower
fi
if [ "$need_flower" = 1 ]; then
  echo "setup: installing Flower into .venv-flower"
  (
    .venv-flower/bin/pip "${PIP_INSTALL[@]}" --upgrade pip
    .venv-flower/bin/pip "${PIP_INSTALL[@]}" -c constraints-flower.txt torch==2.13.0
    .venv-flower/bin/pip "${PIP_INSTALL[@]}" -c constraints-flower.txt "flwr[simulation,dp]==1.42.0" numpy
    echo "$fwant" > "$fstamp"
  ) &
  flower_pid=$!
  trap '[ -z "$flower_pid" ] || kill "$flower_pid" 2>/dev/null || true' EXIT
fi
if [ "$need_main" = 1 ]; then
  .venv/bin/pip "${PIP_INSTALL[@]}" -c constraints.txt -e ".[dev,optimize,fleet,onnx,search]"
  echo "$want" > "$stamp"
fi
if [ -n "$flower_pid" ]; then
  pid=$flower_pid; flower_pid=""
  wait "$pid" || { echo "setup: error: installing Flower into .venv-flower failed (see above)" >&2; exit 1; }
fi
echo "setup: ready (.venv/bin/edgecraft, .venv-flower for edgecraft fl)"
