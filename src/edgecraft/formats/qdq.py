"""QDQ graphs to full int8: fold ``DEQUANTIZE -> float op -> QUANTIZE`` into the int8 op.

A graph read from an ONNX QDQ model (or made by edgecraft's IR-level PTQ, which writes the same
form) computes every op in float between dequantize and quantize steps. :func:`fold_qdq` gives
each op the integer tensors directly: its inputs are what the DEQUANTIZE steps read (int8
activations, int8 weights, int32 biases), its output is what the QUANTIZE step writes. Where
TFLite Micro's int8 kernel fixes the output quantization (SOFTMAX, LOGISTIC, TANH:
``OpDef.fixed_output``) or needs the input's (``OpDef.shares_quant``: reshapes, transposes,
pools, padding, concatenation), the op gets that quantization and a QUANTIZE (int8 -> int8)
step moves the result to the model's; that requantization is the one place the int8 graph is
not exactly the QDQ model's arithmetic, and it rounds like any other int8 op. A float graph
input read only by QUANTIZE steps becomes an int8 input; a graph output made by a DEQUANTIZE
becomes its int8 tensor.
"""

from __future__ import annotations

import copy

import numpy as np

from edgecraft.ir.graph import Graph, Operator, Quantization, Tensor
from edgecraft.ops.registry import find_op


def _same(a: Quantization | None, b: Quantization | None) -> bool:
    return (a is not None and b is not None and np.array_equal(a.scale, b.scale)
            and np.array_equal(a.zero_point, b.zero_point))


