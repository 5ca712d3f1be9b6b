"""Graph rewrites for microcontrollers, each exact: TFLM computes the same bytes before and after.

- **Depthwise on one channel -> CONV_2D.** ``Conv2d(1, M, k)`` arrives as DEPTHWISE_CONV_2D with
  depth multiplier M. With one input channel both ops compute, for every output channel, the
  same sum over the same taps with the same bias and the same per-channel requantization; only
  the filter's layout differs ((1, kh, kw, M) vs (M, kh, kw, 1), quantized axis 3 vs 0). The
  CONV_2D kernels are far faster on it (many output channels per input pixel).
- **TRANSPOSE/RESHAPE pairs that cancel.** A TRANSPOSE followed by the inverse permutation, or a
  RESHAPE followed by a RESHAPE back to the first shape, copies bytes to where they were: both
  go when the tensor in between has no other reader and the quantization is unchanged.
- **PAD folded into a convolution.** ``PAD -> CONV_2D/DEPTHWISE_CONV_2D (VALID)`` where the PAD
  adds only rows and columns, with the input's zero point (real 0, what TFLM's SAME padding
  reads through the input offset), in exactly the amounts SAME padding uses (``padding.h``:
  total = (out - 1) * stride + dilated filter - in, before = total / 2) becomes the convolution
  with SAME padding: the same sums over the same values. Pads that differ from SAME's (PyTorch's
  symmetric padding before a stride-2 conv on an even size) stay.
- **Identity QUANTIZE.** An int8 -> int8 QUANTIZE with the same scale and zero point returns its
  input; it goes. (A QUANTIZE that really requantizes stays: folding it into the producer would
  round once instead of twice, which is not the same bytes.)

:func:`rewrite` applies them until nothing changes and returns the new graph and what it did.
Pure IR: no torch.
"""

from __future__ import annotations

import copy

import numpy as np

from edgecraft.ir.graph import Graph, Operator, Quantization
from edgecraft.optimize.finish import compact

CONV_ATTRS = ("padding", "stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor",
              "fused_activation_function")


def _readers(g: Graph, k: int) -> list[Operator]:
    return [op for op in g.operators if k in op.inputs]


