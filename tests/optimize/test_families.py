"""The field's standard architectures become full-int8 models bit-exact with TFLM.

Every family of edgecraft.models.zoo (torchvision MobileNetV2, MobileNetV3 small and large,
ResNet-18, SqueezeNet 1.1, MNASNet, ShuffleNetV2, EfficientNet-B0 and RegNetX from
torchvision's own classes; nn.LSTM and nn.GRU with a Linear on the last step;
nn.TransformerEncoderLayer; a 1-D CNN; the MLPerf Tiny DS-CNN, ResNet-8, MobileNetV1 0.25 and
autoencoder), at its tiny test size: int8 input and output, no float op, no
QUANTIZE/DEQUANTIZE inside, edgecraft's runtime equal to TFLM on held-out inputs, the
float/int8 agreement reported. A representative subset (recurrent, attention, squeeze-excite)
also runs on qemu-m4 and equals TFLM there. Full sizes: benchmarks/zoo.py.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from edgecraft.optimize import float_ops
from oracle import check_tensor, check_tflm

pytestmark = [pytest.mark.torch, pytest.mark.slow]  # tests/conftest.py runs slow modules first
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")

FAMILIES = ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "resnet18", "squeezenet1_1",
            "mnasnet0_5", "shufflenet_v2_x0_5", "efficientnet_b0", "regnet_x_400mf", "lstm", "gru",
            "transformer", "cnn1d", "ds_cnn", "resnet8", "mobilenet_v1_025", "autoencoder"]
#: what each family must contain after conversion (the pieces that used to stay float)
EXPECTED = {
    "mobilenet_v2": {"ADD", "DEPTHWISE_CONV_2D"}, "mobilenet_v3_small": {"HARD_SWISH", "MUL", "ADD"},
    "resnet18": {"ADD", "PADV2", "MAX_POOL_2D"}, "squeezenet1_1": {"CONCATENATION", "MAX_POOL_2D"},
    "lstm": {"LOGISTIC", "TANH", "MUL", "ADD", "FULLY_CONNECTED"},
    "gru": {"LOGISTIC", "TANH", "MUL", "SUB", "FULLY_CONNECTED"},
    "transformer": {"BATCH_MATMUL", "SOFTMAX", "RSQRT", "MEAN", "SUB"},
    "cnn1d": {"CONV_2D", "MAX_POOL_2D"}, "ds_cnn": {"DEPTHWISE_CONV_2D", "CONV_2D"},
    "autoencoder": {"FULLY_CONNECTED"},
    "mobilenet_v3_large": {"HARD_SWISH", "MUL", "ADD", "DEPTHWISE_CONV_2D"},
    "mnasnet0_5": {"ADD", "DEPTHWISE_CONV_2D"},
    # the channel split is two SLICEs of one grid: no requantize (was a QUANTIZE before one half)
    "shufflenet_v2_x0_5": {"SLICE", "CONCATENATION", "TRANSPOSE", "DEPTHWISE_CONV_2D"},
    "efficientnet_b0": {"LOGISTIC", "MUL", "ADD", "DEPTHWISE_CONV_2D"},
    "regnet_x_400mf": {"CONV_2D", "ADD"}, "resnet8": {"ADD", "CONV_2D"},
    "mobilenet_v1_025": {"DEPTHWISE_CONV_2D", "CONV_2D"},
}
ON_QEMU = {"lstm", "gru", "transformer", "mobilenet_v3_small"}
HAVE_QEMU = shutil.which("arm-none-eabi-gcc") is not None and shutil.which("qemu-system-arm") is not None


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", FAMILIES)
def test_family_is_full_int8_and_tflm_exact(name: str) -> None:
    import torch

    from edgecraft.models.zoo import build
    from edgecraft.optimize import quantize

    model, shape = build(name)
    x = torch.randn(14, *shape, generator=torch.Generator().manual_seed(3))
    qm = quantize(model, x[:10], holdout=x[10:], layer_samples=2)
    g = qm.graph
    types = [op.type for op in g.operators]
    assert not float_ops(g), types
    assert "QUANTIZE" not in types and "DEQUANTIZE" not in types, types
    assert EXPECTED[name] <= set(types), types
    assert g.input_tensors()[0].dtype == "int8" and g.output_tensors()[0].dtype == "int8"
    inputs = [qm.input_int8(s) for s in x[10:].numpy()]
    expected = [check_tflm(g, [q], name)[0] for q in inputs]
    assert qm.report is not None and qm.report.samples == 4 and 0.0 <= qm.report.agreement <= 1.0
    assert qm.report.layers  # the per-layer report names the layers (recurrent ones too)
    if name in ON_QEMU and HAVE_QEMU:
        from edgecraft.emulate import emulate

        run = emulate(g, "qemu-m4", [np.stack(inputs[:2])], name=name)
        for got, want in zip(run.outputs[0], expected[:2], strict=True):
            check_tensor(got.reshape(want.shape), want, f"{name} on qemu-m4")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_all_step_readout_of_a_bidirectional_lstm() -> None:
    """The issue's other readout: an nn.Linear on every step of a bidirectional LSTM (N, T, 2H)."""
    import torch
    from torch import nn

    from edgecraft.optimize import quantize

    class AllSteps(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.LSTM(6, 10, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(20, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.fc(self.rnn(x)[0])
            return out

    torch.manual_seed(0)
    x = torch.randn(24, 4, 6, generator=torch.Generator().manual_seed(1))
    qm = quantize(AllSteps().eval(), x[:20], holdout=x[20:], layer_samples=2)
    types = [op.type for op in qm.graph.operators]
    assert not float_ops(qm.graph) and "QUANTIZE" not in types and "DEQUANTIZE" not in types, types
    assert qm.graph.output_tensors()[0].shape[-2:] == (4, 3)
    for s in x[20:22].numpy():
        check_tflm(qm.graph, [qm.input_int8(s)], "all-step LSTM")
    assert qm.report is not None
    assert {"rnn.cells.l0_reverse.hidden", "fc"} <= {e.layer for e in qm.report.layers}
