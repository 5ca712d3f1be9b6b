"""Honest RAM on the emulator: the DSP kernels keep their buffers in planned arena scratch, not
on the stack, so the painted-stack peak of a DSP build stays near the portable one."""

from __future__ import annotations

import pytest

from codegen.cases import random_inputs
from edgecraft.emulate import emulate
from edgecraft.models.synthetic import small_cnn
from edgecraft.plan import plan_memory

pytestmark = [
    pytest.mark.slow,  # tests/conftest.py runs slow modules first
    pytest.mark.toolchain,
]


def test_dsp_scratch_lives_in_the_arena_not_on_the_stack() -> None:
    graph = small_cnn(seed=2)
    batches = random_inputs(graph, 1, seed=3)
    portable = emulate(graph, "qemu-m4", batches, dsp=False, name="cnn")
    dsp = emulate(graph, "qemu-m4", batches, dsp=True, name="cnn")
    assert dsp.arena_bytes == plan_memory(graph, kernels="dsp").arena_bytes > portable.arena_bytes
    # the DSP convolution used to keep ~3.5 KB of patches on the stack
    assert dsp.stack_bytes < portable.stack_bytes + 512


PARTS = ("arena", "scratch", "persistent", "stack", "io_buffers")


def _check_itemized(data: dict) -> dict:  # type: ignore[type-arg]
    ram = data["ram"]
    assert ram["total"] == sum(ram[k] for k in PARTS) == data["ram_bytes"]
    return ram  # type: ignore[no-any-return]


def test_build_emulate_and_profile_report_every_part_of_ram(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from edgecraft.cli.build_cmd import build_project
    from edgecraft.cli.emulate_cmd import emulate_model
    from edgecraft.formats import write_tflite
    from edgecraft.targets import profile

    graph = small_cnn(seed=2)
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(graph))
    io = 0  # inputs and outputs in place in the arena: the harness keeps no buffers
    arena = plan_memory(graph, kernels="dsp").arena_bytes

    built = _check_itemized(build_project(model, "qemu-m4", tmp_path / "out", "cnn", None, "overlap"))
    assert (built["arena"], built["scratch"], built["io_buffers"]) == (arena, 0, io)
    assert 0 < built["stack"] < 2048 and built["basis"]["stack"].startswith("measured")

    np.save(tmp_path / "x.npy", np.zeros(graph.input_tensors()[0].shape, np.int8))
    emulated = emulate_model(model, "qemu-m4", [tmp_path / "x.npy"], None, None, verify=False)
    ram = _check_itemized(emulated)
    assert ram["stack"] == emulated["stack_bytes"] == built["stack"]  # same code, same stack
    assert (ram["arena"], ram["persistent"], ram["io_buffers"]) == (arena, built["persistent"], io)

    profiled = _check_itemized(profile(graph, "qemu-m4", runtime="edgecraft", stack_bytes=ram["stack"]))
    assert {k: profiled[k] for k in PARTS} == {k: ram[k] for k in PARTS}
