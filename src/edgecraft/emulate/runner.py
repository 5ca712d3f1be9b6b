"""``emulate``: generate C for a graph, build it for one QEMU machine, run inputs through it.

One QEMU run handles a whole batch of inputs (the harness loops over them); the instruction
count and stack are those of the first inference.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.emit import GeneratedModel
from edgecraft.emulate.firmware import EmulateError, build_firmware
from edgecraft.emulate.machines import Machine, machine
from edgecraft.emulate.qemu import class_difference, run_qemu
from edgecraft.ir.graph import Graph
from edgecraft.plan import DEFAULT_ALGORITHM, PROFILE_ALGORITHM


@dataclass
class EmulationResult:
    """Outputs and measurements of a model on one emulated machine."""

    target: str
    machine: str
    core: str
    dsp: bool
    outputs: list[np.ndarray]  # one (n, *shape) array per model output
    instructions: int  # executed by one inference (the first input)
    flash_bytes: int  # model part: code + constants + initialized data
    ram_bytes: int  # model part: static RAM (the arena and any initialized data)
    stack_bytes: int  # peak stack of one inference (painted stack)
    arena_bytes: int
    image_flash_bytes: int  # the whole image, harness and runtime included
    image_ram_bytes: int
    total_instructions: int
    elf: Path | None  # kept only when the caller gave a work directory
    #: instructions of each step of the plan order (profiled runs only, else empty)
    op_instructions: list[int] = field(default_factory=list)
    #: executed instructions of one inference per class (``edgecraft.targets.cycles`` prices them)
    classes: dict[str, int] = field(default_factory=dict)
    #: the same per step of the plan order (profiled runs only)
    op_classes: list[dict[str, int]] = field(default_factory=list)


def _input_file(model: GeneratedModel, batches: Sequence[np.ndarray]) -> tuple[int, bytes]:
    if len(batches) != len(model.inputs):
        raise EmulateError(f"the model takes {len(model.inputs)} input(s), got {len(batches)}")
    n = len(batches[0])
    arrays = []
    for x, t in zip(batches, model.inputs, strict=True):
        x = np.ascontiguousarray(x)
        if x.shape != (n, *t.shape) or x.dtype != t.np_dtype:
            raise EmulateError(f"input '{t.name}' must be a batch of shape {[n, *t.shape]} and dtype "
                               f"{t.dtype}, got {list(x.shape)} {x.dtype}")
        arrays.append(x)
    body = b"".join(a[k].tobytes() for k in range(n) for a in arrays)
    return n, struct.pack("<I", n) + body


def _read_outputs(model: GeneratedModel, raw: bytes, n: int) -> list[np.ndarray]:
    per_sample = sum(t.nbytes for t in model.outputs)
    if len(raw) != n * per_sample:
        raise EmulateError(f"the program wrote {len(raw)} output bytes, expected {n * per_sample}")
    outs = [np.zeros((n, *t.shape), t.np_dtype) for t in model.outputs]
    pos = 0
    for k in range(n):
        for i, t in enumerate(model.outputs):
            outs[i][k] = np.frombuffer(raw[pos:pos + t.nbytes], t.np_dtype).reshape(t.shape)
            pos += t.nbytes
    return outs


def emulate_generated(model: GeneratedModel, m: Machine, batches: Sequence[np.ndarray],
                      workdir: Path | None = None, timeout_s: float = 300.0,
                      per_op: bool = False) -> EmulationResult:
    """Build an already generated model for ``m`` and run the input batches on QEMU; ``per_op``
    also counts the instructions of each operator (a hook call before each one). Without a
    ``workdir`` the build happens in a temporary directory that is removed afterwards."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"edgecraft-{m.slug}-") as tmp:
            result = emulate_generated(model, m, batches, Path(tmp), timeout_s, per_op)
        result.elf = None
        return result
    work = Path(workdir)
    n, blob = _input_file(model, batches)
    if n < 1:
        raise EmulateError("give at least one input")
    fw = build_firmware(model, m, work, profile=per_op)
    (work / "input.bin").write_bytes(blob)
    (work / "output.bin").unlink(missing_ok=True)
    run = run_qemu(fw.elf, m, work, timeout_s, profile=per_op)
    steps = [b - a for a, b in zip(run.op_counts, run.op_counts[1:], strict=False)]
    step_classes = [class_difference(b, a) for a, b in zip(run.op_class_counts, run.op_class_counts[1:],
                                                           strict=False)]
    outputs = _read_outputs(model, (work / "output.bin").read_bytes(), n)
    return EmulationResult(m.slug, m.qemu_machine, m.core, model.dsp, outputs, run.instructions,
                           fw.flash_bytes, fw.ram_bytes, run.stack_bytes, model.arena_bytes,
                           fw.image_flash_bytes, fw.image_ram_bytes, run.total_instructions, fw.elf, steps,
                           run.class_counts, step_classes)


def emulate(graph: Graph, target: str, batches: Sequence[np.ndarray], name: str = "model",
            dsp: bool | None = None, workdir: Path | None = None, per_op: bool = False,
            mve: bool | None = None) -> EmulationResult:
    """Run ``graph`` on the emulated ``target`` (``qemu-m4``, ...). ``batches``: one
    (n, *shape) array per model input. ``dsp`` and ``mve`` (Helium kernels) default to what
    the core has; ``mve`` needs ``dsp`` (the ops without an MVE kernel take their DSP one)."""
    m = machine(target)
    use_dsp = m.dsp if dsp is None else dsp
    if use_dsp and not m.dsp:
        raise EmulateError(f"{target} ({m.core}) has no DSP instructions; build without --dsp")
    use_mve = (m.mve and use_dsp) if mve is None else mve
    if use_mve and not (m.mve and use_dsp):
        raise EmulateError(f"{target} ({m.core}) has no Helium (MVE) instructions; build without mve")
    # per-operator counts need each operator on its own: no patches (PROFILE_ALGORITHM)
    algorithm = PROFILE_ALGORITHM if per_op else DEFAULT_ALGORITHM
    return emulate_generated(generate(graph, name, dsp=use_dsp, mve=use_mve, algorithm=algorithm), m, batches,
                             workdir, per_op=per_op)
