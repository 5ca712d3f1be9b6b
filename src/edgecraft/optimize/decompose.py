"""Functional calls that the converter would lower after quantization, written out before it.

``F.layer_norm``, ``F.silu`` and ``F.scaled_dot_product_attention`` reach the exported graph as
one aten call each. The converter lowers them only after quantization, so their insides (MEAN,
SQUARED_DIFFERENCE, RSQRT; the product with the sigmoid; both products of attention) would stay
float. :func:`decompose_functional` rewrites each call in the exported graph into the aten calls
the module forms use (:mod:`edgecraft.optimize.attention`), which the quantizer observes one by
one and the converter makes int8 TFLM ops:

- ``layer_norm(x)``: ``d = x - mean(x)``, ``d * rsqrt(mean(d * d) + eps)``, times the weight,
  plus the bias (MEAN, SUB, MUL, MEAN, ADD, RSQRT, MUL, MUL, ADD);
- ``silu(x)``: ``x * sigmoid(x)`` (LOGISTIC, MUL);
- ``scaled_dot_product_attention(q, k, v)`` without a mask, dropout or grouped heads:
  ``softmax((q * scale) @ k^T) @ v`` (MUL, TRANSPOSE, BATCH_MATMUL, SOFTMAX, BATCH_MATMUL).

Each new node keeps the module path and source line of the call it replaces, so ``check`` and
the per-layer report still name the user's code. A masked or causal attention call stays as it
is (an additive -inf mask has no int8 form) and ``check`` says so. Same function in float
(tested against the calls).
"""

from __future__ import annotations

from typing import Any


def _fake_mode(node: Any) -> Any:
    from torch._guards import detect_fake_mode

    vals = [a.meta.get("val") for a in node.all_input_nodes]
    return detect_fake_mode([v for v in vals if v is not None])


class _Builder:
    """Inserts aten calls before ``node``, each with the node's metadata and a fake value."""

    def __init__(self, gm: Any, node: Any) -> None:
        self.gm, self.node = gm, node
        self.mode = _fake_mode(node)

    def __call__(self, target: Any, *args: Any) -> Any:
        import contextlib

        from torch.fx import Node

        with self.gm.graph.inserting_before(self.node):
            new = self.gm.graph.call_function(target, args)
        for key in ("nn_module_stack", "stack_trace", "source_fn_stack", "from_node"):
            if key in self.node.meta:
                new.meta[key] = self.node.meta[key]
        fake = [a.meta["val"] if isinstance(a, Node) else a for a in args]
        with self.mode if self.mode is not None else contextlib.nullcontext():
            new.meta["val"] = target(*fake)
        return new


def _layer_norm(gm: Any, node: Any) -> bool:
    import torch

    aten = torch.ops.aten
    x, shape = node.args[0], node.args[1]
    weight = node.args[2] if len(node.args) > 2 else node.kwargs.get("weight")
    bias = node.args[3] if len(node.args) > 3 else node.kwargs.get("bias")
    eps = float(node.args[4] if len(node.args) > 4 else node.kwargs.get("eps", 1e-5))
    dims = list(range(-len(shape), 0))
    b = _Builder(gm, node)
    d = b(aten.sub.Tensor, x, b(aten.mean.dim, x, dims, True))
    y = b(aten.mul.Tensor, d, b(aten.rsqrt.default, b(aten.add.Tensor, b(aten.mean.dim, b(
        aten.mul.Tensor, d, d), dims, True), eps)))
    if weight is not None:
        y = b(aten.mul.Tensor, y, weight)
    if bias is not None:
        y = b(aten.add.Tensor, y, bias)
    node.replace_all_uses_with(y)
    return True


def _silu(gm: Any, node: Any) -> bool:
    import torch

    aten = torch.ops.aten
    b = _Builder(gm, node)
    x = node.args[0]
    node.replace_all_uses_with(b(aten.mul.Tensor, x, b(aten.sigmoid.default, x)))
    return True


def _attention(gm: Any, node: Any) -> bool:
    import torch

    aten = torch.ops.aten
    names = ("attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
    opts = dict(zip(names, node.args[3:], strict=False)) | dict(node.kwargs)
    if opts.get("attn_mask") is not None or opts.get("dropout_p", 0.0) or opts.get("is_causal") \
            or opts.get("enable_gqa"):
        return False  # stays a float call; check names it
    q, k, v = node.args[:3]
    scale = opts.get("scale")
    if scale is None:
        scale = float(q.meta["val"].shape[-1]) ** -0.5
    b = _Builder(gm, node)
    scores = b(aten.matmul.default, b(aten.mul.Tensor, q, float(scale)), b(aten.transpose.int, k, -2, -1))
    node.replace_all_uses_with(b(aten.matmul.default, b(aten._softmax.default, scores, -1, False), v))
    return True


def decompose_functional(gm: Any) -> int:
    """Rewrite the functional calls above in an exported ``torch.fx.GraphModule`` (in place);
    returns how many were rewritten."""
    import torch

    aten = torch.ops.aten
    # not aten.silu_: an in-place call's other readers would see the value before it
    rules = {aten.layer_norm.default: _layer_norm, aten.silu.default: _silu,
             aten.scaled_dot_product_attention.default: _attention}
    done = 0
    for node in list(gm.graph.nodes):
        rule = rules.get(node.target) if node.op == "call_function" else None
        if rule is not None and rule(gm, node):
            gm.graph.erase_node(node)
            done += 1
    if done:
        gm.graph.lint()
        gm.recompile()
    return done
