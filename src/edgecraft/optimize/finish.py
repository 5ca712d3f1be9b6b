"""Finish full-int8 conversion in the IR: what PT2E leaves in float becomes int8.

litert-torch's PT2E path quantizes convolutions, fully connected layers, pooling and the like,
but leaves SOFTMAX (and LOGISTIC, TANH) in float between a DEQUANTIZE and, mid-graph, a
QUANTIZE. Those ops have int8 kernels in TFLM whose output quantization is fixed by the op
(SOFTMAX and LOGISTIC: scale 1/256, zero point -128; TANH: 1/128, 0), so the float island

    x:int8 -> DEQUANTIZE -> OP(float) [-> QUANTIZE -> y:int8]

is rewritten as ``x -> OP(int8, fixed output quantization) [-> QUANTIZE int8->int8 -> y]``;
the requantize step is dropped when nothing needs it (graph output, or equal parameters).
nn.Hardsigmoid, lowered to a float ``ADD(+3, RELU6) -> MUL(1/6)`` island, becomes the same two
ops in int8 (:func:`_fold_hard_sigmoid`). Float graph inputs consumed by one QUANTIZE and float
graph outputs produced by a DEQUANTIZE are cut off, so the graph takes and returns int8. This
module is pure IR: no torch.
"""

from __future__ import annotations

import copy

import numpy as np

from edgecraft.ir.graph import Graph, Operator, Quantization, Tensor
from edgecraft.ops.registry import find_op, supported_ops


def fixed_output(op_type: str) -> tuple[float, int] | None:
    """The (output scale, output zero point) TFLM's int8 kernel of ``op_type`` requires
    (``OpDef.fixed_output``), or None when the op does not fix them."""
    op = find_op(op_type)
    return op.fixed_output if op is not None else None


def finish_int8(graph: Graph) -> Graph:
    """A copy of ``graph`` with float islands of ops with a fixed output quantization (SOFTMAX,
    LOGISTIC, TANH) and float I/O made int8."""
    g = copy.deepcopy(graph)
    _fold_float_islands(g)
    _fold_hard_sigmoid(g)
    _cut_io(g)
    return compact(g)


def float_ops(graph: Graph) -> list[tuple[int, Operator]]:
    """Operators that read or write a float32 tensor, that edgecraft does not support, or that
    have no kernel for their input's type (an int8 EXP, say)."""
    known = set(supported_ops())
    found = []
    for j, op in enumerate(graph.operators):
        tensors = [graph.tensors[k] for k in [*op.inputs, *op.outputs] if k != -1]
        record = find_op(op.type) if op.type in known else None
        first = graph.tensors[op.inputs[0]].dtype if op.inputs and op.inputs[0] != -1 else "float32"
        if record is None or first not in record.kernels or any(t.dtype == "float32" for t in tensors):
            found.append((j, op))
    return found


def _consumers(g: Graph, k: int) -> list[Operator]:
    return [op for op in g.operators if k in op.inputs]


def _producer(g: Graph, k: int) -> Operator | None:
    return next((op for op in g.operators if k in op.outputs), None)


def _fold_float_islands(g: Graph) -> None:
    for op in list(g.operators):
        fixed_qparams = fixed_output(op.type)
        if fixed_qparams is None or g.tensors[op.inputs[0]].dtype != "float32":
            continue
        deq = _producer(g, op.inputs[0])
        if deq is None or deq.type != "DEQUANTIZE" or len(_consumers(g, op.inputs[0])) != 1:
            continue
        src = deq.inputs[0]
        if g.tensors[src].dtype != "int8":
            continue
        scale, zp = fixed_qparams
        fixed = Quantization.per_tensor(scale, zp)
        out = g.tensors[op.outputs[0]]
        users = _consumers(g, op.outputs[0])
        requant = users[0] if len(users) == 1 and users[0].type == "QUANTIZE" else None
        op.inputs[0] = src
        g.operators.remove(deq)
        out.dtype, out.quant = "int8", fixed
        if requant is None:
            continue
        target = g.tensors[requant.outputs[0]]
        same = target.quant is not None and np.float32(target.scale) == np.float32(scale) \
            and target.zero_point == zp and target.dtype == "int8"
        free = requant.outputs[0] in g.outputs and not _consumers(g, requant.outputs[0])
        if same or free or op.outputs[0] in g.outputs:
            # Nothing downstream needs other parameters: the QUANTIZE goes away.
            _replace_uses(g, requant.outputs[0], op.outputs[0])
            g.operators.remove(requant)
        # else the QUANTIZE stays and now requantizes int8 -> int8


