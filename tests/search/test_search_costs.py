"""What the search measures on the board before training, without Ray: flash, static RAM and
stack from a real arm-none-eabi-gcc build run once on QEMU (cached by model hash), and the 16x8
version of an int8 model (int16 activations), exact between the runtime and the C on QEMU."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.models.synthetic import ds_cnn
from edgecraft.plan.accounting import io_buffer_bytes
from edgecraft.runtime import Interpreter
from edgecraft.search import costs
from edgecraft.search.sixteen import model_16x8
from edgecraft.targets import profile

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="arm-none-eabi-gcc and qemu-system-arm are needed",
)


@needs_arm
def test_costs_come_from_a_real_build_and_are_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = ds_cnn(seed=1, blocks=1)
    got = costs.board_costs(graph, "nano33ble", tmp_path)
    run = emulate(graph, "qemu-m4", [np.zeros((1, *graph.input_tensors()[0].shape), np.int8)])
    # flash is the linked model's, not the size model's estimate; the stack is measured and in RAM
    assert (
        got["flash_bytes"]
        == run.flash_bytes
        != profile(graph, "nano33ble", runtime="edgecraft")["flash_bytes"]
    )
    assert got["stack_bytes"] == run.stack_bytes > 0
    assert got["ram_bytes"] == run.ram_bytes + run.stack_bytes + io_buffer_bytes(graph)
    assert got["fits"] and got["basis"].startswith("built with arm-none-eabi-gcc for qemu-m4")
    p = profile(graph, "nano33ble", runtime="edgecraft", classes=run.classes, stack_bytes=run.stack_bytes)
    assert got["latency_ms"] == p["latency_ms"] and got["energy_uj"] == p["energy_uj"]
    # the same model again: read from the cache, nothing built
    monkeypatch.setattr(costs, "_measure", lambda *a: pytest.fail("built again"))
    assert costs.board_costs(graph, "nano33ble", tmp_path) == got
    assert len(list(tmp_path.glob(f"{costs.model_hash(graph)}-nano33ble-*.json"))) == 1


def test_without_an_emulated_core_costs_are_estimates_with_a_stack_reserve() -> None:
    graph = ds_cnn(seed=1, blocks=1)
    got = costs.board_costs(graph, "esp32")
    p = profile(graph, "esp32", runtime="edgecraft", stack_bytes=costs.STACK_RESERVE)
    assert got["ram_bytes"] == p["ram_bytes"] and got["stack_bytes"] == costs.STACK_RESERVE
    assert got["basis"].startswith("estimated (no emulated machine for")


@pytest.mark.torch
@needs_arm
def test_16x8_model_is_closer_to_float_and_exact_on_qemu() -> None:
    torch = pytest.importorskip("torch")
    from edgecraft.apps.models import ds_cnn as net
    from edgecraft.optimize import quantize

    torch.manual_seed(0)
    model = net(20, 4, 8, 1, (4, 2)).eval()
    x = np.random.default_rng(0).normal(size=(48, 20, 10)).astype(np.float32)
    qm = quantize(model, x, report=False)
    q16 = model_16x8(qm)
    g = q16.graph
    acts = [t for t in g.tensors if not t.is_constant]
    assert {t.dtype for t in acts} == {"int16"} and all(int(t.quant.zero_point[0]) == 0 for t in acts)
    biases = [g.tensors[op.inputs[2]] for op in g.operators if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert biases and all(b.dtype == "int64" for b in biases)
    assert float(g.output_tensors()[0].scale) == pytest.approx(1 / 32768)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    err8, err16 = (float(np.abs(m.predict(x) - ref).max()) for m in (qm, q16))
    assert err16 < err8 / 3  # 256 times finer activations
    inputs = np.stack([q16.input_int8(s) for s in x[:3]])
    assert inputs.dtype == np.int16
    on_qemu = emulate(g, "qemu-m4", [inputs.reshape(3, *g.input_tensors()[0].shape)]).outputs[0]
    interp = Interpreter(g)
    assert np.array_equal(on_qemu, np.stack([interp.run([s])[0] for s in inputs]))
    assert qm.graph.input_tensors()[0].dtype == "int8"  # the int8 model is kept
