"""From a converted op that will not be int8 back to the PyTorch code that made it, and what to
write instead.

The exported (PT2E) graph knows, for every aten call, the module path that ran it
(``nn_module_stack``) and the Python stack (``stack_trace``); the converter names each .tflite
tensor after the module scope that produced it. :func:`locate` joins the two: a failing .tflite
op -> its module path (from the tensor name), then the aten call of a matching kind in that
module (or, for a graph output whose name carries no scope, anywhere) -> the user's source line
(the innermost frame outside torch). :func:`advise` gives the reason and a fix in PyTorch terms,
keyed first by the module class (``nn.LSTM``), then by the aten call (``y[:, -1]`` is
``aten.select``), then by the .tflite op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass
class Site:
    """One aten call of the exported model: where it came from."""

    name: str  # the FX node name
    target: str  # the aten op, e.g. "select"
    path: str  # module path ("" for the model's own forward)
    module: str  # the module's class name
    source: str  # "file.py:LINE: code" of the innermost frame outside torch, or ""


#: .tflite op -> the aten calls that lower to it (to find the call inside a module).
LOWERED_FROM: dict[str, tuple[str, ...]] = {
    "SLICE": ("select", "slice", "narrow", "split", "split_with_sizes", "chunk", "unbind", "unsafe_split"),
    "STRIDED_SLICE": ("select", "slice", "narrow", "split", "split_with_sizes", "chunk", "unbind"),
    "SPLIT": ("split", "split_with_sizes", "chunk", "unbind"),
    "SPLIT_V": ("split", "split_with_sizes", "chunk"),
    "GATHER": ("index", "index_select", "embedding", "gather", "select"),
    "BATCH_MATMUL": ("matmul", "bmm", "baddbmm", "scaled_dot_product_attention", "einsum"),
    "SUM": ("sum", "adaptive_avg_pool2d", "mean", "avg_pool2d"),
    "PADV2": ("max_pool2d", "max_pool2d_with_indices", "pad", "constant_pad_nd"),
    "RSQRT": ("layer_norm", "group_norm", "rsqrt", "native_layer_norm"),
    "SQUARED_DIFFERENCE": ("layer_norm", "group_norm", "var", "native_layer_norm"),
    "GELU": ("gelu",), "EXP": ("exp", "softmax", "_softmax"), "DIV": ("div",),
    "SOFTMAX": ("softmax", "_softmax"), "LOGISTIC": ("sigmoid",), "TANH": ("tanh",),
    "HARD_SWISH": ("hardswish",), "ADD": ("add", "hardsigmoid", "layer_norm"),
    "MUL": ("mul", "hardsigmoid", "silu", "layer_norm"), "SUB": ("sub",),
    "MEAN": ("mean", "layer_norm", "adaptive_avg_pool2d"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("lstm",), "PACK": ("stack",), "UNPACK": ("unbind",),
}

#: module class -> (reason, fix): the layer as a whole is the problem.
BY_MODULE: dict[str, tuple[str, str]] = {
    "LSTM": ("nn.LSTM is unrolled by the converter into float FULLY_CONNECTED, LOGISTIC and TANH "
             "steps; edgecraft has no int8 recurrent op yet",
             "replace the nn.LSTM with a stack of nn.Conv1d over time (a temporal CNN), or run the "
             "recurrent part on the host"),
    "GRU": ("nn.GRU is unrolled by the converter into float steps; edgecraft has no int8 recurrent op yet",
            "replace the nn.GRU with a stack of nn.Conv1d over time (a temporal CNN)"),
    "RNN": ("nn.RNN is unrolled by the converter into float steps; no int8 recurrent op yet",
            "replace the nn.RNN with a stack of nn.Conv1d over time (a temporal CNN)"),
    "GELU": ("nn.GELU has no int8 kernel in edgecraft",
             "use nn.ReLU, nn.ReLU6 or nn.Hardswish (int8 kernels) instead of nn.GELU"),
    "SiLU": ("nn.SiLU stays float (x * sigmoid(x) with a float product)",
             "use nn.Hardswish (int8 HARD_SWISH) or nn.ReLU6 instead of nn.SiLU"),
    "LayerNorm": ("nn.LayerNorm becomes MEAN, SQUARED_DIFFERENCE and RSQRT in float",
                  "use nn.BatchNorm1d/2d after the preceding nn.Linear/nn.Conv (folded into it)"),
    "GroupNorm": ("nn.GroupNorm becomes float MEAN, SQUARED_DIFFERENCE and RSQRT",
                  "use nn.BatchNorm2d after the convolution (folded into it)"),
    "MultiheadAttention": ("attention multiplies two activations (q @ k.T, weights @ v) and splits "
                           "q/k/v; edgecraft has no int8 kernel for those yet",
                           "replace the attention block with convolutions and pooling, or keep it on "
                           "the host"),
    "Hardsigmoid": ("nn.Hardsigmoid is lowered to (x + 3) clamped, times 1/6, left in float",
                    "use nn.Sigmoid (int8 LOGISTIC) for the gate"),
    "AdaptiveAvgPool2d": ("AdaptiveAvgPool2d on a 1x1 map becomes SUM, which has no kernel here",
                          "the map is already 1x1: replace AdaptiveAvgPool2d(1) with nn.Flatten(1) "
                          "(or give the model a larger input)"),
    "MaxPool2d": ("MaxPool2d with padding pads with -inf (PADV2), which has no kernel here",
                  "after a ReLU the input is >= 0, so nn.ZeroPad2d(p) then nn.MaxPool2d(k, s) without "
                  "padding computes the same and becomes PAD + MAX_POOL_2D"),
    "Embedding": ("nn.Embedding looks rows up by index (GATHER), which has no kernel here",
                  "feed one-hot inputs to an nn.Linear instead of indices to nn.Embedding"),
}

#: aten call -> (reason, fix), for calls written in a forward().
BY_CALL: dict[str, tuple[str, str]] = {
    "select": ("indexing an activation with a fixed index (e.g. y[:, -1]) becomes SLICE, which has no "
               "kernel in edgecraft yet",
               "reduce over the axis instead (y.mean(1) is int8 MEAN), or let a layer read the whole "
               "axis (nn.Conv1d with kernel_size equal to its length)"),
    "slice": ("slicing an activation (y[:, a:b]) becomes SLICE, which has no kernel in edgecraft yet",
              "compute only the part you need with its own layer (e.g. two nn.Linear/nn.Conv instead "
              "of one split in two), or reduce over the axis (y.mean(1))"),
    "split": ("splitting an activation (split/chunk) becomes SPLIT or SLICE, not supported yet",
              "compute each part with its own layer instead of splitting one output"),
    "chunk": ("chunk() becomes SPLIT or SLICE, not supported yet",
              "compute each part with its own layer instead of chunking one output"),
    "unbind": ("unbind() becomes UNPACK or SLICE, not supported yet",
               "keep the tensor whole and reduce over the axis, or use one layer per part"),
    "matmul": ("a product of two activations (a @ b) has no int8 kernel here yet",
               "multiply by a weight (nn.Linear) instead of another activation"),
    "bmm": ("a batched product of two activations has no int8 kernel here yet",
            "multiply by a weight (nn.Linear) instead of another activation"),
    "scaled_dot_product_attention": ("attention (q @ k.T, softmax, @ v) has no int8 kernel here yet",
                                     "replace attention with convolutions and pooling"),
    "exp": ("torch.exp on an activation stays float", "use nn.Softmax or nn.Sigmoid (int8 kernels)"),
    "div": ("dividing by an activation stays float", "multiply by a constant instead, or drop the division"),
    "sum": ("sum() over an axis becomes SUM, which has no kernel here", "use mean() (int8 MEAN)"),
    "index": ("indexing with a tensor becomes GATHER, which has no kernel here",
              "use fixed slices, or an nn.Linear on one-hot inputs"),
    "pow": ("pow/square of an activation stays float", "use a product x * x, or drop it"),
    "sqrt": ("sqrt of an activation stays float", "drop it or use a BatchNorm-style fixed scale"),
    "gelu": BY_MODULE["GELU"], "silu": BY_MODULE["SiLU"], "hardsigmoid": BY_MODULE["Hardsigmoid"],
    "layer_norm": BY_MODULE["LayerNorm"], "group_norm": BY_MODULE["GroupNorm"],
    "adaptive_avg_pool2d": BY_MODULE["AdaptiveAvgPool2d"], "max_pool2d": BY_MODULE["MaxPool2d"],
}
for _alias, _same in (("narrow", "slice"), ("split_with_sizes", "split"), ("baddbmm", "bmm"),
                      ("einsum", "matmul"), ("index_select", "index"), ("gather", "index")):
    BY_CALL[_alias] = BY_CALL[_same]

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in \S+\n\s*(.*)')
_SKIP = ("/torch/", "/torchao/", "/edgecraft/optimize/", "/litert_torch/", "<eval_with_key>")


def user_line(stack_trace: str | None) -> str:
    """``file.py:LINE: code`` of the innermost frame not inside torch (or edgecraft's wrappers)."""
    frames = _FRAME.findall(stack_trace or "")
    for path, line, code in reversed(frames):
        if not any(s in path for s in _SKIP):
            return f"{path.rsplit('/', 1)[-1]}:{line}: {code.strip()}"
    return ""


def sites(exported: Any) -> list[Site]:
    """Every aten call of an exported (or PT2E-converted) module, with its module and line."""
    found = []
    for node in exported.graph.nodes:
        if node.op != "call_function" or not hasattr(node.target, "_schema"):
            continue
        target = str(node.target._schema.name).split("::")[-1]
        if target.startswith(("quantize_per", "dequantize_per", "sym_", "_assert")):
            continue
        stack = node.meta.get("nn_module_stack") or {}
        path, cls = next(reversed(stack.values())) if stack else ("", "")
        found.append(Site(node.name, target, str(path), str(cls).rsplit(".", 1)[-1], user_line(
            node.meta.get("stack_trace"))))
    return found


def scope_paths(model: torch.nn.Module) -> dict[str, str]:
    """The converter's scope text below the root -> module path, for every module (the root's
    own forward is ``""``)."""
    keys = {"": ""}
    for path, _ in model.named_modules():
        if not path:
            continue
        parts, node = [], model
        for name in path.split("."):
            node = node._modules[name]  # type: ignore[assignment]
            parts.append(f"{type(node).__module__}.{type(node).__qualname__}_{name}")
        keys["/".join(parts)] = path
    return keys


def path_of(tensor_name: str, model: torch.nn.Module, keys: dict[str, str]) -> str | None:
    """The module path whose scope named ``tensor_name``; None when the name carries no scope."""
    first = tensor_name.split(";")[0]
    root = f"{type(model).__module__}.{type(model).__qualname__}"
    if first == root:
        return ""
    if first.startswith(root + "/"):
        rest = first[len(root) + 1:]
        while rest:
            if rest in keys:
                return keys[rest]
            rest = rest.rsplit("/", 1)[0] if "/" in rest else ""
        return ""
    return None


def locate(op: str, tensor_name: str, model: torch.nn.Module, keys: dict[str, str],
           all_sites: list[Site]) -> Site:
    """The aten call that most likely produced .tflite op ``op`` writing ``tensor_name``."""
    path = path_of(tensor_name, model, keys)
    kinds = LOWERED_FROM.get(op, ())
    here = [s for s in all_sites if path is None or s.path == path]
    for s in here:
        if s.target in kinds:
            return s
    if path is not None and here:
        return here[0]
    if path is not None:  # a module that made no aten call of its own (a container)
        cls = type(model.get_submodule(path)).__name__ if path else type(model).__name__
        return Site("", "", path, cls, "")
    return Site("", "", "", type(model).__name__, "")


def advise(op: str, site: Site) -> tuple[str, str]:
    """(reason, fix in PyTorch terms) for .tflite op ``op`` coming from ``site``."""
    if site.module in BY_MODULE:
        return BY_MODULE[site.module]
    if site.target in BY_CALL:
        return BY_CALL[site.target]
    return (f"{site.target or 'this code'} becomes {op}, which edgecraft cannot run in int8",
            "rewrite it with layers that have int8 kernels (nn.Conv1d/2d, nn.Linear, nn.ReLU/ReLU6, "
            "nn.Hardswish, nn.Sigmoid, nn.Softmax, pooling, +, *, torch.cat, mean)")
