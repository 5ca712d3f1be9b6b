"""Run generated C on QEMU's emulated Cortex-M machines: cross-compile, link per machine, run
with semihosting, count executed instructions exactly, read flash, RAM and stack.

``emulate(graph, "qemu-m4", batches)`` returns an :class:`EmulationResult`.
"""

from edgecraft.emulate.firmware import DoesNotFitError, EmulateError
from edgecraft.emulate.machines import MACHINES, Machine, UnknownMachineError, machine
from edgecraft.emulate.runner import EmulationResult, emulate, emulate_generated

__all__ = [
    "MACHINES",
    "DoesNotFitError",
    "EmulateError",
    "EmulationResult",
    "Machine",
    "UnknownMachineError",
    "emulate",
    "emulate_generated",
    "machine",
]
