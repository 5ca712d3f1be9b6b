"""One translation per ONNX op, from an ONNX node to IR ops (used by :mod:`edgecraft.formats.onnx_read`).

Each function takes the reader, the node, its input values and its attributes and returns the
values of its outputs. :func:`supported_onnx_ops` lists them (the README's coverage table).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import edgecraft.formats.onnx_tensor_ops  # noqa: F401  (registers its translations)
from edgecraft.formats.onnx_values import TRANSLATIONS, Act, Const, QConst, Value, const_data, given
from edgecraft.formats.onnx_values import translation as _op
from edgecraft.ir.graph import Quantization
from edgecraft.ops.conv_common import out_size_and_padding

Reader = Any  # edgecraft.formats.onnx_read.Reader, which imports this module


def supported_onnx_ops() -> list[str]:
    """The ONNX op types the reader translates (constant-only nodes of any type are evaluated)."""
    return sorted({*TRANSLATIONS, "QuantizeLinear", "DequantizeLinear"})


def translate(r: Reader, node: Any) -> list[Value]:
    """The values of ``node``'s outputs."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    ins: list[Value] = []
    for name in node.input:
        if not name:
            ins.append(Const(np.zeros(0, np.float32)))  # an absent optional input (see `given`)
            continue
        if name not in r.values:
            raise r.fail(f"input {name!r} is not computed before this node (the graph is not in order)")
        ins.append(r.values[name])
    if node.op_type == "DequantizeLinear":
        return [_dequantize(r, node, ins, attrs)]
    if node.op_type == "QuantizeLinear":
        return [_quantize(r, node, ins, attrs)]
    if node.op_type == "Constant" or (ins and all(isinstance(v, Const) for v in ins)):
        return _evaluate(r, node, ins)
    fn = TRANSLATIONS.get(node.op_type)
    if fn is None:
        raise r.unsupported(f"the ONNX op {node.op_type} is not supported (supported: "
                            f"{', '.join(supported_onnx_ops())})")
    return fn(r, node, ins, attrs)


def _evaluate(r: Reader, node: Any, ins: list[Value]) -> list[Value]:
    from onnx.reference import ReferenceEvaluator

    try:
        feeds = {n: v.data for n, v in zip(node.input, ins, strict=True) if n and isinstance(v, Const)}
        return [Const(np.asarray(o)) for o in ReferenceEvaluator(node).run(None, feeds)]
    except Exception as e:
        raise r.unsupported(f"cannot evaluate it on its constant inputs ({type(e).__name__}: {e})") from None


# --- quantization --------------------------------------------------------------------------------

def _qparams(r: Reader, ins: list[Value], attrs: dict[str, Any], rank: int,
             default: Any = np.uint8) -> tuple[Quantization, np.dtype[Any]]:
    """Scale and zero point (absent: 0 of ``default``, the integer type) and that type."""
    scale = ins[1]
    scale_data = const_data(ins, 1)
    zp = given(ins, 2) or Const(np.zeros(np.shape(scale_data) if scale_data is not None else (), default))
    if not isinstance(scale, Const) or not isinstance(zp, Const):
        raise r.unsupported("the scale and zero point must be constants")
    z = np.asarray(zp.data)
    s = np.asarray(scale.data, np.float32).reshape(-1)
    if z.dtype not in (np.int8, np.uint8, np.int32):
        raise r.unsupported(f"{z.dtype} quantization is not supported; quantize to int8 (or uint8)")
    if attrs.get("block_size"):
        raise r.unsupported("blocked quantization is not supported; quantize per tensor or per channel")
    axis = int(attrs.get("axis", 1)) % max(rank, 1) if s.size > 1 else 0
    return Quantization(s, z.astype(np.int64).reshape(-1), axis), z.dtype


def _as_int8(data: np.ndarray, quant: Quantization, dtype: np.dtype[Any]) -> tuple[np.ndarray, Quantization]:
    """uint8 integers as the exactly equivalent int8 ones (q - 128, zero point - 128)."""
    if dtype == np.uint8:
        return ((data.astype(np.int16) - 128).astype(np.int8),
                Quantization(quant.scale, quant.zero_point - 128, quant.axis))
    return data, quant