def _constant_value(g: Graph, k: int) -> float | None:
    t = g.tensors[k]
    if t.data is None or t.dtype != "float32" or t.data.size != 1:
        return None
    return float(t.data.reshape(-1)[0])


def _int8_constant(g: Graph, value: float, name: str) -> int:
    """A new int8 scalar constant holding ``value`` exactly (q = 127, scale = value / 127)."""
    g.tensors.append(Tensor(name, (), "int8", np.array(127, np.int8),
                            Quantization.per_tensor(value / 127.0, 0)))
    return len(g.tensors) - 1


def _fold_hard_sigmoid(g: Graph) -> None:
    """``x:int8 -> DEQUANTIZE -> ADD(+3, RELU6) -> MUL(*1/6) -> QUANTIZE -> y:int8`` (how the
    converter lowers nn.Hardsigmoid, left in float by PT2E) becomes ``ADD(x, 3; RELU6) -> t:int8
    -> MUL(t, 1/6) -> y``. ``t`` is quantized on ``y``'s grid times six (scale 6 * y_scale, the
    same zero point), so the product only rescales and ``y`` keeps the parameters PT2E chose."""
    for deq in [op for op in g.operators if op.type == "DEQUANTIZE"]:
        x, a = deq.inputs[0], deq.outputs[0]
        add = _consumers(g, a)
        if g.tensors[x].dtype != "int8" or len(add) != 1 or add[0].type != "ADD" \
                or add[0].attrs.get("fused_activation_function") != "RELU6":
            continue
        three = [k for k in add[0].inputs if k != a]
        if len(three) != 1 or _constant_value(g, three[0]) != 3.0:
            continue
        mul = _consumers(g, add[0].outputs[0])
        if len(mul) != 1 or mul[0].type != "MUL" \
                or mul[0].attrs.get("fused_activation_function", "NONE") != "NONE":
            continue
        sixth = [k for k in mul[0].inputs if k != add[0].outputs[0]]
        value = _constant_value(g, sixth[0]) if len(sixth) == 1 else None
        if value is None or abs(value - 1.0 / 6.0) > 1e-6:
            continue
        quant = _consumers(g, mul[0].outputs[0])
        if len(quant) != 1 or quant[0].type != "QUANTIZE":
            continue
        y = g.tensors[quant[0].outputs[0]]
        if y.dtype != "int8" or y.quant is None or y.quant.per_channel:
            continue
        t = g.tensors[add[0].outputs[0]]
        t.dtype, t.quant = "int8", Quantization.per_tensor(6.0 * y.scale, y.zero_point)
        t.name = f"{y.name.split(';')[0]}/times6"  # not the module's output: y is
        add[0].inputs = [x, _int8_constant(g, 3.0, f"{t.name}/three")]
        mul[0].inputs = [add[0].outputs[0], _int8_constant(g, value, f"{t.name}/sixth")]
        mul[0].outputs = [quant[0].outputs[0]]
        g.operators.remove(deq)
        g.operators.remove(quant[0])


def _replace_uses(g: Graph, old: int, new: int) -> None:
    for op in g.operators:
        op.inputs = [new if k == old else k for k in op.inputs]
    g.outputs = [new if k == old else k for k in g.outputs]


def _cut_io(g: Graph) -> None:
    for pos, k in enumerate(list(g.inputs)):
        users = _consumers(g, k)
        if g.tensors[k].dtype == "float32" and len(users) == 1 and users[0].type == "QUANTIZE":
            g.inputs[pos] = users[0].outputs[0]
            g.operators.remove(users[0])
    for pos, k in enumerate(list(g.outputs)):
        prod = _producer(g, k)
        if g.tensors[k].dtype == "float32" and prod is not None and prod.type == "DEQUANTIZE":
            g.outputs[pos] = prod.inputs[0]
            g.operators.remove(prod)


def compact(g: Graph) -> Graph:
    """Drop tensors nothing refers to and renumber the rest (order kept)."""
    used = set(g.inputs) | set(g.outputs)
    for op in g.operators:
        used.update(k for k in [*op.inputs, *op.outputs] if k != -1)
    keep = sorted(used)
    new_index = {old: new for new, old in enumerate(keep)}

    def remap(ks: list[int]) -> list[int]:
        return [new_index[k] if k != -1 else -1 for k in ks]

    for op in g.operators:
        op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
    g.tensors = [g.tensors[k] for k in keep]
    g.inputs, g.outputs = remap(g.inputs), remap(g.outputs)
    return g