class _Folder:
    def __init__(self, graph: Graph) -> None:
        self.g = copy.deepcopy(graph)
        self.ops: list[Operator] = []
        self.real_of: dict[int, int] = {}  # float tensor -> the integer tensor it dequantizes
        self.alias: dict[int, int] = {}
        self.done: set[int] = set()  # QUANTIZE ops already absorbed, by id
        self.consumers: dict[int, list[Operator]] = {}
        for op in self.g.operators:
            for k in op.inputs:
                self.consumers.setdefault(k, []).append(op)

    def t(self, k: int) -> Tensor:
        return self.g.tensors[k]

    def new(self, like: int, quant: Quantization, suffix: str) -> int:
        t = self.t(like)
        return self.g.add_tensor(Tensor(f"{t.name}_{suffix}", t.shape, "int8", None, quant))

    def requant(self, src: int, dst: int) -> None:
        """``dst`` holds ``src`` requantized (or is ``src``, when they agree)."""
        if _same(self.t(src).quant, self.t(dst).quant):
            self.alias[dst] = src
        else:
            self.ops.append(Operator("QUANTIZE", [src], [dst]))

    def int_input(self, k: int) -> int | None:
        """The integer tensor behind input ``k``, or None when it is a plain float value."""
        k = self.alias.get(k, k)
        t = self.t(k)
        if t.dtype != "float32":
            return k
        return self.real_of.get(k)

    def fold(self) -> Graph:
        g = self.g
        for op in g.operators:
            if op.type == "DEQUANTIZE" and self.t(op.inputs[0]).quant is not None:
                self.real_of[op.outputs[0]] = op.inputs[0]
        for op in g.operators:
            if id(op) in self.done:
                continue
            if op.type == "QUANTIZE" and self.t(op.outputs[0]).dtype == "int8":
                src = self.int_input(op.inputs[0])
                if src is not None:
                    self.requant(src, op.outputs[0])
                    continue
            if not self.fold_op(op):
                self.ops.append(op)
        self.cut_io()
        for op in self.ops:
            op.inputs = [self.alias.get(k, k) for k in op.inputs]
        g.outputs = [self.alias.get(k, k) for k in g.outputs]
        g.operators = self.ops
        return compact(g)

    def fold_op(self, op: Operator) -> bool:
        """Give ``op`` its integer tensors; False when it stays as it is."""
        if op.type in ("QUANTIZE", "DEQUANTIZE") or len(op.outputs) != 1:
            return False
        if self.t(op.outputs[0]).dtype != "float32":
            return False
        ins = []
        for k in op.inputs:
            if k == -1:
                ins.append(-1)
                continue
            got = self.int_input(k) if (self.t(k).dtype == "float32" or k in self.alias) else k
            if got is None:
                return False
            ins.append(got)
        acts = [k for k in ins if k != -1 and not self.t(k).is_constant and self.t(k).quant is not None]
        out = op.outputs[0]
        users = self.consumers.get(out, [])
        qs = [u for u in users if u.type == "QUANTIZE" and self.t(u.outputs[0]).dtype == "int8"]
        target = qs[0].outputs[0] if qs and len(qs) == len(users) and out not in self.g.outputs else None
        opdef = find_op(op.type)
        if opdef is None or (target is None and not (opdef.shares_quant or opdef.fixed_output)) or not acts:
            return False
        if opdef.fixed_output is not None:
            scale, zp = opdef.fixed_output
            result = self.new(out, Quantization.per_tensor(scale, zp), "int8")
        elif opdef.shares_quant:
            quant = self.t(target).quant if target is not None and len(acts) > 1 else self.t(acts[0]).quant
            assert quant is not None
            for i, k in enumerate(ins):
                if k in acts and not _same(self.t(k).quant, quant):
                    ins[i] = self.new(k, quant, "requantized")
                    self.ops.append(Operator("QUANTIZE", [k], [ins[i]]))
            result = self.new(out, quant, "int8")
        else:
            assert target is not None
            result = target
        op.inputs, op.outputs = ins, [result]
        self.check_bias(op)
        self.ops.append(op)
        if target is None:
            self.real_of[out] = result
            return True
        for q in qs:
            self.done.add(id(q))
            if q.outputs[0] != result:
                self.requant(result, q.outputs[0])
        return True

    def check_bias(self, op: Operator) -> None:
        """TFLM reads an int32 bias at scale ``input_scale * weight_scale`` whatever its own
        scale says; a bias quantized at another scale is rescaled to it (rounded: the one
        inexact step, warned about)."""
        if len(op.inputs) < 3 or -1 in op.inputs[:3]:
            return
        x, w, b = (self.t(k) for k in op.inputs[:3])
        if b.dtype != "int32" or b.data is None or b.quant is None or w.quant is None or x.quant is None:
            return
        want = (np.float32(x.quant.scale[0]) * w.quant.scale.astype(np.float32)).astype(np.float64)
        have = b.quant.scale.astype(np.float64)
        if want.shape != have.shape and have.size != 1:
            return
        if np.allclose(have, want, rtol=1e-5, atol=0):
            return
        import warnings

        real = b.data.astype(np.float64) * have
        data = np.clip(np.round(real / want), -(2**31), 2**31 - 1).astype(np.int32)
        c = int(np.argmax(np.abs(np.broadcast_to(have, want.shape) / want - 1)))
        stated = float(have.ravel()[min(c, have.size - 1)])
        warnings.warn(f"bias {b.name!r} is quantized at scale {stated:.9g} "
                      f"but TFLite Micro reads it at input scale x weight scale {float(want[c]):.9g} "
                      f"(channel {c}); rescaled (rounded)", stacklevel=2)
        quant = Quantization(want.astype(np.float32), np.zeros(len(want)), 0)
        op.inputs[2] = self.g.add_tensor(Tensor(f"{b.name}_rescaled", b.shape, "int32", data, quant))

    def cut_io(self) -> None:
        g = self.g
        for i, k in enumerate(g.inputs):
            users = self.consumers.get(k, [])
            if self.t(k).dtype != "float32" or not users or any(u.type != "QUANTIZE" for u in users):
                continue
            first = users[0].outputs[0]
            g.inputs[i] = first
            self.ops = [op for op in self.ops if op is not users[0]]
            for u in users[1:]:
                for op in self.ops:
                    if op is u:
                        op.inputs = [first]
        for i, k in enumerate(g.outputs):
            src = self.real_of.get(k)
            if src is not None and not self.t(src).is_constant:
                g.outputs[i] = src


