"""16x8 quantization of a finished int8 model: int16 activations, int8 weights (TFLite's
"16x8" mode), which the runtime and the generated C run for the ops the search's families use
(``edgecraft ops``: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pools, MEAN, SOFTMAX, RESHAPE,
TRANSPOSE, ...).

The int8 model's weights stay as they are. Each int8 activation becomes int16 over the same
calibrated range, symmetric (zero point 0, as TFLM's int16 kernels require):
``scale16 = max(|lo|, |hi|) / 32767`` with ``[lo, hi]`` the int8 range
``[(-128 - zp) * s, (127 - zp) * s]``: 256 times finer steps, one bit spent on symmetry.
Biases become int64 at ``scale16(input) * scale(weights)``; SOFTMAX's output takes TFLM's fixed
int16 quantization (1/32768, 0). Tensors whose int8 quantizations were equal stay equal, so ops
that share their input's quantization (reshape, transpose, pools) still do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph, Quantization
from edgecraft.ops.registry import find_op
from edgecraft.optimize.ptq import QuantizedModel


class SixteenError(ValueError):
    """The model has something the 16x8 conversion does not handle; the message names it."""


def symmetric16(q: Quantization) -> Quantization:
    """int16 symmetric quantization of the range an int8 per-tensor quantization covers."""
    s, zp = float(q.scale[0]), int(q.zero_point[0])
    amax = max(abs((-128 - zp) * s), abs((127 - zp) * s), 1e-12)
    return Quantization.per_tensor(float(np.float32(amax / 32767.0)), 0)


def to_16x8(graph: Graph) -> Graph:
    """The 16x8 version of a full-int8 ``graph`` (see the module docstring); a new graph."""
    g = copy.deepcopy(graph)
    old = {k: t.quant for k, t in enumerate(g.tensors)}
    for t in g.tensors:
        if t.is_constant or t.dtype != "int8":
            continue
        if t.quant is None or t.quant.per_channel:
            raise SixteenError(f"activation '{t.name}' is not quantized per tensor")
        t.dtype, t.quant = "int16", symmetric16(t.quant)
    for op in g.operators:
        d = find_op(op.type)
        if d is not None and d.fixed_output_int16 is not None:
            scale, zp = d.fixed_output_int16
            g.tensors[op.outputs[0]].quant = Quantization.per_tensor(scale, zp)
        k = None if d is None else d.bias_input
        if d is not None and k is not None and len(op.inputs) > k and op.inputs[k] >= 0:
            data = op.inputs[d.dtype_input]
            x, w, b = g.tensors[data], g.tensors[op.inputs[1]], g.tensors[op.inputs[k]]
            if b.data is None or b.quant is None or w.quant is None or old[data] is None:
                raise SixteenError(f"{op.type} has no constant quantized bias")
            in8 = float(old[data].scale[0])  # type: ignore[union-attr]
            in16 = float(x.quant.scale[0])  # type: ignore[union-attr]
            b.data = np.round(b.data.astype(np.float64) * (in8 / in16)).astype(np.int64)
            b.dtype = "int64"
            b.quant = Quantization(
                (w.quant.scale.astype(np.float64) * in16).astype(np.float32),
                np.zeros(len(w.quant.scale), np.int64),
                b.quant.axis,
            )
    unsupported = _unsupported(g)
    if unsupported:
        raise SixteenError(f"no int16 kernel for {', '.join(unsupported)}")
    return g


def _unsupported(g: Graph) -> list[str]:
    from edgecraft.ops.registry import get_op

    out = []
    for op in g.operators:
        dtypes = {g.tensors[i].dtype for i in op.inputs if i >= 0 and not g.tensors[i].is_constant}
        if "int16" in dtypes and "int16" not in get_op(op.type).kernels:
            out.append(op.type)
    return sorted(set(out))


@dataclass
class Model16(QuantizedModel):
    """A 16x8 model: as :class:`QuantizedModel`, fed int16 inputs."""

    def input_int8(self, x: np.ndarray) -> np.ndarray:
        """One float sample in PyTorch layout -> the int16 input tensor (the name is the base's)."""
        t = self.graph.input_tensors()[0]
        x = np.asarray(x, np.float32)[None]
        if self.channels_last:
            x = np.moveaxis(x, 1, -1)
        q = np.round(x / np.float32(t.scale)) + t.zero_point
        return np.clip(q, -32768, 32767).astype(np.int16).reshape(t.shape)


def model_16x8(qm: Any) -> Model16:
    """A finished int8 :class:`QuantizedModel` as its 16x8 :class:`Model16`."""
    from edgecraft.formats import write_tflite

    g = to_16x8(qm.graph)
    return Model16(g, write_tflite(g), qm.channels_last)
