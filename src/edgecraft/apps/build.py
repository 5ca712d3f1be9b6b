"""The C project for the application's board: the int8 model's generated C, the front end's C
twin, the device loop's windows and post-processing (``ec_stream.h``) and the feature scaling,
with flash and RAM measured by arm-none-eabi-gcc when the board has an Arm core and the
toolchain is installed."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any

from edgecraft.apps.features import Scaling
from edgecraft.apps.spec import SpecError
from edgecraft.dsp.presets import Preset
from edgecraft.ir.graph import Graph


def build_c(
    graph: Graph, name: str, board_slug: str, out: Path, cfg: Preset | None, scaling: Scaling | None,
    loop: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Write the project into ``out``; returns its files and the model's flash and RAM. An image
    front end is sized and quantized for the model's input (as the device loop runs it);
    ``loop``: more C files (sine's and person's loops, :func:`edgecraft.apps.firmware.project_loop`)."""
    from edgecraft.codegen import generate
    from edgecraft.codegen.project import write_project
    from edgecraft.emulate.firmware import EmulateError, object_sizes
    from edgecraft.emulate.machines import CORE_FLAGS
    from edgecraft.targets import UnknownBoardError, get_board

    try:
        board = get_board(board_slug)
    except UnknownBoardError as e:
        raise SpecError(f"target.board: {e}") from None
    gen = generate(graph, name, dsp=board.dsp)
    files = dict(gen.files)
    if cfg is not None:
        from edgecraft.dsp import c_sources
        from edgecraft.dsp.image import ImagePreprocess

        if isinstance(cfg, ImagePreprocess):
            cfg = cfg.for_input(graph.input_tensors()[0])
        files.update(c_sources(cfg, name))
    if scaling is not None:
        files["app_scaling.h"] = scaling.c_header()
    if cfg is not None:  # the device loop's windows and post-processing (device/c/ec_stream.h)
        from edgecraft.device.firmware import loop_sources

        files.update(loop_sources())
    files.update(loop or {})
    cflags = CORE_FLAGS.get(board.core)
    written = write_project(
        dataclasses.replace(gen, files=files), out, board.name, board.core, " ".join(cflags or ())
    )
    flash = sum(t.nbytes for t in graph.tensors if t.data is not None)
    ram, how = gen.arena_bytes, "estimate: constant tensors and the arena only"
    if cflags is not None and shutil.which("arm-none-eabi-gcc"):
        with tempfile.TemporaryDirectory(prefix="edgecraft-app-") as tmp:
            try:
                flash, ram = object_sizes(gen, cflags, Path(tmp))
            except EmulateError as e:
                raise RuntimeError(f"the generated code does not compile for {board.core}: {e}") from None
        how = f"arm-none-eabi-size of the model's objects (-O2, {' '.join(cflags)})"
    return {
        "out": str(out),
        "board": board.slug,
        "core": board.core,
        "files": written,
        "flash_bytes": flash,
        "ram_bytes": ram,
        "arena_bytes": gen.arena_bytes,
        "sizes_from": how,
        "entry_point": f"{gen.name}_invoke",
    }
