"""Write the IR as a .tflite flatbuffer that TensorFlow Lite Micro and LiteRT load.

Layout: schema version 3, the main subgraph then the others (``Graph.subgraphs``), buffer 0
empty (TFLite's sentinel), one buffer per constant tensor with its data aligned to 16 bytes,
operator codes with both the deprecated int8 and the int32 builtin code set, and each op's
builtin options from the shared table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
import tflite
from flatbuffers import flexbuffers

from edgecraft.formats.tflite_options import ACTIVATION, DEFAULTS, PADDING, options_of
from edgecraft.formats.tflite_reader import TENSOR_TYPES
from edgecraft.ir.graph import Graph, Operator, Tensor
from edgecraft.ops.signal_common import FLEXBUFFERS

_TYPE_CODES = {v: k for k, v in TENSOR_TYPES.items()}
_PADDING_CODES = {v: k for k, v in PADDING.items()}
_ACTIVATION_CODES = {v: k for k, v in ACTIVATION.items()}


def write_tflite(graph: Graph, external_data: bool = False) -> bytes:
    """Serialize ``graph`` to .tflite bytes.

    With ``external_data`` the constant data goes after the flatbuffer instead of inside it
    (each buffer records its ``offset`` and ``size`` in the file; TFLite's layout for models
    whose weights exceed a flatbuffer's 2 GB). The offsets are only known once the flatbuffer's
    size is, so it is built twice: the offset fields are fixed-width, the size does not change.
    LiteRT and edgecraft's reader load this layout; TFLM's Python package (2026-10) silently
    reads such buffers as empty, so the default keeps the data inside.
    """
    if not external_data:
        return _Writer(graph).build()
    sizes = [t.nbytes for g in _graphs(graph) for t in g.tensors if t.data is not None]
    head = _Writer(graph, [(1, n) for n in sizes]).build()  # placeholder offsets
    offsets, end = [], _align(len(head))
    for n in sizes:
        offsets.append(end)
        end = _align(end + n)
    head = _Writer(graph, list(zip(offsets, sizes, strict=True))).build()
    out = bytearray(head)
    constants = [t.data for g in _graphs(graph) for t in g.tensors if t.data is not None]
    for offset, data in zip(offsets, constants, strict=True):
        out.extend(b"\0" * (offset - len(out)))
        out.extend(np.ascontiguousarray(data).tobytes())
    return bytes(out)


def _graphs(graph: Graph) -> list[Graph]:
    """The model's subgraphs in file order: the main one, then ``graph.subgraphs``."""
    return [graph, *graph.subgraphs]


def _align(n: int, to: int = 16) -> int:
    return -(-n // to) * to


def write_tflite_file(graph: Graph, path: str | Path) -> None:
    """Write ``graph`` as a .tflite file at ``path`` (atomically)."""
    from edgecraft.files import write_bytes

    write_bytes(path, write_tflite(graph))


class _Writer:
    def __init__(self, graph: Graph, external: list[tuple[int, int]] | None = None) -> None:
        self.g = graph
        self.external = external  # (offset, size) per constant, in tensor order
        self.b = flatbuffers.Builder(
            1024 + sum(t.nbytes for g in _graphs(graph) for t in g.tensors if t.is_constant))

    def int_vector(self, values: list[int] | tuple[int, ...]) -> int:
        return self.b.CreateNumpyVector(np.asarray(values, dtype=np.int32))

    def offsets(self, start: Any, offs: list[int]) -> int:
        start(self.b, len(offs))
        for o in reversed(offs):
            self.b.PrependUOffsetTRelative(o)
        return self.b.EndVector()

    def data_vector(self, raw: bytes) -> int:
        b = self.b
        b.StartVector(1, len(raw), 16)
        b.head = b.head - len(raw)
        b.Bytes[b.head : b.head + len(raw)] = raw
        b.vectorNumElems = len(raw)
        return b.EndVector()

    def build(self) -> bytes:
        b = self.b
        graphs = _graphs(self.g)
        # Op codes in first-use order.
        codes: list[tuple[str, int]] = []
        for g in graphs:
            for op in g.operators:
                if (op.type, op.version) not in codes:
                    codes.append((op.type, op.version))
        # Buffers: 0 is the empty sentinel, then one per constant tensor, subgraph by subgraph.
        buffer_offs = [self.buffer(None)]
        subgraph_offs = []
        for g in graphs:
            buffer_of: dict[int, int] = {}
            for i, t in enumerate(g.tensors):
                if t.data is not None:
                    buffer_of[i] = len(buffer_offs)
                    if self.external is not None:
                        buffer_offs.append(self.external_buffer(*self.external[len(buffer_offs) - 1]))
                    else:
                        buffer_offs.append(self.buffer(t.data))
            subgraph_offs.append(self.subgraph(g, buffer_of, codes))

        code_offs = [self.op_code(name, version) for name, version in codes]
        subgraphs = self.offsets(tflite.ModelStartSubgraphsVector, subgraph_offs)
        op_codes = self.offsets(tflite.ModelStartOperatorCodesVector, code_offs)
        buffers = self.offsets(tflite.ModelStartBuffersVector, buffer_offs)
        desc = b.CreateString(self.g.description or "edgecraft")
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, op_codes)
        tflite.ModelAddSubgraphs(b, subgraphs)
        tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buffers)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    def subgraph(self, g: Graph, buffer_of: dict[int, int], codes: list[tuple[str, int]]) -> int:
        b = self.b
        tensor_offs = [self.tensor(t, buffer_of.get(i, 0)) for i, t in enumerate(g.tensors)]
        op_offs = [self.operator(op, codes.index((op.type, op.version))) for op in g.operators]
        tensors = self.offsets(tflite.SubGraphStartTensorsVector, tensor_offs)
        operators = self.offsets(tflite.SubGraphStartOperatorsVector, op_offs)
        inputs, outputs = self.int_vector(g.inputs), self.int_vector(g.outputs)
        name = b.CreateString(g.name or "main")
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors)
        tflite.SubGraphAddOperators(b, operators)
        tflite.SubGraphAddInputs(b, inputs)
        tflite.SubGraphAddOutputs(b, outputs)
        tflite.SubGraphAddName(b, name)
        return int(tflite.SubGraphEnd(b))

    def buffer(self, data: np.ndarray | None) -> int:
        vec = None if data is None else self.data_vector(np.ascontiguousarray(data).tobytes())
        tflite.BufferStart(self.b)
        if vec is not None:
            tflite.BufferAddData(self.b, vec)
        return tflite.BufferEnd(self.b)

    def external_buffer(self, offset: int, size: int) -> int:
        tflite.BufferStart(self.b)
        tflite.BufferAddOffset(self.b, offset)
        tflite.BufferAddSize(self.b, size)
        return tflite.BufferEnd(self.b)

    def op_code(self, name: str, version: int) -> int:
        custom = None if hasattr(tflite.BuiltinOperator, name) else self.b.CreateString(name)
        code = tflite.BuiltinOperator.CUSTOM if custom is not None else getattr(tflite.BuiltinOperator, name)
        tflite.OperatorCodeStart(self.b)
        if custom is not None:  # a custom op (TFLM's signal library): its name is the code
            tflite.OperatorCodeAddCustomCode(self.b, custom)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(self.b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(self.b, code)
        tflite.OperatorCodeAddVersion(self.b, version)
        return tflite.OperatorCodeEnd(self.b)

    def tensor(self, t: Tensor, buffer: int) -> int:
        b = self.b
        quant = self.quantization(t)
        name = b.CreateString(t.name)
        shape = self.int_vector(t.shape)
        sig = self.int_vector(t.shape_signature) if t.shape_signature is not None else None
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        if sig is not None:
            tflite.TensorAddShapeSignature(b, sig)
        tflite.TensorAddType(b, _TYPE_CODES[t.dtype])
        tflite.TensorAddBuffer(b, buffer)
        tflite.TensorAddName(b, name)
        if t.variable:
            tflite.TensorAddIsVariable(b, True)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        return tflite.TensorEnd(b)

    def quantization(self, t: Tensor) -> int | None:
        if t.quant is None:
            return None
        b = self.b
        scale = b.CreateNumpyVector(t.quant.scale.astype(np.float32))
        zp = b.CreateNumpyVector(t.quant.zero_point.astype(np.int64))
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, scale)
        tflite.QuantizationParametersAddZeroPoint(b, zp)
        tflite.QuantizationParametersAddQuantizedDimension(b, t.quant.axis)
        return tflite.QuantizationParametersEnd(b)

    def operator(self, op: Operator, code_index: int) -> int:
        b = self.b
        custom = self.custom_options(op)
        options = None if custom is not None else self.options(op)
        inputs, outputs = self.int_vector(op.inputs), self.int_vector(op.outputs)
        tflite.OperatorStart(b)
        if custom is not None:
            tflite.OperatorAddCustomOptions(b, custom)
            tflite.OperatorAddCustomOptionsFormat(b, tflite.CustomOptionsFormat.FLEXBUFFERS)
        tflite.OperatorAddOpcodeIndex(b, code_index)
        tflite.OperatorAddInputs(b, inputs)
        tflite.OperatorAddOutputs(b, outputs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, options[0])
            tflite.OperatorAddBuiltinOptions(b, options[1])
        return tflite.OperatorEnd(b)

    def custom_options(self, op: Operator) -> int | None:
        """A custom op's options as a flexbuffer map (keys in order, as TFLM reads them by
        position); None for a builtin op."""
        table, fields = options_of(op.type)
        if table != FLEXBUFFERS:
            return None
        values = {key: (bool(op.attrs[attr]) if kind == "bool" else int(op.attrs[attr]))
                  for attr, key, kind in fields if attr in op.attrs}
        return int(self.b.CreateNumpyVector(np.frombuffer(bytes(flexbuffers.Dumps(values)), np.uint8)))

    def options(self, op: Operator) -> tuple[int, int] | None:
        table, fields = options_of(op.type)
        if table is None:
            return None
        b = self.b
        vectors = {
            attr: self.int_vector(op.attrs.get(attr, DEFAULTS[attr]))  # type: ignore[arg-type]
            for attr, _, kind in fields
            if kind == "ints"
        }
        vectors.update({attr: b.CreateString(str(op.attrs.get(attr, DEFAULTS[attr])))
                        for attr, _, kind in fields if kind == "string"})
        getattr(tflite, table + "Start")(b)
        for attr, field, kind in fields:
            add = getattr(tflite, f"{table}Add{field}")
            if kind in ("ints", "string"):
                add(b, vectors[attr])
                continue
            value = op.attrs.get(attr, DEFAULTS[attr])
            if kind == "padding":
                value = _PADDING_CODES[value]
            elif kind == "activation":
                value = _ACTIVATION_CODES[value]
            add(b, value)
        return getattr(tflite.BuiltinOptions, table), getattr(tflite, table + "End")(b)
