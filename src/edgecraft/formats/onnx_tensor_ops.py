"""ONNX translations of elementwise, activation and data-movement ops (registered with
:func:`edgecraft.formats.onnx_values.translation`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.formats.onnx_values import TO_NHWC, Act, Const, QConst, Value, const_data, given
from edgecraft.formats.onnx_values import translation as _op
from edgecraft.ir.graph import Quantization

Reader = Any  # edgecraft.formats.onnx_read.Reader, which imports the translations


# --- elementwise -------------------------------------------------------------------------------

def _to_layout(r: Reader, v: Value, nhwc: bool, rank: int, name: str) -> int:
    """``v`` as an IR tensor for an op computing in NHWC (``nhwc``) at ``rank``: lower-rank
    constants are broadcast up to rank 4 first, so NCHW broadcasting survives the layout."""
    if nhwc and not isinstance(v, Act) and v.data.ndim < rank:
        missing = rank - v.data.ndim
        if isinstance(v, QConst):
            q = v.quant
            v = QConst(v.data.reshape((1,) * missing + v.data.shape),
                       Quantization(q.scale, q.zero_point, q.axis + missing if q.per_channel else 0))
        else:
            v = Const(np.asarray(v.data).reshape((1,) * missing + np.shape(v.data)))
    return r.act(v, nhwc, name)


def _elementwise(r: Reader, node: Any, ins: list[Value], kind: str, **attrs: Any) -> list[Value]:
    ranks = [len(r.shape(v)) for v in ins]
    nhwc = any(isinstance(v, Act) and v.nhwc for v in ins) and all(
        rank == 4 or not isinstance(v, Act) for v, rank in zip(ins, ranks, strict=True))
    args = [_to_layout(r, v, nhwc, max(ranks), f"{node.output[0]}_in{i}") for i, v in enumerate(ins)]
    dtype = r.tensors[args[0]].dtype
    return [r.out(r.emit(kind, args, node.output[0], dtype, **attrs), nhwc)]


@_op("Add", "Sub", "Mul")
def _binary(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    return _elementwise(r, node, ins, node.op_type.upper(), fused_activation_function="NONE")


@_op("Div")
def _div(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    if isinstance(ins[1], Const):  # x / c -> x * (1/c)
        inverse = Const(np.float32(1) / np.asarray(ins[1].data, np.float32))
        return _elementwise(r, node, [ins[0], inverse], "MUL", fused_activation_function="NONE")
    return _elementwise(r, node, ins, "DIV", fused_activation_function="NONE")


def _fusable(r: Reader, v: Value) -> Any:
    """The op making ``v`` when a following activation can be fused into it."""
    if not isinstance(v, Act) or not r.ops or r.ops[-1].outputs != [v.index]:
        return None
    op = r.ops[-1]
    name = r.tensors[v.index].name
    graph = r.model.graph
    uses = sum(list(n.input).count(name) for n in graph.node) + sum(o.name == name for o in graph.output)
    if op.attrs.get("fused_activation_function") != "NONE" or uses != 1 or op.type == "CONCATENATION":
        return None
    return op


def _activation(r: Reader, node: Any, ins: list[Value], fused: str, kind: str) -> list[Value]:
    op = _fusable(r, ins[0])
    if op is not None:
        op.attrs["fused_activation_function"] = fused
        return [ins[0]]
    return _elementwise(r, node, ins[:1], kind)


@_op("Relu")
def _relu(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    return _activation(r, node, ins, "RELU", "RELU")


@_op("Clip")
def _clip(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    def bound(i: int, name: str, default: float) -> float:
        if given(ins, i) is not None:
            data = const_data(ins, i)
            if data is None:
                raise r.unsupported("Clip bounds must be constants")
            return float(data)
        return float(attrs.get(name, default))
    lo, hi = bound(1, "min", -np.inf), bound(2, "max", np.inf)
    if (lo, hi) == (0.0, 6.0):
        return _activation(r, node, ins, "RELU6", "RELU6")
    if (lo, hi) == (0.0, np.inf):
        return _activation(r, node, ins, "RELU", "RELU")
    if (lo, hi) == (-1.0, 1.0):
        return _activation(r, node, ins, "RELU_N1_TO_1", "RELU_N1_TO_1")
    raise r.unsupported(f"Clip({lo}, {hi}) is not supported; TFLite clamps to [0, 6], [0, inf) or "
                        "[-1, 1] only")


@_op("Sigmoid", "Tanh", "HardSwish")
def _unary(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    kind = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "HardSwish": "HARD_SWISH"}[node.op_type]
    return _elementwise(r, node, ins[:1], kind)


@_op("LeakyRelu")
def _leaky(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    return _elementwise(r, node, ins[:1], "LEAKY_RELU", alpha=float(attrs.get("alpha", 0.01)))


@_op("Identity", "Dropout")
def _identity(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    return [ins[0]]


@_op("Softmax")
def _softmax(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    x, rank = ins[0], len(r.shape(ins[0]))
    axis = int(attrs.get("axis", -1)) % rank
    if isinstance(x, Act) and x.nhwc and axis == 1:
        return [r.out(r.emit("SOFTMAX", [x.index], node.output[0], beta=1.0), True)]
    if axis != rank - 1:
        raise r.unsupported(f"softmax over axis {axis} of a rank-{rank} tensor; TFLite's runs over the "
                            "last axis")
    return [Act(r.emit("SOFTMAX", [r.plain(x)], node.output[0], beta=1.0))]


# --- shapes and data movement ------------------------------------------------------------------

def _reshape_to(r: Reader, node: Any, x: Value, shape: list[int]) -> list[Value]:
    k = r.plain(x)
    t = r.tensors[k]
    target = r.const_tensor(f"{node.output[0]}_shape", np.array(shape, np.int32))
    return [Act(r.emit("RESHAPE", [k, target], node.output[0], t.dtype, t.quant))]


@_op("Reshape")
def _reshape(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    if not isinstance(ins[1], Const):
        raise r.unsupported("the target shape must be constant")
    src = r.shape(ins[0])
    shape = [int(d) for d in np.asarray(ins[1].data).reshape(-1)]
    if not attrs.get("allowzero", 0):
        shape = [src[i] if d == 0 else d for i, d in enumerate(shape)]
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1]))
        shape[shape.index(-1)] = int(np.prod(src)) // max(known, 1)
    return _reshape_to(r, node, ins[0], shape)


@_op("Flatten")
def _flatten(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    src = r.shape(ins[0])
    axis = int(attrs.get("axis", 1)) % (len(src) + 1)
    return _reshape_to(r, node, ins[0], [int(np.prod(src[:axis])), int(np.prod(src[axis:]))])


def _axes(r: Reader, ins: list[Value], attrs: dict[str, Any]) -> list[int] | None:
    data = const_data(ins, 1)
    if data is not None:
        return [int(a) for a in data.reshape(-1)]
    return [int(a) for a in attrs["axes"]] if "axes" in attrs else None


@_op("Squeeze", "Unsqueeze")
def _squeeze(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    src, axes = list(r.shape(ins[0])), _axes(r, ins, attrs)
    if node.op_type == "Squeeze":
        drop = {a % len(src) for a in axes} if axes is not None else {i for i, d in enumerate(src) if d == 1}
        shape = [d for i, d in enumerate(src) if i not in drop]
    else:
        shape = src
        for a in sorted(a % (len(src) + len(axes or [])) for a in axes or []):
            shape.insert(a, 1)
    return _reshape_to(r, node, ins[0], shape)


@_op("Transpose")
def _transpose(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    k = r.plain(ins[0])
    t = r.tensors[k]
    perm = attrs.get("perm", list(range(len(t.shape)))[::-1])
    p = r.const_tensor(f"{node.output[0]}_perm", np.array(perm, np.int32))
    return [Act(r.emit("TRANSPOSE", [k, p], node.output[0], t.dtype, t.quant))]


@_op("Concat")
def _concat(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    rank = len(r.shape(ins[0]))
    axis = int(attrs["axis"]) % rank
    nhwc = rank == 4 and all(isinstance(v, Act) and v.nhwc for v in ins)
    args = [r.act(v, nhwc, f"{node.output[0]}_in{i}") for i, v in enumerate(ins)]
    k = r.emit("CONCATENATION", args, node.output[0], r.tensors[args[0]].dtype,
               axis=TO_NHWC.index(axis) if nhwc else axis, fused_activation_function="NONE")
    return [r.out(k, nhwc)]


@_op("ReduceMean")
def _mean(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    rank = len(r.shape(ins[0]))
    axes = _axes(r, ins, attrs)
    axes = sorted(a % rank for a in (axes if axes is not None else range(rank)))
    keep = bool(attrs.get("keepdims", 1))
    x = ins[0]
    nhwc = isinstance(x, Act) and x.nhwc and keep
    if nhwc:
        axes = sorted(TO_NHWC.index(a) for a in axes)
    a = r.const_tensor(f"{node.output[0]}_axes", np.array(axes, np.int32))
    return [r.out(r.emit("MEAN", [r.act(x, nhwc), a], node.output[0], keep_dims=keep), nhwc)]


@_op("Pad")
def _pad(r: Reader, node: Any, ins: list[Value], attrs: dict[str, Any]) -> list[Value]:
    mode = attrs.get("mode", b"constant")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant" or not isinstance(ins[1], Const):
        raise r.unsupported("only constant padding with constant pads is supported")
    value = const_data(ins, 2)
    k = r.plain(ins[0])
    t = r.tensors[k]
    pads = np.asarray(ins[1].data).reshape(2, -1).T.astype(np.int32)
    p = r.const_tensor(f"{node.output[0]}_pads", np.ascontiguousarray(pads))
    if t.dtype != "float32":  # integers padded with a given integer (its zero point: a real 0)
        v = value.reshape(-1)[:1] if value is not None and value.size else np.zeros(1)
        c = r.const_tensor(f"{node.output[0]}_value", np.asarray(v).astype(t.np_dtype).reshape(1))
        return [Act(r.emit("PADV2", [k, p, c], node.output[0], t.dtype, t.quant))]
    if value is not None and value.size and float(value.reshape(-1)[0]) != 0.0:
        raise r.unsupported("padding with a value other than 0 is not supported")
    return [Act(r.emit("PAD", [k, p], node.output[0], t.dtype, t.quant))]

