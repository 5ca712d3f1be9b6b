"""Read an ONNX model into the IR (float ops, with its QuantizeLinear/DequantizeLinear nodes).

:func:`read_onnx` translates node by node (:mod:`edgecraft.formats.onnx_ops` holds one
function per ONNX op) into TFLite-style IR ops: ``Conv`` -> CONV_2D or DEPTHWISE_CONV_2D,
``Gemm``/``MatMul`` -> FULLY_CONNECTED, ``QuantizeLinear`` -> QUANTIZE, ``DequantizeLinear``
-> DEQUANTIZE, and so on. Convolutions and pools are NHWC in the IR and NCHW in ONNX: values
those ops make are kept NHWC and TRANSPOSE ops are inserted only where a consumer needs the
ONNX order (a graph input or output, a Reshape, an axis-bearing op); pairs that cancel are
dropped. Nodes whose inputs are all constant (shape arithmetic) are evaluated with ONNX's
reference evaluator. The result is a float graph with quantize and dequantize steps; a QDQ
model becomes full int8 through :func:`edgecraft.formats.qdq.fold_qdq`, a float one through
edgecraft's IR-level PTQ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.formats.onnx_values import TO_NCHW, TO_NHWC, Act, Const, QConst, UnsupportedOnnxOp, Value
from edgecraft.formats.tflite_reader import ModelFormatError
from edgecraft.ir.graph import Graph, Operator, Quantization, Tensor
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.registry import get_op

__all__ = ["Reader", "UnsupportedOnnxOp", "load_proto", "read_onnx", "read_onnx_bytes"]

def read_onnx(path: str | Path) -> Graph:
    """Read the .onnx file at ``path`` into a (float, QDQ) IR graph."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ModelFormatError(f"cannot read {path}: {e.strerror}") from None
    return read_onnx_bytes(data, str(path))


