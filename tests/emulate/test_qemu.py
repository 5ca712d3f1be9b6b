"""Generated C cross-compiled with arm-none-eabi-gcc and run on QEMU's Cortex-M machines:
outputs equal TFLM's exactly, sizes, stack and instruction counts are reported, and a model
that does not fit a machine's memory gets a clear error. Few inputs per run (QEMU); the host
tests in tests/codegen cover many."""

from __future__ import annotations

import pytest

from codegen.cases import (
    check_against,
    ops_chain,
    ops_chain2,
    ops_chain3,
    ops_chain4,
    random_inputs,
    too_big_for_m0,
)
from edgecraft.emulate import MACHINES, DoesNotFitError, emulate
from edgecraft.formats import read_tflite
from edgecraft.models.synthetic import small_cnn, tiny_mlp
from edgecraft.reference import TflmRunner
from oracle import check_tensor, conformance_model

pytestmark = [
    pytest.mark.slow,  # tests/conftest.py runs slow modules first
    pytest.mark.toolchain,
]

#: Conformance model -> the machines it runs on here (qemu-m0 has 16 KiB of RAM and 256 KiB of
#: flash: only KWS fits, with the overlapping memory plan).
CONFORMANCE_TARGETS = {
    "kws_ref_model": ["qemu-m4", "qemu-m7", "qemu-m33", "qemu-m3", "qemu-m55", "qemu-m0"],
    "vww_96_int8": ["qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55"],
    "pretrainedResnet_quant": ["qemu-m4", "qemu-m7", "qemu-m33"],
    "ad01_int8": ["qemu-m4", "qemu-m7", "qemu-m33"],
}


@pytest.mark.parametrize("target", sorted(MACHINES))
def test_synthetic_cnn_is_exact_and_measured_on_every_machine(target: str) -> None:
    graph = small_cnn(seed=2)
    batches = random_inputs(graph, 2, seed=7)
    r = emulate(graph, target, batches, name="small_cnn")
    check_against(graph, r.outputs, batches, target)
    assert r.dsp == MACHINES[target].dsp
    assert r.instructions > 100_000  # ~1.2 M MACs
    assert r.ram_bytes >= r.arena_bytes > 0
    assert 1000 < r.flash_bytes < r.image_flash_bytes
    assert 0 < r.stack_bytes < MACHINES[target].stack_size


@pytest.mark.parametrize("build", [ops_chain, ops_chain2], ids=["chain", "chain2"])
def test_several_inputs_and_outputs_and_remaining_ops_on_m0_and_m4(build) -> None:  # type: ignore[no-untyped-def]
    graph = build(seed=1)
    batches = random_inputs(graph, 3, seed=8)
    for target in ("qemu-m0", "qemu-m4"):
        r = emulate(graph, target, batches, name="chain")
        check_against(graph, r.outputs, batches, target)


def test_converter_ops_on_m4() -> None:
    """PADV2, SLICE, SPLIT, PACK, UNPACK, SPLIT_V, SUM, BATCH_MATMUL, RSQRT, GATHER and
    SQUARED_DIFFERENCE in one firmware."""
    graph = ops_chain3(seed=2)
    batches = random_inputs(graph, 3, seed=9)
    r = emulate(graph, "qemu-m4", batches, name="chain3")
    check_against(graph, r.outputs, batches, "qemu-m4")


def test_elementwise_math_ops_on_m4() -> None:
    """ABS and ELU (int8, as tables) and LESS_EQUAL (bool output) in one firmware."""
    graph = ops_chain4(seed=3)
    batches = random_inputs(graph, 3, seed=10)
    r = emulate(graph, "qemu-m4", batches, name="chain4")
    check_against(graph, r.outputs, batches, "qemu-m4")


def test_instruction_count_is_exact_and_repeatable_on_m0() -> None:
    graph = tiny_mlp(seed=4)
    batches = random_inputs(graph, 3, seed=9)
    first = emulate(graph, "qemu-m0", batches, name="mlp")
    second = emulate(graph, "qemu-m0", [b[:1] for b in batches], name="mlp")
    check_against(graph, first.outputs, batches, "qemu-m0")
    assert first.instructions == second.instructions > 0
    # three inferences cost more than one, by about two inferences
    assert first.total_instructions - second.total_instructions >= 2 * first.instructions * 0.9


def test_model_too_large_for_the_machine_names_the_shortfall() -> None:
    graph = too_big_for_m0()  # two 16 KiB inputs cannot share 16 KiB of RAM
    with pytest.raises(DoesNotFitError, match=r"does not fit qemu-m0 .*RAM short by [\d,]+ bytes"):
        emulate(graph, "qemu-m0", random_inputs(graph, 1), name="big")


def test_portable_and_dsp_kernels_agree_and_dsp_is_cheaper_on_m4() -> None:
    graph = small_cnn(seed=6)
    batches = random_inputs(graph, 2, seed=10)
    portable = emulate(graph, "qemu-m4", batches, dsp=False, name="small_cnn")
    dsp = emulate(graph, "qemu-m4", batches, dsp=True, name="small_cnn")
    check_against(graph, portable.outputs, batches, "portable")
    check_against(graph, dsp.outputs, batches, "dsp")
    assert dsp.instructions < 0.7 * portable.instructions


@pytest.mark.conformance
@pytest.mark.parametrize("name", sorted(CONFORMANCE_TARGETS))
def test_conformance_model_bit_exact_on_emulated_boards(name: str) -> None:
    path = conformance_model(name)
    graph = read_tflite(path)
    batches = random_inputs(graph, 2, seed=11)
    tflm = TflmRunner(path.read_bytes())
    want = [tflm.run([x[b] for x in batches])[0] for b in range(2)]
    for target in CONFORMANCE_TARGETS[name]:
        r = emulate(graph, target, batches, name=name.split("_")[0])
        for b in range(2):
            check_tensor(r.outputs[0][b], want[b], f"{name} on {target} input {b}")
        assert r.instructions > 0 and r.flash_bytes > 0 and r.stack_bytes > 0


@pytest.mark.conformance
@pytest.mark.parametrize(("name", "region"), [("vww_96_int8", "RAM"), ("ad01_int8", "FLASH")])
def test_conformance_model_too_large_for_m0(name: str, region: str) -> None:
    graph = read_tflite(conformance_model(name))
    with pytest.raises(DoesNotFitError, match=f"does not fit qemu-m0 .*{region} short by"):
        emulate(graph, "qemu-m0", random_inputs(graph, 1), name=name.split("_")[0])
