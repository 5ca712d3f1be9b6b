"""Read a .tflite flatbuffer into the IR.

Untrusted bytes go through checks before any value is used: the file identifier, every vector
length against the file size (so a corrupt length cannot make a loop run for hours), every
buffer, tensor and op-code index against its table, and every constant's size against its
shape; then the graph's structure, its size (see :func:`edgecraft.ir.validate.memory_limit`)
and every op's shape rule against the shapes it declares. Whatever slips past those and makes
the generated flatbuffer accessors fail is turned into a :class:`ModelFormatError` too: reading
a model never ends in a bare traceback.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import tflite
from flatbuffers import flexbuffers

from edgecraft.formats.tflite_options import ACTIVATION, PADDING, options_of
from edgecraft.ir.graph import Graph, Operator, Quantization, Tensor
from edgecraft.ir.validate import GraphError, validate
from edgecraft.ops.base import OpError
from edgecraft.ops.registry import check_shapes, supported_ops
from edgecraft.ops.signal_common import FLEXBUFFERS
from edgecraft.ops.subgraph import check_subgraph_calls

#: TFLite TensorType code -> IR dtype (the types the runtime handles).
TENSOR_TYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8",
                13: "resource",
                12: "uint64", 15: "uint32"}
_TYPE_NAMES = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
_OP_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class ModelFormatError(ValueError):
    """The file is not a model edgecraft can read; the message says why and what to do."""


def read_tflite(path: str | Path) -> Graph:
    """Read the .tflite file at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ModelFormatError(f"cannot read {path}: {e.strerror}") from None
    return read_tflite_bytes(data, source=str(path))