def fold_qdq(graph: Graph) -> Graph:
    """A copy of ``graph`` with every quantized float op made an int8 op (see the module doc);
    ops that cannot be folded are left as they are (see :func:`float_left`)."""
    return cancel_transposes(_Folder(graph).fold())


def float_left(graph: Graph) -> list[int]:
    """Indices of operators that still read or write float32 tensors."""
    return [j for j, op in enumerate(graph.operators)
            if any(k != -1 and graph.tensors[k].dtype == "float32" for k in [*op.inputs, *op.outputs])]


def cancel_transposes(graph: Graph) -> Graph:
    """``graph`` without TRANSPOSE pairs that undo each other (the reader's layout changes) and
    without RESHAPEs to the shape they start from, PADV2 padding with a real 0 as PAD, renumbered."""
    producer = {k: op for op in graph.operators for k in op.outputs}
    alias: dict[int, int] = {}
    for op in graph.operators:
        if op.type == "PADV2" and len(op.inputs) > 2 and op.inputs[2] != -1:
            value, out = graph.tensors[op.inputs[2]].data, graph.tensors[op.outputs[0]]
            if value is not None and out.quant is not None and int(np.asarray(value).reshape(-1)[0]) == (
                    out.zero_point) and out.dtype != "float32":
                op.type, op.inputs = "PAD", op.inputs[:2]  # padding with a real 0: plain PAD
        if op.outputs[0] in graph.outputs:
            continue
        if op.type in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS") and _same_or_none(
                graph.tensors[op.inputs[0]].quant, graph.tensors[op.outputs[0]].quant) and (
                graph.tensors[op.inputs[0]].shape == graph.tensors[op.outputs[0]].shape):
            alias[op.outputs[0]] = alias.get(op.inputs[0], op.inputs[0])
            continue
        if op.type != "TRANSPOSE":
            continue
        first = producer.get(op.inputs[0])
        if first is None or first.type != "TRANSPOSE":
            continue
        p1 = graph.tensors[first.inputs[1]].data
        p2 = graph.tensors[op.inputs[1]].data
        if p1 is None or p2 is None or len(p1) != len(p2):
            continue
        if list(np.asarray(p1)[np.asarray(p2)]) == list(range(len(p1))) and _same_or_none(
                graph.tensors[first.inputs[0]].quant, graph.tensors[op.outputs[0]].quant):
            alias[op.outputs[0]] = alias.get(first.inputs[0], first.inputs[0])
    for op in graph.operators:
        op.inputs = [alias.get(k, k) for k in op.inputs]
    return compact(graph)


def _same_or_none(a: Quantization | None, b: Quantization | None) -> bool:
    return (a is None and b is None) or _same(a, b)


def compact(graph: Graph) -> Graph:
    """``graph`` without operators whose results nobody reads and without unused tensors,
    renumbered."""
    ops = list(graph.operators)
    while True:
        read = {k for op in ops for k in op.inputs} | set(graph.outputs)
        live = [op for op in ops if any(k in read for k in op.outputs)]
        if len(live) == len(ops):
            break
        ops = live
    used = sorted({k for op in ops for k in [*op.inputs, *op.outputs] if k != -1}
                  | set(graph.inputs) | set(graph.outputs))
    index = {k: i for i, k in enumerate(used)}
    for op in ops:
        op.inputs = [index[k] if k != -1 else -1 for k in op.inputs]
        op.outputs = [index[k] for k in op.outputs]
    return Graph([graph.tensors[k] for k in used], ops, [index[k] for k in graph.inputs],
                 [index[k] for k in graph.outputs], graph.name, graph.description)
