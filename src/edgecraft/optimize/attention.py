"""Attention and LayerNorm written with parts PT2E quantizes, so a Transformer block is int8.

``nn.MultiheadAttention`` reaches the converter as one fused call (or as
``scaled_dot_product_attention``) and ``nn.LayerNorm`` as ``aten.layer_norm``: the converter
lowers them after quantization, so their insides (the q/k/v split, both products of two
activations, MEAN, SQUARED_DIFFERENCE, RSQRT) stay float. These modules compute the same
functions from calls the quantizer does see, each becoming an int8 TFLM op:

- :class:`StepAttention`: q, k and v are three ``nn.Linear`` (no split of one wide product; the
  1/sqrt(head size) scale is folded into q's weights), heads by RESHAPE/TRANSPOSE, ``q @ k``
  and ``weights @ v`` as int8 BATCH_MATMUL, SOFTMAX, the output ``nn.Linear``.
- :class:`StepLayerNorm`: ``d = x - mean(x)``, ``d * rsqrt(mean(d * d) + eps)``, times the
  weight, plus the bias: MEAN, SUB, MUL, MEAN, ADD, RSQRT, MUL, MUL, ADD.
- :class:`StepEncoderLayer`: ``nn.TransformerEncoderLayer`` (post- or pre-norm) from the two.
- :class:`StepSiLU`: ``nn.SiLU`` as ``x * sigmoid(x)`` (int8 LOGISTIC and MUL; ``aten.silu``
  would be lowered after quantization into a float product).

``add_bias_kv`` and ``add_zero_attn`` have no int8 form here (:class:`UnsupportedAttention`: the
module stays as it is). A call with a mask runs the original module, kept as ``original``: it
stays float and ``check`` names it. Each module equals the one it replaces in float (tested).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class UnsupportedAttention(ValueError):
    """An option of the attention block that has no int8 form here."""


def _linear(weight: torch.Tensor, bias: torch.Tensor | None, scale: float = 1.0) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    layer.weight.data.copy_(weight.detach() * scale)
    if bias is not None:
        layer.bias.data.copy_(bias.detach() * scale)
    return layer


class _Product(nn.Module):
    """``a @ b`` as a leaf module, so the per-layer report compares the product by name."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The batched matrix product."""
        return torch.matmul(a, b)


class StepAttention(nn.Module):
    """A drop-in for ``nn.MultiheadAttention`` without masks: ``forward(query, key, value, ...)
    -> (output, averaged weights or None)``."""

    STEP = True  # substitute() leaves its children alone

    def __init__(self, mha: nn.MultiheadAttention) -> None:
        super().__init__()
        if mha.bias_k is not None or mha.add_zero_attn:
            raise UnsupportedAttention("add_bias_kv/add_zero_attn have no int8 form here")
        e, self.heads = mha.embed_dim, mha.num_heads
        self.head_dim = e // self.heads
        self.batch_first = mha.batch_first
        if mha._qkv_same_embed_dim:
            w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
        else:
            w_q, w_k, w_v = mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight
        b = mha.in_proj_bias.chunk(3) if mha.in_proj_bias is not None else (None, None, None)
        self.q = _linear(w_q, b[0], self.head_dim ** -0.5)
        self.k = _linear(w_k, b[1])
        self.v = _linear(w_v, b[2])
        self.out_proj = _linear(mha.out_proj.weight, mha.out_proj.bias)
        # leaves, so the per-layer report names the scores, the weights and the weighted sum
        self.scores, self.softmax, self.context = _Product(), nn.Softmax(-1), _Product()
        self.original = copy.deepcopy(mha)  # runs calls with a mask (float; check names it)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, need_weights: bool = True,
                attn_mask: torch.Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Same as ``nn.MultiheadAttention.forward`` for a batched input (with a mask: the
        original module's)."""
        if key_padding_mask is not None or attn_mask is not None or is_causal:
            masked: tuple[torch.Tensor, torch.Tensor | None] = self.original(
                query, key, value, key_padding_mask=key_padding_mask, need_weights=need_weights,
                attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal)
            return masked
        if not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, source = query.shape[1], key.shape[1]
        h, d = self.heads, self.head_dim
        q = self.q(query).reshape(-1, length, h, d).transpose(1, 2)  # (N, h, L, d)
        k = self.k(key).reshape(-1, source, h, d).permute(0, 2, 3, 1)  # (N, h, d, S)
        v = self.v(value).reshape(-1, source, h, d).transpose(1, 2)  # (N, h, S, d)
        weights = self.softmax(self.scores(q, k))  # (N, h, L, S)
        out = self.context(weights, v).transpose(1, 2).reshape(-1, length, h * d)
        result: torch.Tensor = self.out_proj(out)
        if not self.batch_first:
            result = result.transpose(0, 1)
        if not need_weights:
            return result, None
        return result, weights.mean(1) if average_attn_weights else weights


class StepLayerNorm(nn.Module):
    """A drop-in for ``nn.LayerNorm`` from mean, subtraction, products and rsqrt."""

    STEP = True

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        self.dims = tuple(range(-len(norm.normalized_shape), 0))
        self.eps = float(norm.eps)
        self.weight = copy.deepcopy(norm.weight)
        self.bias = copy.deepcopy(norm.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same as ``nn.LayerNorm.forward``."""
        d = x - x.mean(self.dims, keepdim=True)
        y = d * torch.rsqrt((d * d).mean(self.dims, keepdim=True) + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


class StepEncoderLayer(nn.Module):
    """A drop-in for ``nn.TransformerEncoderLayer``, built from :class:`StepAttention` and
    :class:`StepLayerNorm` (a call with a mask runs the original layer, kept as ``original``)."""

    STEP = True

    def __init__(self, layer: nn.TransformerEncoderLayer) -> None:
        super().__init__()
        self.self_attn = StepAttention(layer.self_attn)
        self.linear1 = copy.deepcopy(layer.linear1)
        self.linear2 = copy.deepcopy(layer.linear2)
        self.norm1 = StepLayerNorm(layer.norm1)
        self.norm2 = StepLayerNorm(layer.norm2)
        self.norm_first = layer.norm_first
        self.activation = copy.deepcopy(layer.activation)
        self.original = copy.deepcopy(layer)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        return self.self_attn(x, x, x, need_weights=False)[0]

    def _feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear2(self.activation(self.linear1(x)))
        return out

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor | None = None,
                src_key_padding_mask: torch.Tensor | None = None, is_causal: bool = False) -> Any:
        """Same as ``nn.TransformerEncoderLayer.forward`` (dropout is off in eval)."""
        if src_mask is not None or src_key_padding_mask is not None or is_causal:
            return self.original(src, src_mask, src_key_padding_mask, is_causal)
        x = src
        if self.norm_first:
            x = x + self._attend(self.norm1(x))
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._attend(x))
        return self.norm2(x + self._feed_forward(x))


class StepSiLU(nn.Module):
    """A drop-in for ``nn.SiLU``: ``x * torch.sigmoid(x)``."""

    STEP = True

    def __init__(self, _silu: nn.SiLU | None = None) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same as ``nn.SiLU.forward``."""
        return x * torch.sigmoid(x)
