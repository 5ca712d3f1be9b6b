"""A candidate's cost on the board, from a real build: the generated C compiled with
arm-none-eabi-gcc for the QEMU machine of the board's core and run once there.

- **flash**: the model's own symbols (kernels, model function, weights, requantization
  tables) in the linked image (``--gc-sections``), as ``arm-none-eabi-nm`` sizes them: what
  ``edgecraft emulate`` reports as the model's flash;
- **RAM**: the model's static RAM in that image (the planned arena with kernel scratch, and any
  other data of its objects) plus the painted stack's high-water mark of one inference plus
  any input and output buffers outside the arena (none: the caller fills the input and reads
  the output in place): what ``edgecraft build`` itemizes;
- **latency and energy**: the instructions of that inference counted by class on the emulated
  core and priced by the cycle model (:func:`edgecraft.targets.profile` with ``classes``).

Measurements are cached on disk by the model's hash (the .tflite bytes) and the board, so a
resumed search, a repeated benchmark or a model measured twice does not build again. Boards
without an emulated core (or without the toolchain) fall back to ``profile``'s estimates with
:data:`STACK_RESERVE` for the stack, and ``basis`` says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: stack counted when it cannot be measured (no emulated core or no toolchain)
STACK_RESERVE = 1024
#: bump when what is measured changes, so old cache entries are not reused
VERSION = 1


def model_hash(graph: Any) -> str:
    """sha256 of the graph's .tflite bytes (structure, quantization and weights)."""
    from edgecraft.formats import write_tflite

    return hashlib.sha256(write_tflite(graph)).hexdigest()


def board_costs(graph: Any, board: str, cache: Path | None = None) -> dict[str, Any]:
    """``ram_bytes``, ``flash_bytes``, ``stack_bytes``, ``latency_ms``, ``energy_uj``,
    ``fits``, ``capacity`` and ``basis`` of ``graph`` on ``board``; ``cache``: a directory
    of earlier measurements keyed by model hash and board."""
    path = None
    if cache is not None:
        path = cache / f"{model_hash(graph)}-{board}-v{VERSION}.json"
        if path.is_file():
            cached: dict[str, Any] = json.loads(path.read_text())
            return cached
    costs = _measure(graph, board)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(costs, indent=1))
        tmp.replace(path)  # atomic: parallel trials may measure the same model
    return costs


def _measure(graph: Any, board: str) -> dict[str, Any]:
    from edgecraft.codegen import generate
    from edgecraft.emulate import EmulateError, emulate_generated, machine
    from edgecraft.targets import get_board, profile
    from edgecraft.targets.cycles import core_model, has_cycle_model

    b = get_board(board)
    m = machine(core_model(b.core).machine) if has_cycle_model(b) else None
    why = _cannot_build(b, m)
    if m is not None and why is None:
        gen = generate(graph, "model", dsp=b.dsp and m.dsp, mve=b.dsp and b.mve and m.mve)
        zeros = [np.zeros((1, *t.shape), t.np_dtype) for t in gen.inputs]
        try:
            with tempfile.TemporaryDirectory(prefix="edgecraft-search-") as tmp:
                run = emulate_generated(gen, m, zeros, Path(tmp))
        except EmulateError as e:
            why = f"the build or run on {m.slug} failed: {str(e).splitlines()[0][:200]}"
        else:
            p = profile(graph, b, runtime="edgecraft", classes=run.classes, stack_bytes=run.stack_bytes)
            io = int(p["parts"]["ram"]["io_buffers"])
            ram = run.ram_bytes + run.stack_bytes + io
            return _result(
                b,
                ram,
                run.flash_bytes,
                run.stack_bytes,
                p,
                f"built with arm-none-eabi-gcc for {m.slug} ({m.core}) and run once: flash and static "
                "RAM of the model's symbols in the linked image, painted stack, instruction counts "
                "priced by the cycle model",
            )
    p = profile(graph, b, runtime="edgecraft", stack_bytes=STACK_RESERVE, stack_from="search's stack reserve")
    return _result(
        b,
        int(p["ram_bytes"]),
        int(p["flash_bytes"]),
        STACK_RESERVE,
        p,
        f"estimated ({why}): planned RAM, {STACK_RESERVE} B stack reserve, size and cost models",
    )


def _cannot_build(b: Any, m: Any) -> str | None:
    if m is None:
        return f"no emulated machine for {b.core}"
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        return "arm-none-eabi-gcc and qemu-system-arm are needed"
    return None


def _result(b: Any, ram: int, flash: int, stack: int, p: dict[str, Any], basis: str) -> dict[str, Any]:
    return {
        "ram_bytes": int(ram),
        "flash_bytes": int(flash),
        "stack_bytes": int(stack),
        "latency_ms": float(p["latency_ms"]),
        "energy_uj": None if p["energy_uj"] is None else float(p["energy_uj"]),  # no power figures
        "fits": ram <= b.sram_bytes and flash <= b.flash_bytes,
        "capacity": {"ram_bytes": b.sram_bytes, "flash_bytes": b.flash_bytes},
        "basis": basis,
    }
