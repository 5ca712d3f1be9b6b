"""QEMU's emulated Cortex-M machines, as data: memory map, core, compiler flags.

Memory maps are QEMU 7.2's (``info mtree`` on each machine; hw/arm/mps2.c, mps2-tz.c,
nrf51_soc.c). "Flash" is where code and constants are linked, "RAM" where .data, .bss and the
stack go. On the mps2/mps3 boards both are RAM blocks in QEMU; the sizes are those blocks'.
The TrustZone boards (AN505, AN547) boot in the secure state, so the secure aliases are used.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class Machine:
    """One QEMU machine and how to build for its core."""

    slug: str
    qemu_machine: str
    core: str
    cflags: tuple[str, ...]
    dsp: bool  # the core has the Armv7E-M DSP instructions (SMLAD, SXTB16, ...)
    flash_origin: int
    flash_size: int
    ram_origin: int
    ram_size: int
    stack_size: int
    note: str
    const_origin: int = 0  # where constants (.rodata, .data's load image) go when not in flash
    const_size: int = 0  # 0: constants in flash with the code

    @property
    def mve(self) -> bool:
        """The core has Helium (Armv8.1-M MVE): the ``mve`` kernels are built for it."""
        return self.core in MVE_CORES


_HARD_FP = "-mfloat-abi=hard"

#: Cores with Helium (Armv8.1-M MVE) vector instructions.
MVE_CORES: tuple[str, ...] = ("cortex-m55", "cortex-m85")

MACHINES: dict[str, Machine] = {
    m.slug: m
    for m in (
        Machine("qemu-m0", "microbit", "cortex-m0", ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
                False, 0x00000000, 256 * KIB, 0x20000000, 16 * KIB, 2 * KIB,
                "BBC micro:bit (nRF51822): 256 KiB flash, 16 KiB SRAM"),
        Machine("qemu-m3", "mps2-an385", "cortex-m3", ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
                False, 0x00000000, 4 * MIB, 0x20000000, 4 * MIB, 8 * KIB,
                "MPS2 AN385: ZBT SSRAM1 4 MiB (code), SSRAM2/3 4 MiB (data)"),
        Machine("qemu-m4", "mps2-an386", "cortex-m4",
                ("-mcpu=cortex-m4", "-mthumb", _HARD_FP, "-mfpu=fpv4-sp-d16"),
                True, 0x00000000, 4 * MIB, 0x20000000, 4 * MIB, 8 * KIB,
                "MPS2 AN386: ZBT SSRAM1 4 MiB (code), SSRAM2/3 4 MiB (data)"),
        Machine("qemu-m7", "mps2-an500", "cortex-m7",
                ("-mcpu=cortex-m7", "-mthumb", _HARD_FP, "-mfpu=fpv5-d16"),
                True, 0x00000000, 4 * MIB, 0x20000000, 4 * MIB, 8 * KIB,
                "MPS2 AN500: ZBT SSRAM1 4 MiB (code), SSRAM2/3 4 MiB (data)"),
        Machine("qemu-m33", "mps2-an505", "cortex-m33",
                ("-mcpu=cortex-m33", "-mthumb", _HARD_FP, "-mfpu=fpv5-sp-d16"),
                True, 0x10000000, 4 * MIB, 0x38000000, 2 * MIB, 8 * KIB,
                "MPS2 AN505 (SSE-200): SSRAM1 4 MiB secure alias (code), SSRAM2 2 MiB secure alias (data)"),
        Machine("qemu-m55", "mps3-an547", "cortex-m55", ("-mcpu=cortex-m55", "-mthumb", _HARD_FP),
                True, 0x10000000, 512 * KIB, 0x31000000, 4 * MIB, 8 * KIB,
                "MPS3 AN547 (SSE-300): ITCM 512 KiB secure alias (code and vectors: the core boots from "
                "0x10000000), FPGA SRAM 2 MiB secure alias (constants), ISRAM0+1 4 MiB secure alias (data)",
                0x11000000, 2 * MIB),
    )
}


class UnknownMachineError(ValueError):
    """The target is not one of the emulated machines."""


def machine(slug: str) -> Machine:
    """The machine for a ``qemu-*`` board slug; the error lists the valid ones."""
    try:
        return MACHINES[slug]
    except KeyError:
        raise UnknownMachineError(
            f"no emulated machine for target {slug!r}; choose one of: {', '.join(MACHINES)}"
        ) from None


#: arm-none-eabi-gcc flags per core name of the board catalog (``targets/boards.json``).
CORE_FLAGS: dict[str, tuple[str, ...]] = {
    "cortex-m0": ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m0plus": ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m3": ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m4": ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m4f": ("-mcpu=cortex-m4", "-mthumb", _HARD_FP, "-mfpu=fpv4-sp-d16"),
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", _HARD_FP, "-mfpu=fpv5-d16"),
    "cortex-m33": ("-mcpu=cortex-m33", "-mthumb", _HARD_FP, "-mfpu=fpv5-sp-d16"),
    "cortex-m55": ("-mcpu=cortex-m55", "-mthumb", _HARD_FP),
}
