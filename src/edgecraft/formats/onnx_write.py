"""Write an int8 IR graph as an ONNX QDQ model that ONNX Runtime runs.

Every int8 tensor of the graph is an int8 ONNX value under the same name; every op becomes the
float ONNX op between ``DequantizeLinear`` nodes on its inputs and a ``QuantizeLinear`` on its
output, with the IR's scales and zero points (per channel where the IR has them: weights as
int8 initializers, biases as int32 initializers with scale ``input_scale * weight_scale``).
Ops that only move bytes (RESHAPE, TRANSPOSE, PAD, SQUEEZE ...) stay in int8. The graph keeps
its NHWC layout: ONNX's convolutions and pools are NCHW, so each is wrapped in two int8
``Transpose`` nodes (the ONNX reader removes such pairs again). A fused activation becomes a
``Relu``/``Clip`` node only when the output's quantization range does not already clamp it.

The model runs in ONNX Runtime, which requantizes in float (and, fused into ``QLinearConv`` and
friends, with its own rounding); outputs can differ from TFLite Micro's integer arithmetic by a
least significant bit or so: ``benchmarks/onnx_export.py`` measures it per op.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.formats.tflite_reader import ModelFormatError
from edgecraft.ir.graph import Graph, Tensor
from edgecraft.ops.conv_common import out_size_and_padding
from edgecraft.ops.quant import quantized_activation_range

#: The ONNX opset the writer targets (per-channel DequantizeLinear needs 13; ReduceMean still
#: takes ``axes`` as an attribute in 17).
OPSET = 17
_NCHW, _NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
_ONNX_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7, "bool": 9}


def to_onnx(graph: Graph) -> Any:
    """``graph`` as an ``onnx.ModelProto`` (QDQ); :class:`ModelFormatError` names an op the
    writer cannot express."""
    import onnx

    model = _Writer(graph).model()
    onnx.checker.check_model(model)
    return model


def write_onnx(graph: Graph, path: str | Path) -> None:
    """Write ``graph`` as an ONNX QDQ model to ``path`` (atomically)."""
    from edgecraft.files import write_bytes

    write_bytes(path, to_onnx(graph).SerializeToString())


def exportable_ops() -> list[str]:
    """The IR op names the writer translates (for the README's coverage table)."""
    return sorted(name[3:].upper() for name in vars(_Writer) if name.startswith("op_"))


class _Writer:
    def __init__(self, graph: Graph) -> None:
        from onnx import helper, numpy_helper

        self.h, self.nh = helper, numpy_helper
        self.g = graph
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.used: set[str] = set()
        self.names = [self.fresh(t.name or f"t{k}") for k, t in enumerate(graph.tensors)]
        self.floats: dict[int, str] = {}
        self.written: set[int] = set()

    # --- naming, nodes, initializers -------------------------------------------------------
    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.used:
            name, n = f"{base}_{n}", n + 1
        self.used.add(name)
        return name

    def node(self, op_type: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        out = out or self.fresh(f"{inputs[0]}_{op_type.lower()}")
        self.nodes.append(self.h.make_node(op_type, inputs, [out], name=self.fresh(f"n_{out}"), **attrs))
        return out

    def init(self, base: str, array: np.ndarray) -> str:
        name = self.fresh(base)
        self.inits.append(self.nh.from_array(np.asarray(array), name))
        return name

    def t(self, k: int) -> Tensor:
        return self.g.tensors[k]

    def qparams(self, t: Tensor, base: str, zp_dtype: Any = None) -> tuple[list[str], dict[str, Any]]:
        q = t.quant
        if q is None:
            raise ModelFormatError(f"tensor {t.name!r} is {t.dtype} without quantization parameters")
        per_channel = q.per_channel
        scale = q.scale if per_channel else q.scale[0]
        zp = np.asarray(q.zero_point if per_channel else q.zero_point[0], zp_dtype or t.np_dtype)
        attrs = {"axis": q.axis} if per_channel else {}
        return [self.init(f"{base}_scale", np.asarray(scale, np.float32)), self.init(f"{base}_zp", zp)], attrs

    # --- values -----------------------------------------------------------------------------
    def raw(self, k: int) -> str:
        """The tensor as stored (int8, int32 ... or float), constants as initializers."""
        t = self.t(k)
        if t.is_constant and k not in self.written:
            self.written.add(k)
            self.inits.append(self.nh.from_array(np.asarray(t.data), self.names[k]))
        return self.names[k]

    def real(self, k: int, data: np.ndarray | None = None, quant_from: Tensor | None = None) -> str:
        """The tensor's real (float) value: a DequantizeLinear of its integers."""
        if k in self.floats and data is None:
            return self.floats[k]
        t = self.t(k)
        if t.dtype == "float32":
            return self.raw(k)
        src = self.init(self.names[k], data) if data is not None else self.raw(k)
        qt = quant_from or t
        params, attrs = self.qparams(qt, self.names[k], np.int32 if t.dtype == "int32" else None)
        out = self.node("DequantizeLinear", [src, *params], self.fresh(f"{self.names[k]}_real"), **attrs)
        if data is None:
            self.floats[k] = out
        return out

    def bias(self, op_inputs: list[int], weight_axis: int) -> list[str]:
        """The real bias (int32, scale input_scale * weight_scale per channel), or nothing."""
        if len(op_inputs) < 3 or op_inputs[2] == -1:
            return []
        x, w, b = (self.t(k) for k in op_inputs[:3])
        assert x.quant is not None and w.quant is not None
        scale = np.float32(x.quant.scale[0]) * w.quant.scale.astype(np.float32)
        from edgecraft.ir.graph import Quantization

        qb = Tensor(b.name, b.shape, "int32", None,
                    Quantization(scale, np.zeros(len(scale), np.int64), 0))
        data = np.asarray(b.data).astype(np.int32).reshape(-1)
        return [self.real(op_inputs[2], data, qb)]

    def quantize_to(self, value: str, k: int, activation: str = "NONE", out: str | None = None) -> None:
        """Clamp ``value`` for a fused activation (when the output range does not) and
        quantize it into tensor ``k``."""
        t = self.t(k)
        full = quantized_activation_range("NONE", t.scale, t.zero_point, t.dtype) if t.quant else None
        clamp = quantized_activation_range(activation, t.scale, t.zero_point, t.dtype) if t.quant else None
        if activation != "NONE" and (clamp is None or clamp != full):
            if activation == "RELU":
                value = self.node("Relu", [value])
            else:
                lo, hi = (0.0, 6.0) if activation == "RELU6" else (-1.0, 1.0)
                bounds = [self.init(n, np.array(v, np.float32)) for n, v in (("lo", lo), ("hi", hi))]
                value = self.node("Clip", [value, *bounds])
        out = out or self.names[k]
        if t.dtype == "float32":
            self.node("Identity", [value], out)
            return
        params, attrs = self.qparams(t, self.names[k])
        self.node("QuantizeLinear", [value, *params], out, **attrs)

    def nchw(self, k: int) -> str:
        return self.node("Transpose", [self.raw(k)], perm=_NCHW)

    def spatial(self, op: Any, build: Callable[[str], str]) -> None:
        """NHWC int8 in -> Transpose -> real -> ``build`` (NCHW) -> quantize -> Transpose out."""
        x = self.nchw(op.inputs[0])
        xt = self.t(op.inputs[0])
        params, attrs = self.qparams(xt, f"{self.names[op.inputs[0]]}_nchw")
        real = self.node("DequantizeLinear", [x, *params], **attrs)
        y = build(real)
        k = op.outputs[0]
        tmp = self.fresh(f"{self.names[k]}_nchw")
        self.quantize_to(y, k, op.attrs.get("fused_activation_function", "NONE"), tmp)
        self.node("Transpose", [tmp], self.names[k], perm=_NHWC)

    def pads(self, op: Any, kh: int, kw: int) -> list[int]:
        a = op.attrs
        _, h, w, _ = self.t(op.inputs[0]).shape
        sh, sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
        dh, dw = int(a.get("dilation_h_factor", 1)), int(a.get("dilation_w_factor", 1))
        padding = a.get("padding", "SAME")
        oh, top = out_size_and_padding(h, kh, sh, dh, padding)
        ow, left = out_size_and_padding(w, kw, sw, dw, padding)
        bottom = max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0) - top
        right = max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0) - left
        return [top, left, bottom, right]

    def window_attrs(self, op: Any, kh: int, kw: int) -> dict[str, Any]:
        a = op.attrs
        return {"kernel_shape": [kh, kw], "strides": [int(a.get("stride_h", 1)), int(a.get("stride_w", 1))],
                "pads": self.pads(op, kh, kw)}

    # --- ops (one method per IR op: op_<name>) ---------------------------------------------------
    def op_conv_2d(self, op: Any, depthwise: bool = False) -> None:
        w = self.t(op.inputs[1])
        assert w.quant is not None and w.data is not None
        kh, kw = w.shape[1], w.shape[2]
        order = (3, 0, 1, 2) if depthwise else (0, 3, 1, 2)
        from edgecraft.ir.graph import Quantization

        qw = Tensor(w.name, tuple(w.shape[i] for i in order), w.dtype, None,
                    Quantization(w.quant.scale, w.quant.zero_point, 0))
        weights = self.real(op.inputs[1], np.transpose(w.data, order), qw)
        a = op.attrs
        attrs = self.window_attrs(op, kh, kw)
        attrs["dilations"] = [int(a.get("dilation_h_factor", 1)), int(a.get("dilation_w_factor", 1))]
        if depthwise:
            attrs["group"] = self.t(op.inputs[0]).shape[3]
        bias = self.bias(op.inputs, 0)
        self.spatial(op, lambda x: self.node("Conv", [x, weights, *bias], **attrs))

    def op_depthwise_conv_2d(self, op: Any) -> None:
        self.op_conv_2d(op, depthwise=True)

    def op_average_pool_2d(self, op: Any, kind: str = "AveragePool") -> None:
        a = op.attrs
        attrs = self.window_attrs(op, int(a["filter_height"]), int(a["filter_width"]))
        if kind == "AveragePool":
            attrs["count_include_pad"] = 0
        self.spatial(op, lambda x: self.node(kind, [x], **attrs))

    def op_max_pool_2d(self, op: Any) -> None:
        self.op_average_pool_2d(op, "MaxPool")

    def op_fully_connected(self, op: Any) -> None:
        x, w = self.t(op.inputs[0]), self.t(op.inputs[1])
        flat = self.node("Reshape", [self.raw(op.inputs[0]), self.init("shape", np.array([-1, w.shape[1]]))])
        params, attrs = self.qparams(x, f"{self.names[op.inputs[0]]}_2d")
        real = self.node("DequantizeLinear", [flat, *params], **attrs)
        y = self.node("Gemm", [real, self.real(op.inputs[1]), *self.bias(op.inputs, 0)], transB=1)
        if op.attrs.get("keep_num_dims"):
            y = self.node("Reshape", [y, self.init("shape", np.array(self.t(op.outputs[0]).shape))])
        self.quantize_to(y, op.outputs[0], op.attrs.get("fused_activation_function", "NONE"))

    def elementwise(self, op: Any, onnx_op: str, **attrs: Any) -> None:
        y = self.node(onnx_op, [self.real(k) for k in op.inputs if k != -1], **attrs)
        self.quantize_to(y, op.outputs[0], op.attrs.get("fused_activation_function", "NONE"))

    def op_add(self, op: Any) -> None:
        self.elementwise(op, "Add")

    def op_sub(self, op: Any) -> None:
        self.elementwise(op, "Sub")

    def op_mul(self, op: Any) -> None:
        self.elementwise(op, "Mul")

    def op_maximum(self, op: Any) -> None:
        self.elementwise(op, "Max")

    def op_minimum(self, op: Any) -> None:
        self.elementwise(op, "Min")

    def op_logistic(self, op: Any) -> None:
        self.elementwise(op, "Sigmoid")

    def op_tanh(self, op: Any) -> None:
        self.elementwise(op, "Tanh")

    def op_relu(self, op: Any) -> None:
        self.elementwise(op, "Relu")

    def op_relu6(self, op: Any) -> None:
        self.quantize_to(self.real(op.inputs[0]), op.outputs[0], "RELU6")

    def op_hard_swish(self, op: Any) -> None:
        self.elementwise(op, "HardSwish")

    def op_leaky_relu(self, op: Any) -> None:
        self.elementwise(op, "LeakyRelu", alpha=float(op.attrs.get("alpha", 0.2)))

    def op_quantize(self, op: Any) -> None:
        self.quantize_to(self.real(op.inputs[0]), op.outputs[0])

    def op_dequantize(self, op: Any) -> None:
        self.node("Identity", [self.real(op.inputs[0])], self.names[op.outputs[0]])

    def op_softmax(self, op: Any) -> None:
        x = self.real(op.inputs[0])
        beta = float(op.attrs.get("beta", 1.0))
        if beta != 1.0:
            x = self.node("Mul", [x, self.init("beta", np.array(beta, np.float32))])
        self.quantize_to(self.node("Softmax", [x], axis=-1), op.outputs[0])

    def op_concatenation(self, op: Any) -> None:
        self.elementwise(op, "Concat", axis=int(op.attrs.get("axis", 0)))

    def op_mean(self, op: Any) -> None:
        axes = np.asarray(self.t(op.inputs[1]).data).reshape(-1).tolist()
        y = self.node("ReduceMean", [self.real(op.inputs[0])], axes=[int(v) for v in axes],
                      keepdims=int(bool(op.attrs.get("keep_dims", False))))
        self.quantize_to(y, op.outputs[0])

    def move(self, op: Any, onnx_op: str, extra: list[str], **attrs: Any) -> None:
        """A byte-moving op, in the tensor's own integers (same quantization in and out)."""
        self.node(onnx_op, [self.raw(op.inputs[0]), *extra], self.names[op.outputs[0]], **attrs)

    def op_reshape(self, op: Any) -> None:
        self.move(op, "Reshape", [self.init("shape", np.array(self.t(op.outputs[0]).shape, np.int64))])

    op_squeeze = op_expand_dims = op_reshape

    def op_transpose(self, op: Any) -> None:
        perm = np.asarray(self.t(op.inputs[1]).data).reshape(-1)
        self.move(op, "Transpose", [], perm=[int(v) for v in perm])

    def op_pad(self, op: Any) -> None:
        p = np.asarray(self.t(op.inputs[1]).data).astype(np.int64).reshape(-1, 2)
        out = self.t(op.outputs[0])
        value = np.asarray(out.zero_point if out.dtype != "float32" else 0, out.np_dtype)
        if len(op.inputs) > 2 and op.inputs[2] != -1:
            value = np.asarray(self.t(op.inputs[2]).data, out.np_dtype).reshape(())
        self.move(op, "Pad", [self.init("pads", np.concatenate([p[:, 0], p[:, 1]])),
                              self.init("pad_value", value)])

    op_padv2 = op_pad

    # --- the model -------------------------------------------------------------------------------
    def value_info(self, k: int) -> Any:
        t = self.t(k)
        if t.dtype not in _ONNX_TYPES:
            raise ModelFormatError(f"tensor {t.name!r} has dtype {t.dtype}, which the ONNX writer does "
                                   "not handle")
        return self.h.make_tensor_value_info(self.names[k], _ONNX_TYPES[t.dtype], list(t.shape))

    def model(self) -> Any:
        for j, op in enumerate(self.g.operators):
            method = getattr(self, f"op_{op.type.lower()}", None)
            if method is None:
                raise ModelFormatError(
                    f"operator {j} ({op.type}) has no ONNX export; ops the ONNX writer handles: "
                    f"{', '.join(exportable_ops())}")
            method(op)
        graph = self.h.make_graph(self.nodes, self.g.name or "edgecraft",
                                  [self.value_info(k) for k in self.g.inputs],
                                  [self.value_info(k) for k in self.g.outputs], self.inits)
        model = self.h.make_model(graph, opset_imports=[self.h.make_opsetid("", OPSET)],
                                  producer_name="edgecraft")
        model.ir_version = 8
        return model


def one_op_graph(graph: Graph, j: int) -> Graph:
    """Operator ``j`` of ``graph`` alone: its computed inputs become graph inputs (for comparing
    ONNX Runtime with edgecraft op by op, on the activations the whole model produces)."""
    import copy

    op = copy.deepcopy(graph.operators[j])
    used = sorted({k for k in [*op.inputs, *op.outputs] if k != -1})
    index = {k: i for i, k in enumerate(used)}
    tensors = [copy.deepcopy(graph.tensors[k]) for k in used]
    op.inputs = [index[k] if k != -1 else -1 for k in op.inputs]
    op.outputs = [index[k] for k in op.outputs]
    inputs = [index[k] for k in graph.operators[j].inputs if k != -1 and not graph.tensors[k].is_constant]
    return Graph(tensors, [op], list(dict.fromkeys(inputs)), op.outputs, name=f"{op.type.lower()}_{j}")
