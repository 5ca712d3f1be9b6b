"""Run a firmware image on ``qemu-system-arm`` with semihosting and our instruction counter.

The counter is a TCG plugin of our own (``plugin/ec_insn_count.c``), compiled with the host's
gcc on first use and cached under ``$EDGECRAFT_CACHE`` or ``~/.cache/edgecraft`` (never in the
source tree). It counts every executed instruction and records the count at the two marker
functions the harness calls around the first inference.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edgecraft.emulate.firmware import NM, EmulateError, require_tool
from edgecraft.emulate.machines import Machine

QEMU = "qemu-system-arm"
PLUGIN_SOURCE = "ec_insn_count.c"


@dataclass(frozen=True)
class QemuRun:
    """What one QEMU run reported."""

    instructions: int  # executed from the start marker to the stop marker (the first inference)
    total_instructions: int  # everything the core executed, reset to exit
    stack_bytes: int
    stdout: str
    op_counts: list[int]  # instruction count at each per-operator hook (profiled builds only)


def cache_dir() -> Path:
    """Where built artifacts are cached: ``$EDGECRAFT_CACHE`` or ``~/.cache/edgecraft``."""
    root = os.environ.get("EDGECRAFT_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "edgecraft"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: fall back to a private temp dir
        path = Path(tempfile.gettempdir()) / f"edgecraft-cache-{os.getuid()}"
        path.mkdir(parents=True, exist_ok=True)
    return path


def plugin_path() -> Path:
    """The instruction-counting plugin, built with ``gcc -shared -fPIC`` if not cached yet."""
    source = resources.files("edgecraft.emulate").joinpath("plugin", PLUGIN_SOURCE).read_text()
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    target = cache_dir() / f"ec_insn_count-{digest}.so"
    if target.exists():
        return target
    require_tool("gcc")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / PLUGIN_SOURCE
        src.write_text(source)
        built = Path(tmp) / "plugin.so"
        proc = subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", str(src),
                               "-o", str(built)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise EmulateError(f"building the QEMU plugin failed: {proc.stderr.strip()[:2000]}")
        os.replace(built, target)  # atomic: parallel first uses do not see a half-written file
    return target


def symbol_address(elf: Path, symbol: str) -> int:
    """Address of a function symbol (the Thumb bit cleared)."""
    proc = subprocess.run([require_tool(NM), str(elf)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == symbol:
            return int(parts[0], 16) & ~1
    raise EmulateError(f"symbol {symbol} not found in {elf}")


def run_qemu(elf: Path, m: Machine, workdir: Path, timeout_s: float = 300.0,
             profile: bool = False) -> QemuRun:
    """Run ``elf`` on machine ``m`` with ``workdir`` as the semihosting directory (it holds
    ``input.bin`` and receives ``output.bin``)."""
    require_tool(QEMU)
    counts = workdir / "counts.txt"
    counts.unlink(missing_ok=True)
    start, stop = symbol_address(elf, "ec_marker_start"), symbol_address(elf, "ec_marker_stop")
    plugin = f"{plugin_path()},start={start:#x},stop={stop:#x},out={counts}"
    if profile:
        plugin += f",op={symbol_address(elf, 'ec_marker_op'):#x}"
    cmd = [QEMU, "-M", m.qemu_machine, "-nographic", "-monitor", "none", "-serial", "none",
           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf), "-plugin", plugin]
    try:
        proc = subprocess.run(cmd, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise EmulateError(f"QEMU ({m.qemu_machine}) did not finish within {timeout_s:.0f} s") from None
    out = proc.stdout + proc.stderr
    done = re.search(r"edgecraft: done (\d+)", out)
    if proc.returncode != 0 or not done:
        tail = " ".join(out.strip().splitlines()[-3:]) or "no output"
        raise EmulateError(
            f"the program failed on {m.slug} ({m.qemu_machine}), exit {proc.returncode}: {tail}")
    stack = re.search(r"edgecraft: stack (\d+)", out)
    lines = [line.split() for line in counts.read_text().splitlines()] if counts.exists() else []
    fields = {k: v for k, v in lines if k != "op"}
    if fields.get("stopped") != "1":
        raise EmulateError("the instruction counter did not see the inference markers")
    return QemuRun(int(fields["stop"]) - int(fields["start"]), int(fields["total"]),
                   int(stack.group(1)) if stack else 0, out, [int(v) for k, v in lines if k == "op"])
