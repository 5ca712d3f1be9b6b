"""Run a firmware image on ``qemu-system-arm`` with semihosting and our instruction counter.

The counter is a TCG plugin of our own (``plugin/ec_insn_count.c``), compiled with the host's
gcc on first use and cached under ``$EDGECRAFT_CACHE`` or ``~/.cache/edgecraft`` (never in the
source tree). It counts every executed instruction, per instruction class (load, store, multiply,
branch taken and not taken, ...; see the plugin's header), and records the counts at the two
marker functions the harness calls around the first inference. It also counts data accesses by
region (the machine's flash, where code and constants are linked, vs RAM) and simulates the small
caches in front of a real board's flash (``CACHES``), so that the cycle model can price wait states
from counted misses.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from edgecraft.emulate.firmware import NM, EmulateError, require_tool
from edgecraft.emulate.machines import Machine

QEMU = "qemu-system-arm"
PLUGIN_SOURCE = "ec_insn_count.c"
#: Cache geometry (lines x bytes, fully associative, LRU) the plugin simulates in front of flash:
#: data, then instruction. These are the ART accelerator's of the STM32L4+ (RM0432: data cache 8
#: lines and instruction cache 32 lines of 4 x 64 bits, flash read 64 bits at a time): the data
#: cache as its 32 double words (each a flash read, no prefetch on data), the instruction cache as
#: 32 lines of 32 bytes (the prefetch streams a line behind its first read). The reference board
#: of the cycle check; ``targets/cycles.json`` (``flash.counted_caches``) states the same.
CACHES = ("32x8", "32x32")


@dataclass(frozen=True)
class QemuRun:
    """What one QEMU run reported."""

    instructions: int  # executed from the start marker to the stop marker (the first inference)
    total_instructions: int  # everything the core executed, reset to exit
    stack_bytes: int
    stdout: str
    op_counts: list[int]  # instruction count at each per-operator hook (profiled builds only)
    #: executed instructions per class between the markers (``classes`` names them; ``total`` too)
    class_counts: dict[str, int] = field(default_factory=dict)
    #: the class counters at each per-operator hook (profiled builds only)
    op_class_counts: list[dict[str, int]] = field(default_factory=list)


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


def read_counts(text: str) -> tuple[dict[str, str], dict[str, int], dict[str, int], list[dict[str, int]]]:
    """The plugin's output file: (scalar fields, counters at start, at stop, at each hook)."""
    names: list[str] = []
    fields: dict[str, str] = {}
    marks: dict[str, dict[str, int]] = {}
    ops: list[dict[str, int]] = []
    for line in text.splitlines():
        key, *values = line.split()
        if key == "classes":
            names = values
        elif key in ("start", "stop", "op"):
            row = dict(zip(names, map(int, values), strict=True))
            if key == "op":
                ops.append(row)
            else:
                marks[key] = row
        elif values:
            fields[key] = values[0]
    return fields, marks.get("start", {}), marks.get("stop", {}), ops


def class_difference(later: dict[str, int], earlier: dict[str, int]) -> dict[str, int]:
    """Per-class counts executed between two snapshots of the counters."""
    return {k: later[k] - earlier.get(k, 0) for k in later}


def run_qemu(elf: Path, m: Machine, workdir: Path, timeout_s: float = 300.0,
             profile: bool = False, log: Path | None = None,
             caches: tuple[str, str] = CACHES) -> QemuRun:
    """Run ``elf`` on machine ``m`` with ``workdir`` as the semihosting directory (it holds
    ``input.bin`` and receives ``output.bin``). ``log``: also write each translated instruction
    with its class there (to check the classifier). ``caches``: the data and instruction cache
    geometry (``"<lines>x<bytes>"``) simulated in front of the machine's flash region."""
    require_tool(QEMU)
    counts = workdir / "counts.txt"
    counts.unlink(missing_ok=True)
    start, stop = symbol_address(elf, "ec_marker_start"), symbol_address(elf, "ec_marker_stop")
    plugin = (f"{plugin_path()},start={start:#x},stop={stop:#x},out={counts},"
              f"flash={m.flash_origin:#x}:{m.flash_origin + m.flash_size:#x},"
              f"dcache={caches[0]},icache={caches[1]}")
    if m.const_size:  # constants linked apart from the code: read-only memory all the same
        plugin += f",flash={m.const_origin:#x}:{m.const_origin + m.const_size:#x}"
    if profile:
        plugin += f",op={symbol_address(elf, 'ec_marker_op'):#x}"
    if log is not None:
        plugin += f",log={log}"
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
    fields, start_counts, stop_counts, ops = read_counts(counts.read_text() if counts.exists() else "")
    if fields.get("stopped") != "1":
        raise EmulateError("the instruction counter did not see the inference markers")
    classes = class_difference(stop_counts, start_counts)
    return QemuRun(classes["total"], int(fields["total"]), int(stack.group(1)) if stack else 0, out,
                   [o["total"] for o in ops], classes, ops)
