"""Measure the flash of every C kernel file and write ``targets/kernel_code_bytes.json``.

Each file under ``codegen/kernels/`` is compiled on its own for a Cortex-M4F (the Helium
``*_mve.c`` files for a Cortex-M55) with the flags the
emulator builds with (-O2, function and data sections, -Wall -Wextra -Werror), and its size is
``text + data`` as ``arm-none-eabi-size`` reports it. ``edgecraft profile`` adds the sizes of
the files an op's record names (``OpDef.code``) to estimate a model's code.

    python scripts/measure_kernel_sizes.py           # re-measure and rewrite the data file
    python scripts/measure_kernel_sizes.py --check   # exit 1 if the data file is out of date

Run it after changing a kernel; tests/codegen/test_kernel_sizes.py runs ``--check``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from edgecraft.emulate.firmware import CC, OPT, WARNINGS, require_tool
from edgecraft.emulate.machines import CORE_FLAGS

CORE = "cortex-m4f"
#: The Helium kernels (``*_mve.c``) are measured where they run: on a Cortex-M55.
MVE_CORE = "cortex-m55"
DATA = Path(str(resources.files("edgecraft.targets").joinpath("kernel_code_bytes.json")))


def compiler_version() -> str:
    """The first line of ``arm-none-eabi-gcc --version``."""
    out = subprocess.run([require_tool(CC), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[0].strip()


def measure() -> dict[str, object]:
    """The data file's contents, freshly measured."""
    kernels = resources.files("edgecraft.codegen").joinpath("kernels")
    cflags = [*CORE_FLAGS[CORE], *WARNINGS, *OPT]
    mve_cflags = [*CORE_FLAGS[MVE_CORE], *WARNINGS, *OPT]
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="edgecraft-kernel-sizes-") as tmp:
        work = Path(tmp)
        for entry in sorted(kernels.iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".c", ".h")):
                (work / entry.name).write_text(entry.read_text())
        for src in sorted(work.glob("*.c")):
            obj = src.with_suffix(".o")
            flags = mve_cflags if src.stem.endswith("_mve") else cflags
            subprocess.run([CC, *flags, "-c", src.name, "-o", obj.name], cwd=work, check=True)
            out = subprocess.run(["arm-none-eabi-size", obj.name], cwd=work, capture_output=True,
                                 text=True, check=True).stdout.splitlines()
            text, data = (int(v) for v in out[1].split()[:2])
            sizes[src.name] = text + data
    return {
        "about": "Flash (text + data bytes) of each C kernel file, compiled alone; "
                 "written by scripts/measure_kernel_sizes.py",
        "compiler": compiler_version(),
        "cflags": cflags,
        "mve_cflags": mve_cflags,
        "bytes": sizes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the data file, write nothing")
    args = parser.parse_args()
    fresh = measure()
    if not args.check:
        DATA.write_text(json.dumps(fresh, indent=2) + "\n")
        print(f"wrote {DATA}")
        return 0
    stored = json.loads(DATA.read_text())
    if stored.get("compiler") != fresh["compiler"]:
        print(f"skipped: measured with {stored.get('compiler')!r}, this is {fresh['compiler']!r}")
        return 0
    if stored != fresh:
        old, new = stored.get("bytes", {}), fresh["bytes"]
        assert isinstance(new, dict)
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        for name in changed:
            print(f"{name}: data file {old.get(name)}, measured {new.get(name)}")
        print("out of date: run python scripts/measure_kernel_sizes.py")
        return 1
    print("kernel_code_bytes.json is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