def _same_quant(a: Quantization | None, b: Quantization | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(np.array_equal(np.float32(a.scale), np.float32(b.scale))
                and np.array_equal(a.zero_point, b.zero_point))


def depthwise_to_conv(g: Graph) -> int:
    """DEPTHWISE_CONV_2D with one input channel -> CONV_2D (in place); returns how many."""
    done = 0
    for op in g.operators:
        if op.type != "DEPTHWISE_CONV_2D" or g.tensors[op.inputs[0]].shape[-1] != 1:
            continue
        w = g.tensors[op.inputs[1]]
        if w.data is None or len(w.shape) != 4 or len(_readers(g, op.inputs[1])) != 1:
            continue
        _, kh, kw, m = w.shape
        w.data = np.ascontiguousarray(np.transpose(w.data.reshape(kh, kw, m), (2, 0, 1))[..., None])
        w.shape = (m, kh, kw, 1)
        if w.quant is not None:
            w.quant = Quantization(w.quant.scale, w.quant.zero_point, 0)
        op.type = "CONV_2D"
        op.attrs = {key: op.attrs[key] for key in CONV_ATTRS if key in op.attrs}
        done += 1
    return done


def _same_pads(size: int, filt: int, stride: int, dilation: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + (filt - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def fold_pad(g: Graph) -> int:
    """PAD before a VALID convolution whose pads equal SAME's -> the convolution with SAME
    padding (in place); returns how many."""
    done = 0
    for conv in list(g.operators):
        if conv.type not in ("CONV_2D", "DEPTHWISE_CONV_2D") or conv.attrs.get("padding") != "VALID":
            continue
        pad = next((op for op in g.operators if conv.inputs[0] in op.outputs), None)
        if pad is None or pad.type not in ("PAD", "PADV2") or len(_readers(g, pad.outputs[0])) != 1 \
                or pad.outputs[0] in g.outputs:
            continue
        src, mid = g.tensors[pad.inputs[0]], g.tensors[pad.outputs[0]]
        amounts = g.tensors[pad.inputs[1]].data
        if amounts is None or src.dtype != "int8" or not _same_quant(src.quant, mid.quant) \
                or len(src.shape) != 4:
            continue
        if pad.type == "PADV2":
            value = g.tensors[pad.inputs[2]].data
            if value is None or value.size != 1 or int(value.reshape(-1)[0]) != src.zero_point:
                continue
        p = np.asarray(amounts, np.int64).reshape(4, 2)
        w = g.tensors[conv.inputs[1]].shape
        a = conv.attrs
        want = [_same_pads(src.shape[1], w[1], a.get("stride_h", 1), a.get("dilation_h_factor", 1)),
                _same_pads(src.shape[2], w[2], a.get("stride_w", 1), a.get("dilation_w_factor", 1))]
        if p[0].any() or p[3].any() or [tuple(p[1]), tuple(p[2])] != want:
            continue
        conv.inputs[0] = pad.inputs[0]
        conv.attrs["padding"] = "SAME"
        g.operators.remove(pad)
        done += 1
    return done


def _inverse(perm: list[int]) -> list[int]:
    return [perm.index(i) for i in range(len(perm))]


def _cancels(g: Graph, first: Operator, second: Operator) -> bool:
    if first.type != second.type or first.type not in ("TRANSPOSE", "RESHAPE"):
        return False
    if first.type == "TRANSPOSE":
        perm_a, perm_b = (g.tensors[op.inputs[1]].data for op in (first, second))
        if perm_a is None or perm_b is None:
            return False
        return [int(v) for v in perm_b] == _inverse([int(v) for v in perm_a])
    return g.tensors[second.outputs[0]].shape == g.tensors[first.inputs[0]].shape


def cancel_pairs(g: Graph) -> int:
    """Remove TRANSPOSE/TRANSPOSE and RESHAPE/RESHAPE pairs that give back their input."""
    done = 0
    for first in list(g.operators):
        if first not in g.operators:
            continue
        mid = first.outputs[0]
        readers = _readers(g, mid)
        if len(readers) != 1 or mid in g.outputs or not _cancels(g, first, readers[0]):
            continue
        second, src = readers[0], first.inputs[0]
        out = second.outputs[0]
        if out in g.outputs or not _same_quant(g.tensors[src].quant, g.tensors[out].quant) \
                or g.tensors[src].dtype != g.tensors[out].dtype:
            continue
        for op in g.operators:
            op.inputs = [src if k == out else k for k in op.inputs]
        g.operators.remove(first)
        g.operators.remove(second)
        done += 1
    return done


def drop_identity_quantize(g: Graph) -> int:
    """Remove int8 -> int8 QUANTIZE ops whose output parameters equal their input's."""
    done = 0
    for op in list(g.operators):
        if op.type != "QUANTIZE":
            continue
        src, out = op.inputs[0], op.outputs[0]
        a, b = g.tensors[src], g.tensors[out]
        if a.dtype != b.dtype or a.dtype != "int8" or not _same_quant(a.quant, b.quant) or out in g.outputs:
            continue
        for other in g.operators:
            other.inputs = [src if k == out else k for k in other.inputs]
        g.operators.remove(op)
        done += 1
    return done


def rewrite(graph: Graph) -> tuple[Graph, dict[str, int]]:
    """A rewritten copy of ``graph`` and how often each rewrite applied."""
    g = copy.deepcopy(graph)
    counts = {"depthwise_to_conv": depthwise_to_conv(g), "fold_pad": fold_pad(g), "cancel_pairs": 0,
              "identity_quantize": 0}
    while True:
        pairs, quants = cancel_pairs(g), drop_identity_quantize(g)
        counts["cancel_pairs"] += pairs
        counts["identity_quantize"] += quants
        if not pairs and not quants:
            break
    return compact(g), counts