def load_proto(data: bytes, source: str) -> Any:
    """The checked ``onnx.ModelProto`` in ``data``, or one :class:`ModelFormatError`."""
    import onnx

    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:
        raise ModelFormatError(f"{source}: not an ONNX model (cannot parse the protobuf: "
                               f"{' '.join(str(e).split())[:200]})") from None
    if not model.graph.node:
        raise ModelFormatError(f"{source}: not an ONNX model, or one without nodes (empty graph)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ModelFormatError(f"{source}: invalid ONNX model: {' '.join(str(e).split())[:300]}") from None
    return model


def read_onnx_bytes(data: bytes, source: str = "model") -> Graph:
    """Parse ONNX bytes into a (float, QDQ) IR graph."""
    model = load_proto(data, source)
    try:
        return Reader(model, source).graph()
    except ModelFormatError:
        raise
    except (OpError, ValueError) as e:
        raise ModelFormatError(f"{source}: {' '.join(str(e).split())}") from None
    except Exception as e:  # whatever a corrupt file trips over: one clear error, no traceback
        raise ModelFormatError(f"{source}: corrupt or inconsistent ONNX model ({type(e).__name__}: "
                               f"{' '.join(str(e).split())[:200]}); re-export it") from None


class Reader:
    """Translates one ``onnx.ModelProto``; op translations live in :mod:`edgecraft.formats.onnx_ops`."""

    def __init__(self, model: Any, source: str) -> None:
        from onnx import numpy_helper

        self.model, self.source = model, source
        self.tensors: list[Tensor] = []
        self.ops: list[Operator] = []
        self.values: dict[str, Value] = {}
        self.layout_cache: dict[tuple[int, bool], int] = {}
        self.node: Any = None
        for init in model.graph.initializer:
            self.values[init.name] = Const(numpy_helper.to_array(init))

    # --- errors ---------------------------------------------------------------------------------
    def fail(self, message: str) -> ModelFormatError:
        n = self.node
        where = f"node {n.name or '(unnamed)'!r} ({n.op_type})" if n is not None else "the graph"
        return ModelFormatError(f"{self.source}: {where}: {message}")

    def unsupported(self, what: str) -> UnsupportedOnnxOp:
        n = self.node
        return UnsupportedOnnxOp(
            f"{self.source}: node {n.name or '(unnamed)'!r} ({n.op_type}): {what}; change the layer in the "
            "source model (see README, ONNX operator coverage) or export it differently")

    # --- tensors and ops ------------------------------------------------------------------------
    def tensor(self, name: str, shape: tuple[int, ...], dtype: str, data: np.ndarray | None = None,
               quant: Quantization | None = None) -> int:
        self.tensors.append(Tensor(name, tuple(int(d) for d in shape), dtype, data, quant))
        return len(self.tensors) - 1

    def const_tensor(self, name: str, data: np.ndarray, quant: Quantization | None = None) -> int:
        data = np.ascontiguousarray(data)
        return self.tensor(name, data.shape, str(data.dtype), data, quant)

    def emit(self, op_type: str, inputs: list[int], name: str, dtype: str = "float32",
             quant: Quantization | None = None, **attrs: Any) -> int:
        """Append an IR op with one output named ``name``, shaped by the op's shape rule."""
        op = Operator(op_type, list(inputs), [self.tensor(name, (), dtype, None, quant)], dict(attrs))
        ctx = OpContext(op, Graph(self.tensors, self.ops, [], []))
        try:
            shape = get_op(op_type).shape(ctx)[0]
        except (OpError, ValueError, IndexError, KeyError, TypeError) as e:
            raise self.fail(f"cannot be expressed as {op_type}: {e}") from None
        self.tensors[op.outputs[0]].shape = tuple(int(d) for d in shape)
        self.ops.append(op)
        return op.outputs[0]

    def set_quant(self, k: int, quant: Quantization) -> None:
        """Give integer tensor ``k`` (an ONNX value that only a DequantizeLinear describes) its
        quantization, and the tensors it was moved from (reshape, transpose ...) too."""
        if self.tensors[k].quant is not None:
            return
        self.tensors[k].quant = quant
        for op in self.ops:
            opdef = get_op(op.type)
            if k in op.outputs and opdef.shares_quant:
                for j in op.inputs[:1]:
                    if self.tensors[j].dtype == self.tensors[k].dtype and not self.tensors[j].is_constant:
                        self.set_quant(j, quant)

    def shape(self, v: Value) -> tuple[int, ...]:
        """The ONNX (logical) shape of a value."""
        if isinstance(v, Const | QConst):
            return tuple(v.data.shape)
        s = self.tensors[v.index].shape
        return tuple(s[i] for i in TO_NCHW) if v.nhwc else s

    def act(self, v: Value, nhwc: bool, name: str = "") -> int:
        """The IR tensor of ``v`` in the wanted layout (constants become IR constants, a
        quantized constant an integer constant and a DEQUANTIZE)."""
        if isinstance(v, Const):
            data = np.asarray(v.data)
            if nhwc and data.ndim == 4:
                data = data.transpose(TO_NHWC)
            return self.const_tensor(name or "const", np.ascontiguousarray(data))
        if isinstance(v, QConst):
            data, quant = v.data, v.quant
            if nhwc and data.ndim == 4:
                data = data.transpose(TO_NHWC)
                axis = TO_NCHW[quant.axis] if quant.per_channel else 0
                quant = Quantization(quant.scale, quant.zero_point, axis)
            k = self.const_tensor(name or "qconst", np.ascontiguousarray(data), quant)
            return self.emit("DEQUANTIZE", [k], f"{self.tensors[k].name}_real")
        if v.nhwc == nhwc or len(self.tensors[v.index].shape) != 4:
            return v.index
        key = (v.index, nhwc)
        if key not in self.layout_cache:
            t = self.tensors[v.index]
            perm = self.const_tensor(f"{t.name}_perm", np.array(TO_NHWC if nhwc else TO_NCHW, np.int32))
            name = f"{t.name}_{'nhwc' if nhwc else 'nchw'}"
            self.layout_cache[key] = self.emit("TRANSPOSE", [v.index, perm], name, t.dtype, t.quant)
        return self.layout_cache[key]

    def plain(self, v: Value, name: str = "") -> int:
        """The IR tensor in ONNX's own layout."""
        return self.act(v, False, name)

    def out(self, k: int, nhwc: bool = False) -> Act:
        return Act(k, nhwc and len(self.tensors[k].shape) == 4)

    # --- the graph ------------------------------------------------------------------------------
    def graph(self) -> Graph:
        from edgecraft.formats.onnx_ops import translate

        g = self.model.graph
        inputs = []
        for vi in g.input:
            if vi.name in self.values:  # an initializer listed as an input (old exporters)
                continue
            inputs.append(self.graph_input(vi))
        for node in g.node:
            self.node = node
            got = translate(self, node)
            for name, value in zip(node.output, got, strict=False):
                if name:
                    self.values[name] = value
        self.node = None
        outputs = []
        for vi in g.output:
            v = self.values.get(vi.name)
            if v is None:
                raise self.fail(f"graph output {vi.name!r} is never computed")
            outputs.append(self.plain(v, vi.name))
            self.tensors[outputs[-1]].name = vi.name
        graph = Graph(self.tensors, self.ops, inputs, outputs, name=g.name or "onnx")
        from edgecraft.formats.qdq import cancel_transposes

        return cancel_transposes(graph)

    def graph_input(self, vi: Any) -> int:
        from onnx import helper

        tt = vi.type.tensor_type
        try:
            dtype = str(np.dtype(helper.tensor_dtype_to_np_dtype(tt.elem_type)))
        except Exception:
            dtype = "unknown"
        if dtype not in ("float32", "int8", "uint8", "int16", "int32", "int64", "bool"):
            raise self.fail(f"graph input {vi.name!r} has element type {dtype}; edgecraft takes float32 "
                            "or integers")
        dims = []
        for i, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            elif i == 0:
                dims.append(1)  # a symbolic batch dimension: one sample at a time, as on a device
            else:
                raise self.fail(f"graph input {vi.name!r} has a dynamic dimension {i} "
                                f"({d.dim_param or '?'}); export the model with a fixed input shape")
        k = self.tensor(vi.name, tuple(dims), dtype)
        self.values[vi.name] = Act(k)
        return k