def read_tflite_bytes(data: bytes, source: str = "model") -> Graph:
    """Parse .tflite bytes into a :class:`Graph` (subgraph 0, the others in its ``subgraphs``)."""
    if len(data) < 8:
        raise ModelFormatError(f"{source}: {len(data)} bytes is too short to be a .tflite model")
    if data[4:8] != b"TFL3":
        raise ModelFormatError(
            f"{source}: not a .tflite model (file identifier {data[4:8]!r}, expected b'TFL3')"
        )
    try:
        graph = _Reader(data, source).graph()
        for i, g in enumerate([graph, *graph.subgraphs]):
            try:
                validate(g)
                check_shapes(g)
            except (GraphError, OpError) as e:
                raise type(e)(f"subgraph {i}: {e}" if i else str(e)) from None
        check_subgraph_calls(graph)
        return graph
    except ModelFormatError:
        raise
    except (GraphError, OpError) as e:
        raise ModelFormatError(f"{source}: inconsistent model: {e}") from None
    except Exception as e:
        raise ModelFormatError(
            f"{source}: corrupt .tflite flatbuffer ({type(e).__name__}: {e}); "
            "re-export the model or check the file was copied whole"
        ) from None


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.buf = bytearray(data)
        self.source = source
        self.model = tflite.Model.GetRootAs(self.buf, 0)

    def fail(self, msg: str) -> ModelFormatError:
        return ModelFormatError(f"{self.source}: {msg}")

    def length(self, n: int, what: str) -> int:
        if not 0 <= n <= len(self.buf):
            raise self.fail(f"{what} claims {n} entries in a {len(self.buf)}-byte file: corrupt")
        return n

    def ints(self, obj: Any, field: str, what: str) -> list[int]:
        n = self.length(getattr(obj, field + "Length")(), what)
        if n == 0:
            return []
        return [int(v) for v in getattr(obj, field + "AsNumpy")()]

    def graph(self) -> Graph:
        m = self.model
        n_graphs = self.length(m.SubgraphsLength(), "subgraph list")
        if n_graphs == 0:
            raise self.fail("the model has no subgraph")
        n_buffers = self.length(m.BuffersLength(), "buffer list")
        n_codes = self.length(m.OperatorCodesLength(), "operator-code list")
        for b in range(n_buffers):  # touch every buffer so a truncated file cannot pass
            self.buffer_extent(b)
        codes = [self.op_code(m.OperatorCodes(i)) for i in range(n_codes)]
        graphs = [self.subgraph(m.Subgraphs(i), i, codes, n_buffers) for i in range(n_graphs)]
        main = graphs[0]
        main.description = (m.Description() or b"").decode("utf-8", "replace")
        main.subgraphs = graphs[1:]
        return main

    def subgraph(self, sg: Any, index: int, codes: list[tuple[str, int]], n_buffers: int) -> Graph:
        where = f"subgraph {index} " if index else ""
        n_tensors = self.length(sg.TensorsLength(), f"{where}tensor list")
        tensors = [self.tensor(sg.Tensors(i), i, n_buffers) for i in range(n_tensors)]
        ops = [
            self.operator(sg.Operators(j), j, codes, n_tensors)
            for j in range(self.length(sg.OperatorsLength(), f"{where}operator list"))
        ]
        inputs = self.ints(sg, "Inputs", f"{where}subgraph input list")
        outputs = self.ints(sg, "Outputs", f"{where}subgraph output list")
        for k in inputs + outputs:
            if not 0 <= k < n_tensors:
                raise self.fail(
                    f"{where}subgraph input/output tensor index {k} is out of range (0..{n_tensors - 1})"
                )
        name = (sg.Name() or b"").decode("utf-8", "replace")
        return Graph(tensors, ops, inputs, outputs, name=name)

    def op_code(self, code: Any) -> tuple[str, int]:
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        name = _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM":  # a custom op edgecraft knows is named by its code (SignalWindow)
            custom = (code.CustomCode() or b"").decode("utf-8", "replace")
            name = custom if custom in supported_ops() and not hasattr(tflite.BuiltinOperator, custom) \
                else f"CUSTOM({custom})"
        return name, int(code.Version())

    def operator(self, op: Any, j: int, codes: list[tuple[str, int]], n_tensors: int) -> Operator:
        idx = op.OpcodeIndex()
        if not 0 <= idx < len(codes):
            raise self.fail(f"operator {j} uses op-code {idx}, but the model has {len(codes)}")
        name, version = codes[idx]
        if name not in supported_ops():
            raise self.fail(
                f"operator {j} is {name}, which edgecraft does not support; "
                f"supported ops: {', '.join(supported_ops())}"
            )
        inputs = self.ints(op, "Inputs", f"operator {j} input list")
        outputs = self.ints(op, "Outputs", f"operator {j} output list")
        for k in inputs + outputs:
            if k != -1 and not 0 <= k < n_tensors:
                raise self.fail(f"operator {j} ({name}) refers to tensor {k}, but there are {n_tensors}")
        return Operator(name, inputs, outputs, self.options(op, name), version=version)

    def options(self, op: Any, name: str) -> dict[str, Any]:
        table, fields = options_of(name)
        attrs: dict[str, Any] = {}
        if table is None or not fields:
            return attrs
        if table == FLEXBUFFERS:
            return self.custom_options(op, name, fields)
        raw = op.BuiltinOptions()
        opts = getattr(tflite, table)()
        if raw is not None:
            opts.Init(raw.Bytes, raw.Pos)
        else:  # absent table: every field at its schema default
            opts = None
        for attr, field, kind in fields:
            if kind == "ints":
                attrs[attr] = self.ints(opts, field, f"{name} {attr}") if opts is not None else []
                continue
            value = getattr(opts, field)() if opts is not None else getattr(_empty_table(table), field)()
            if kind in ("padding", "activation"):
                codes = PADDING if kind == "padding" else ACTIVATION
                if int(value) not in codes:
                    raise self.fail(f"{name} has {attr} code {int(value)}, which TFLite does not define "
                                    f"(known: {', '.join(f'{k} {v}' for k, v in codes.items())})")
                value = codes[int(value)]
            elif kind == "bool":
                value = bool(value)
            elif kind == "string":
                value = (value or b"").decode("utf-8", "replace")
            elif kind == "float":
                value = float(np.float32(value))
            else:
                value = int(value)
            attrs[attr] = value
        return attrs

    def custom_options(self, op: Any, name: str, fields: tuple[tuple[str, str, str], ...]) -> dict[str, Any]:
        """A custom op's flexbuffer map: each field's key, converted by its kind."""
        n = self.length(op.CustomOptionsLength(), f"{name} custom options")
        raw = op.CustomOptionsAsNumpy().tobytes() if n else b""
        try:
            value = flexbuffers.Loads(raw) if raw else {}
        except Exception as e:
            raise self.fail(f"{name} has unreadable custom options ({type(e).__name__}: {e})") from None
        if not isinstance(value, dict):
            raise self.fail(f"{name}'s custom options are not a flexbuffer map")
        attrs: dict[str, Any] = {}
        for attr, key, kind in fields:
            if key not in value:
                raise self.fail(f"{name} lacks the {key!r} option in its custom options")
            v = value[key]
            if not isinstance(v, int | bool):
                raise self.fail(f"{name} option {key!r} must be an integer or bool, got {v!r}")
            attrs[attr] = bool(v) if kind == "bool" else int(v)
        return attrs

    def tensor(self, t: Any, i: int, n_buffers: int) -> Tensor:
        name = (t.Name() or b"").decode("utf-8", "replace")
        code = int(t.Type())
        if code not in TENSOR_TYPES:
            raise self.fail(
                f"tensor {i} ({name!r}) has type {_TYPE_NAMES.get(code, code)}, which edgecraft "
                f"does not support (supported: {', '.join(sorted(TENSOR_TYPES.values()))})"
            )
        dtype = TENSOR_TYPES[code]
        shape = tuple(self.ints(t, "Shape", f"tensor {i} shape"))
        if any(d < 0 for d in shape):
            raise self.fail(f"tensor {i} ({name!r}) has a negative dimension in shape {list(shape)}")
        sig = tuple(self.ints(t, "ShapeSignature", f"tensor {i} shape signature")) or None
        data = self.buffer(t.Buffer(), i, name, dtype, shape, n_buffers)
        variable = bool(t.IsVariable())
        if variable:  # TFLM allocates state itself and zeroes it: a buffer's bytes are never read
            data = None
        return Tensor(name, shape, dtype, data, self.quantization(t, i), sig if sig != shape else None,
                      variable=variable)

    def buffer_extent(self, b: int) -> None:
        buf = self.model.Buffers(b)
        offset, size = int(buf.Offset()), int(buf.Size())
        if offset > 1 and offset + size > len(self.buf):
            raise self.fail(f"buffer {b} lies past the end of the file: truncated?")
        self.length(buf.DataLength(), f"buffer {b}")

    def buffer(
        self, b: int, i: int, name: str, dtype: str, shape: tuple[int, ...], n_buffers: int
    ) -> np.ndarray | None:
        if b == 0:
            return None
        if not 0 <= b < n_buffers:
            raise self.fail(f"tensor {i} ({name!r}) uses buffer {b}, but the model has {n_buffers}")
        buf = self.model.Buffers(b)
        offset, size = int(buf.Offset()), int(buf.Size())
        if offset > 1:  # data appended after the flatbuffer
            if offset + size > len(self.buf):
                raise self.fail(f"buffer {b} lies past the end of the file: truncated?")
            raw = bytes(self.buf[offset : offset + size])
        else:
            n = self.length(buf.DataLength(), f"buffer {b}")
            if n == 0:
                return None
            raw = buf.DataAsNumpy().tobytes()
        itemsize = np.dtype(dtype).itemsize
        count = int(np.prod(shape, dtype=np.int64))
        if len(raw) != count * itemsize:
            raise self.fail(
                f"tensor {i} ({name!r}) has {len(raw)} bytes of data but its shape {list(shape)} "
                f"of {dtype} needs {count * itemsize}"
            )
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()

    def quantization(self, t: Any, i: int) -> Quantization | None:
        q = t.Quantization()
        if q is None:
            return None
        n_scale = self.length(q.ScaleLength(), f"tensor {i} scales")
        n_zp = self.length(q.ZeroPointLength(), f"tensor {i} zero points")
        if n_scale == 0:
            return None
        scale = q.ScaleAsNumpy().astype(np.float32)
        zp = q.ZeroPointAsNumpy().astype(np.int64) if n_zp else np.zeros(n_scale, np.int64)
        return Quantization(scale, zp, int(q.QuantizedDimension()))


@cache
def _empty_table(table: str) -> Any:
    """An options table with no fields set, for reading schema defaults."""
    import flatbuffers

    b = flatbuffers.Builder(64)
    getattr(tflite, table + "Start")(b)
    b.Finish(getattr(tflite, table + "End")(b))
    obj = getattr(tflite, table)()
    out = b.Output()
    obj.Init(bytearray(out), int.from_bytes(out[:4], "little"))
    return obj

