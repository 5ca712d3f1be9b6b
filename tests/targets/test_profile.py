"""profile(graph, board): RAM and flash by part, fit and margins, culprits, estimates."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import read_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.models.synthetic import small_cnn
from edgecraft.plan import plan_memory
from edgecraft.plan.accounting import multiplier_bytes, ram_parts
from edgecraft.targets import flash_parts, profile
from oracle import conformance_model

KEYS = {"ram_bytes", "flash_bytes", "arena_bytes", "macs", "latency_ms", "energy_uj", "fits", "board",
        "parts", "margins", "persistent_bytes", "culprits", "estimates"}


def test_profile_contract_and_parts_add_up():
    g = small_cnn()
    p = profile(g, "stm32l4r5-nucleo")
    assert set(p) >= KEYS
    assert p["fits"] and not p["culprits"]
    assert p["ram_bytes"] == sum(p["parts"]["ram"].values())
    assert p["flash_bytes"] == sum(p["parts"]["flash"].values())
    assert p["arena_bytes"] == plan_memory(g).arena_bytes == p["parts"]["ram"]["arena"]
    assert p["margins"]["ram_bytes"] == 640 * 1024 - p["ram_bytes"]
    assert p["parts"]["flash"]["weights"] == sum(t.nbytes for t in g.tensors if t.is_constant)
    assert p["latency_ms"] > 0 and p["estimates"]["latency_error_pct"] > 0


def test_per_channel_multipliers_are_eight_bytes_per_output_channel():
    g = small_cnn()
    # conv 16 + depthwise 16 + pointwise 16 + conv 32 channels, FC per-tensor or per-channel 10
    fc_w = next(g.tensors[op.inputs[1]] for op in g.operators if op.type == "FULLY_CONNECTED")
    fc = 8 * (len(fc_w.quant.scale) if fc_w.quant is not None else 1)
    assert multiplier_bytes(g) == 8 * (16 + 16 + 16 + 32) + fc
    parts = ram_parts(g, plan_memory(g))
    assert parts["io_buffers"] == 0
    assert parts["runtime_structs"] == 12 * len(g.tensors) + 48 * len(g.operators)


def test_a_model_too_big_for_ram_names_the_activations_at_the_peak():
    b = GraphBuilder("wide")
    q = qparams(0.1, 0)
    x = b.tensor("x", (1, 64, 64, 4), quant=q)
    y = b.tensor("big_activation", (1, 64, 64, 4), quant=q)
    b.op("RELU", [x], [y])
    z = b.tensor("z", (1, 64, 64, 4), quant=q)
    b.op("ADD", [x, y], [z], fused_activation_function="NONE")
    g = b.build([x], [z])
    p = profile(g, "qemu-m0")
    assert not p["fits"] and p["margins"]["ram_bytes"] < 0
    names = [c["name"] for c in p["culprits"]]
    assert {"x", "big_activation"} <= set(names) and all(c["kind"] == "activation" for c in p["culprits"])


def test_a_model_too_big_for_flash_names_the_weights():
    b = GraphBuilder("heavy")
    x = b.tensor("x", (1, 600), quant=qparams(0.1, 0))
    w = b.const("huge_weights", np.ones((600, 600), np.int8), qparams(0.01, 0))
    bias = b.const("bias", np.zeros(600, np.int32), qparams(0.001, 0))
    y = b.tensor("y", (1, 600), quant=qparams(0.1, 0))
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function="NONE")
    g = b.build([x], [y])
    assert flash_parts(g)["weights"] == 360_000 + 2400
    p = profile(g, "qemu-m0")
    assert not p["fits"] and p["margins"]["flash_bytes"] < 0
    assert p["culprits"][0] == {"kind": "weights", "name": "huge_weights", "bytes": 360_000}


@pytest.mark.conformance
def test_vww_fits_the_l4r5_but_not_the_microbit():
    g = read_tflite(conformance_model("vww_96_int8"))
    assert profile(g, "stm32l4r5-nucleo")["fits"]
    p = profile(g, "qemu-m0")
    assert not p["fits"] and p["culprits"][0]["kind"] == "activation" and p["culprits"][0]["bytes"] == 36_864
    assert p["macs"] == 7_491_972
    greedy = profile(g, "stm32l4r5-nucleo", algorithm="greedy")
    reorder = profile(g, "stm32l4r5-nucleo", algorithm="reorder")
    assert greedy["arena_bytes"] - reorder["arena_bytes"] == 73_728 - 55_296


def test_edgecraft_runtime_keeps_the_arena_in_ram_and_its_inputs_and_outputs_in_it():
    g = small_cnn()
    tflm, ours = profile(g, "qemu-m4"), profile(g, "qemu-m4", runtime="edgecraft")
    io = 0  # the caller fills the inputs and reads the outputs in the arena (<name>_input_buffer)
    # qemu-m4 runs the DSP kernels: their scratch is planned in the arena
    assert ours["arena_bytes"] == plan_memory(g, kernels="dsp").arena_bytes > tflm["arena_bytes"]
    assert ours["ram_bytes"] == ours["arena_bytes"] + io
    parts = ("arena", "scratch", "persistent", "stack", "io_buffers", "total")
    assert {k: ours["ram"][k] for k in parts} == {
        "arena": ours["arena_bytes"], "scratch": 0, "persistent": 0, "stack": 0, "io_buffers": io,
        "total": ours["ram_bytes"]}
    assert ours["ram"]["basis"]["stack"].startswith("not measured")
    assert tflm["ram"]["io_buffers"] == 0 and tflm["ram"]["persistent"] == tflm["persistent_bytes"]
    assert ours["persistent_bytes"] == 0 < tflm["persistent_bytes"]
    measured = profile(g, "qemu-m4", runtime="edgecraft", stack_bytes=500, stack_from="qemu-m4")
    assert measured["ram_bytes"] == ours["ram_bytes"] + 500 == sum(measured["parts"]["ram"].values())
    assert ours["parts"]["flash"]["quant_params"] == multiplier_bytes(g)  # the tables live in flash
    assert ours["flash_bytes"] < tflm["flash_bytes"]
    with pytest.raises(ValueError, match="choose one of: tflm, edgecraft"):
        profile(g, "qemu-m4", runtime="cmsis")


@pytest.mark.toolchain
def test_edgecraft_runtime_matches_the_built_firmware():
    from edgecraft.emulate.runner import emulate

    g = small_cnn()
    x = [np.zeros((1, *t.shape), t.np_dtype) for t in g.input_tensors()]
    r = emulate(g, "qemu-m4", x)
    p = profile(g, "qemu-m4", runtime="edgecraft")
    assert r.ram_bytes == p["ram"]["arena"]  # the ELF's static RAM is exactly the planned arena
    assert abs(p["flash_bytes"] / r.flash_bytes - 1) < 0.25


def test_float_models_are_flagged_in_the_estimate_basis():
    b = GraphBuilder("float")
    x, y = b.tensor("x", (1, 8), "float32"), b.tensor("y", (1, 8), "float32")
    b.op("RELU", [x], [y])
    p = profile(b.build([x], [y]), "pico")
    assert "computes in float" in p["estimates"]["basis"]
    assert "computes in float" not in profile(small_cnn(), "pico")["estimates"]["basis"]