def _dequantize(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> Value:
    x = ins[0]
    if isinstance(x, QConst):
        return x
    # without a zero point the integers' own type says what they are (ONNX: T1)
    own = x.data.dtype if isinstance(x, Const) else r.tensors[x.index].np_dtype
    quant, dtype = _qparams(r, ins, attrs, len(r.shape(x)), own)
    if isinstance(x, Const):
        data, quant = _as_int8(np.asarray(x.data), quant, dtype)
        return QConst(np.asarray(data), quant)
    if quant.per_channel:
        raise r.unsupported("per-channel quantization of an activation is not supported")
    if r.tensors[x.index].dtype == "uint8":
        raise r.unsupported("a uint8 tensor computed inside the model is not supported; quantize to int8")
    r.set_quant(x.index, quant)
    return Act(r.emit("DEQUANTIZE", [x.index], node.output[0]), x.nhwc)


def _quantize(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> Value:
    x = ins[0]
    quant, dtype = _qparams(r, ins, attrs, len(r.shape(x)))
    if isinstance(x, Const):
        shape = [1] * np.ndim(x.data)
        if quant.per_channel:
            shape[quant.axis] = -1
        s = quant.scale.reshape(shape) if shape else quant.scale[0]
        z = quant.zero_point.reshape(shape) if shape else quant.zero_point[0]
        lo, hi = (0, 255) if dtype == np.uint8 else (-128, 127) if dtype == np.int8 else (-(2**31), 2**31 - 1)
        q = np.clip(np.round(np.asarray(x.data, np.float32) / s) + z, lo, hi).astype(dtype)
        data, quant = _as_int8(q, quant, dtype)
        return QConst(data, quant)
    if quant.per_channel:
        raise r.unsupported("per-channel quantization of an activation is not supported")
    if dtype == np.int32:
        raise r.unsupported("int32 activations are not supported; quantize activations to int8")
    _, quant = _as_int8(np.zeros(0), quant, dtype)
    assert isinstance(x, Act)
    return Act(r.emit("QUANTIZE", [x.index], node.output[0], "int8", quant), x.nhwc)


# --- convolution, pooling, dense -----------------------------------------------------------------

def _weights(r: Reader, w: Value, order: tuple[int, ...], name: str) -> int:
    """A constant weight tensor, transposed by ``order`` (per-channel axis moved with it)."""
    if isinstance(w, Act):
        raise r.unsupported("the weights must be constant (an initializer), not computed")
    data = np.ascontiguousarray(np.transpose(np.asarray(w.data), order))
    if isinstance(w, QConst):
        q = w.quant
        axis = order.index(q.axis) if q.per_channel else 0
        if np.any(q.zero_point != 0):
            raise r.unsupported("the weights have a non-zero zero point, which TFLite Micro's int8 kernels "
                                "do not take; quantize weights symmetrically (ONNX Runtime: "
                                "WeightSymmetric=True)")
        k = r.const_tensor(name, data, Quantization(q.scale, q.zero_point, axis))
        return r.emit("DEQUANTIZE", [k], f"{name}_real")
    return r.const_tensor(name, data.astype(np.float32))


def _bias(r: Reader, b: Value | None, name: str) -> int:
    if b is None:
        return -1
    if isinstance(b, QConst):
        k = r.const_tensor(name, np.asarray(b.data).astype(np.int32).reshape(-1), b.quant)
        return r.emit("DEQUANTIZE", [k], f"{name}_real")
    if isinstance(b, Const):
        return r.const_tensor(name, np.asarray(b.data, np.float32).reshape(-1))
    raise r.unsupported("the bias must be constant (an initializer), not computed")


def _padding(r: Reader, x: int, attrs: dict[str, Any], kernel: list[int], strides: list[int],
             dilations: list[int], pad_ok: bool) -> tuple[int, str]:
    """(input, TFLite padding): SAME or VALID when ONNX's pads equal them, else a PAD op."""
    _, h, w, _ = r.tensors[x].shape
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
    if auto == "VALID" or (not any(pads) and auto == "NOTSET"):
        return x, "VALID"
    same = []
    for size, k, s, d in ((h, kernel[0], strides[0], dilations[0]), (w, kernel[1], strides[1], dilations[1])):
        out, before = out_size_and_padding(size, k, s, d, "SAME")
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        same.append((before, total - before))
    if auto == "SAME_UPPER" or pads == [same[0][0], same[1][0], same[0][1], same[1][1]]:
        return x, "SAME"
    if not pad_ok:
        raise r.unsupported(f"padding {pads} is neither SAME nor VALID, which this op needs in TFLite")
    p = np.array([[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], np.int32)
    t = r.tensors[x]
    padded = r.emit("PAD", [x, r.const_tensor(f"{t.name}_pads", p)], f"{t.name}_padded", t.dtype, t.quant)
    return padded, "VALID"


@_op("Conv")
def _conv(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    w_shape = r.shape(ins[1])
    if len(w_shape) != 4:
        raise r.unsupported(f"only 2-D convolutions are supported (weights of rank {len(w_shape)})")
    x = r.act(ins[0], True)
    c_in, group = r.tensors[x].shape[3], int(attrs.get("group", 1))
    strides = [int(s) for s in attrs.get("strides", [1, 1])]
    dil = [int(d) for d in attrs.get("dilations", [1, 1])]
    x, padding = _padding(r, x, attrs, list(w_shape[2:]), strides, dil, True)
    common: dict[str, Any] = {
        "padding": padding, "stride_h": strides[0], "stride_w": strides[1], "dilation_h_factor": dil[0],
        "dilation_w_factor": dil[1], "fused_activation_function": "NONE"}
    bias = _bias(r, given(ins, 2), f"{node.output[0]}_bias")
    if group == 1:
        w = _weights(r, ins[1], (0, 2, 3, 1), f"{node.output[0]}_weights")
        return [r.out(r.emit("CONV_2D", [x, w, bias], node.output[0], **common), True)]
    if group == c_in and w_shape[1] == 1:
        w = _weights(r, ins[1], (1, 2, 3, 0), f"{node.output[0]}_weights")
        return [r.out(r.emit("DEPTHWISE_CONV_2D", [x, w, bias], node.output[0],
                             depth_multiplier=w_shape[0] // c_in, **common), True)]
    raise r.unsupported(f"grouped convolution (group={group} of {c_in} channels) is not supported; use "
                        "group=1 or a depthwise convolution (group = input channels)")


@_op("MaxPool", "AveragePool")
def _pool(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    if attrs.get("ceil_mode", 0):
        raise r.unsupported("ceil_mode=1 is not supported; use ceil_mode=0")
    kernel = [int(k) for k in attrs["kernel_shape"]]
    strides = [int(s) for s in attrs.get("strides", [1, 1])]
    if len(kernel) != 2 or any(d != 1 for d in attrs.get("dilations", [1, 1])):
        raise r.unsupported("only 2-D pools without dilation are supported")
    x, padding = _padding(r, r.act(ins[0], True), attrs, kernel, strides, [1, 1], False)
    if node.op_type == "AveragePool" and padding == "SAME" and attrs.get("count_include_pad", 0):
        raise r.unsupported("count_include_pad=1 with padding is not supported (TFLite averages the "
                            "cells inside the image only)")
    kind = "MAX_POOL_2D" if node.op_type == "MaxPool" else "AVERAGE_POOL_2D"
    t = r.tensors[x]
    return [r.out(r.emit(kind, [x], node.output[0], t.dtype, padding=padding, stride_h=strides[0],
                         stride_w=strides[1], filter_height=kernel[0], filter_width=kernel[1],
                         fused_activation_function="NONE"), True)]


@_op("GlobalAveragePool")
def _global_pool(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    x = r.act(ins[0], True)
    axes = r.const_tensor(f"{node.output[0]}_axes", np.array([1, 2], np.int32))
    return [r.out(r.emit("MEAN", [x, axes], node.output[0], keep_dims=True), True)]


@_op("Gemm", "MatMul")
def _dense(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
        raise r.unsupported("only Gemm with transA=0, alpha=1 and beta=1 is supported")
    if isinstance(ins[1], Act):
        raise r.unsupported("a product of two computed tensors is not supported; the second operand must be "
                            "constant weights")
    if len(r.shape(ins[0])) != 2 or len(r.shape(ins[1])) != 2:
        raise r.unsupported("only 2-D inputs and weights are supported; flatten the input first")
    order = (0, 1) if attrs.get("transB", 0) else (1, 0)
    w = _weights(r, ins[1], order, f"{node.output[0]}_weights")
    bias = _bias(r, given(ins, 2), f"{node.output[0]}_bias")
    return [Act(r.emit("FULLY_CONNECTED", [r.plain(ins[0]), w, bias], node.output[0],
                       fused_activation_function="NONE", keep_num_dims=False, weights_format=0))]
