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
    "SOFTMAX": ("softmax", "_softmax"), "LOGISTIC": ("sigmoid", "silu"), "TANH": ("tanh",),
    "HARD_SWISH": ("hardswish",), "ADD": ("add", "hardsigmoid", "layer_norm"),
    "MUL": ("mul", "hardsigmoid", "silu", "layer_norm", "pow"), "SUB": ("sub",),
    "MEAN": ("mean", "layer_norm", "adaptive_avg_pool2d"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("lstm",), "PACK": ("stack",), "UNPACK": ("unbind",),
}

#: module class -> (reason, fix): the layer as a whole is the problem. nn.LSTM, nn.GRU, nn.RNN,
#: nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.LayerNorm and nn.SiLU are swapped for
#: int8-friendly forms before export (optimize/substitute.py); what is listed here is what stays.
BY_MODULE: dict[str, tuple[str, str]] = {
    "LSTM": ("nn.LSTM with proj_size has no int8 form here (the converter unrolls it into float "
             "steps)", "drop proj_size and put an nn.Linear on the LSTM's output instead"),
    "GELU": ("nn.GELU has no int8 kernel in TFLite Micro",
             "use nn.ReLU, nn.ReLU6 or nn.Hardswish (int8 kernels) instead of nn.GELU"),
    "GroupNorm": ("nn.GroupNorm becomes float MEAN, SQUARED_DIFFERENCE and RSQRT",
                  "use nn.BatchNorm2d after the convolution (folded into it), or nn.LayerNorm"),
    "MultiheadAttention": ("attention called with a mask (attn_mask, key_padding_mask, is_causal) "
                           "stays float: an additive -inf mask has no int8 form",
                           "call it without a mask (a fixed-length window needs none), or keep the "
                           "masked block on the host"),
    "TransformerEncoderLayer": ("a Transformer layer called with a mask (src_mask, "
                                "src_key_padding_mask, is_causal) stays float",
                                "call it without a mask (a fixed-length window needs none)"),
    "Embedding": ("nn.Embedding takes integer indices; the int8 models built here take one "
                  "quantized input tensor", "feed one-hot inputs to an nn.Linear instead of indices "
                  "to nn.Embedding"),
}

#: aten call -> (reason, fix), for calls written in a forward().
BY_CALL: dict[str, tuple[str, str]] = {
    "scaled_dot_product_attention": (
        "F.scaled_dot_product_attention with a mask (attn_mask, is_causal), dropout_p or "
        "enable_gqa stays float: an additive -inf mask has no int8 form (without them edgecraft "
        "writes the call out in int8 BATCH_MATMUL and SOFTMAX)",
        "call it without a mask and with dropout_p=0 (a fixed-length window needs no mask), or "
        "keep the masked block on the host"),
    "einsum": ("torch.einsum is lowered after quantization, so it stays float",
               "write the product with torch.matmul / @ (int8 BATCH_MATMUL)"),
    "exp": ("torch.exp has no int8 kernel in TFLite Micro",
            "use torch.softmax or torch.sigmoid (int8 kernels)"),
    "log": ("torch.log has no int8 kernel in TFLite Micro", "drop it, or keep it on the host"),
    "sqrt": ("torch.sqrt has no int8 kernel in TFLite Micro", "use torch.rsqrt (int8 RSQRT), or drop it"),
    "pow": ("x ** n stays float", "write the product out: x * x (int8 MUL)"),
    "index": ("indexing with a tensor of indices becomes GATHER on computed indices",
              "use fixed slices (y[:, 2:5]), or an nn.Linear on one-hot inputs"),
    "layer_norm": ("F.layer_norm is lowered after quantization into float MEAN, "
                   "SQUARED_DIFFERENCE and RSQRT (edgecraft writes aten.layer_norm out in int8 "
                   "pieces; this call was not)", "use nn.LayerNorm"),
    "group_norm": BY_MODULE["GroupNorm"], "gelu": BY_MODULE["GELU"],
    "silu": ("F.silu is lowered after quantization into a float product (edgecraft writes "
             "aten.silu out as x * sigmoid(x); this call was not)",
             "write x * torch.sigmoid(x), or use nn.SiLU"),
}
BY_CALL["silu_"] = ("F.silu(x, inplace=True) is lowered after quantization into a float product "
                    "(edgecraft writes out only the out-of-place call)",
                    "drop inplace=True, or use nn.SiLU")
for _alias, _same in (("index_select", "index"), ("gather", "index"), ("native_layer_norm", "layer_norm"),
                      ("pow_", "pow")):
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
    # a call known to stay float (a masked attention, einsum, exp...) made the float ops around
    # it: the int8 calls of the same module (a written-out layer norm, say) did not
    culprits = [s for s in here if s.target in BY_CALL]
    for s in sorted(culprits, key=lambda s: s.target not in kinds):
        return s
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
            "rewrite it with layers that have int8 kernels (nn.Conv1d/2d, nn.Linear, nn.LSTM/GRU, "
            "nn.MultiheadAttention, nn.LayerNorm, nn.ReLU/ReLU6, nn.Hardswish, nn.Sigmoid, "
            "nn.Softmax, pooling, +, -, *, @, torch.cat, mean)")
