"""Compatibility check before training: will this PyTorch model become a full-int8 model?

``check(model, example)`` exports the (untrained) model, quantizes it with random calibration
through the same PT2E path as :func:`edgecraft.optimize.quantize`, finishes it in the IR and
lists every layer that would not become a supported int8 op, with a replacement to try; when the
graph is clean it adds the profile on the board. Weights do not matter for any of this, so the
answer comes before hours of training instead of after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecraft.formats import ModelFormatError, read_tflite_bytes
from edgecraft.ir.graph import Graph
from edgecraft.ops.registry import supported_ops
from edgecraft.optimize import pt2e
from edgecraft.optimize.finish import FIXED_OUTPUT, finish_int8, float_ops

if TYPE_CHECKING:
    import torch

#: TFLite op (or PyTorch module class) -> what to use instead.
REPLACEMENTS: dict[str, str] = {
    "GELU": "replace nn.GELU with nn.ReLU, nn.ReLU6 or nn.Hardswish (int8 HARD_SWISH)",
    "SiLU": "replace nn.SiLU with nn.Hardswish (int8 HARD_SWISH) or nn.ReLU6",
    "LSTM": "replace the LSTM with a stack of Conv1d/Conv2d over time (temporal convolution)",
    "GRU": "replace the GRU with a stack of Conv1d/Conv2d over time (temporal convolution)",
    "RNN": "replace the RNN with a stack of Conv1d/Conv2d over time (temporal convolution)",
    "LayerNorm": "replace LayerNorm with BatchNorm after a convolution (folded away by the converter)",
    "MultiheadAttention": "attention has no int8 kernel here: use convolutions and pooling",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "replace the LSTM with temporal convolutions (Conv1d/Conv2d)",
    "SQUARED_DIFFERENCE": "a normalization layer (LayerNorm/GroupNorm): use BatchNorm after a conv",
    "RSQRT": "a normalization layer (LayerNorm/GroupNorm): use BatchNorm after a conv",
    "BATCH_MATMUL": "a matrix product of two activations (attention?): use nn.Linear with weights",
    "SLICE": "slicing with a computed size (e.g. inside an LSTM): use fixed-size layers",
    "GATHER": "indexing by a tensor: use fixed slices or a Linear layer",
    "EXP": "an explicit exp: use nn.Softmax or nn.Sigmoid modules, which have int8 kernels",
    "DIV": "a division of activations: multiply by a constant or drop it",
}

ANNOTATED = "use standard nn modules the quantizer annotates (Conv2d, Linear, ReLU, pooling, add)"
FIXED_BY_EDGECRAFT = "left in float by PT2E; edgecraft rewrites it as an int8 op (fixed output scale)"


@dataclass
class Issue:
    """One layer that would not be a supported int8 op."""

    layer: str  # the PyTorch module path, or "?" when the converter lost it
    op: str
    problem: str
    suggestion: str
    fixable: bool = False  # edgecraft finishes it itself

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class CheckReport:
    """The answer of :func:`check`; ``ok`` when every op ends up a supported int8 op."""

    ok: bool
    ops: list[str]
    issues: list[Issue] = field(default_factory=list)
    profile: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "ops": self.ops, "issues": [i.as_dict() for i in self.issues],
                "profile": self.profile, "error": self.error}


def describe(graph: Graph, j: int) -> str:
    """One line naming operator ``j``, its dtypes and the tensor it writes."""
    op = graph.operators[j]
    dtypes = [graph.tensors[k].dtype for k in op.inputs if k != -1]
    out = graph.tensors[op.outputs[0]] if op.outputs else None
    return f"operator {j} {op.type} ({'/'.join(dtypes)} -> {out.dtype if out else '-'})"


def _raw_ops(model: bytes) -> list[tuple[str, list[str], str]]:
    """(op name, dtypes of inputs and outputs, first output tensor name) straight from the
    flatbuffer, for models the IR reader refuses (unsupported ops)."""
    import tflite

    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k.lower() for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
    m = tflite.Model.GetRootAs(bytearray(model), 0)
    sg = m.Subgraphs(0)
    result = []
    for j in range(sg.OperatorsLength()):
        op = sg.Operators(j)
        code = m.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = names.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM":
            name = f"CUSTOM:{(code.CustomCode() or b'').decode()}"
        ks = [k for k in [*op.InputsAsNumpy(), *op.OutputsAsNumpy()] if k >= 0]
        dtypes = [types.get(sg.Tensors(int(k)).Type(), "?") for k in ks]
        out = sg.Tensors(int(op.Outputs(0))).Name().decode() if op.OutputsLength() else ""
        result.append((name, dtypes, out))
    return result


#: float op -> the PyTorch module class that produces it (to name the layer when the converter
#: gave its tensor a generic name, e.g. the graph output)
OP_MODULE = {"SOFTMAX": "Softmax", "LOGISTIC": "Sigmoid", "TANH": "Tanh", "GELU": "GELU",
             "HARD_SWISH": "Hardswish"}


def _layer(op: str, tensor: str, keys: dict[str, str], kinds: dict[str, str]) -> str:
    from edgecraft.optimize.layers import module_for

    found = module_for(tensor, keys)
    if found is None:
        same = [path for path, kind in kinds.items() if kind == OP_MODULE.get(op)]
        found = same[0] if len(same) == 1 else None
    return found or "?"


def _issue(op: str, dtypes: list[str], tensor: str, keys: dict[str, str], kinds: dict[str, str]) -> Issue:
    layer = _layer(op, tensor, keys, kinds)
    kind = kinds.get(layer, "")
    if op not in supported_ops():
        problem = f"{op} has no kernel in edgecraft (nor in its generated C)"
        default = f"rebuild the layer from supported ops: {', '.join(supported_ops())}"
        return Issue(layer, op, problem, REPLACEMENTS.get(kind) or REPLACEMENTS.get(op, default))
    if op in FIXED_OUTPUT:
        return Issue(layer, op, f"{op} in float", FIXED_BY_EDGECRAFT, fixable=True)
    return Issue(layer, op, f"{op} left in float ({'/'.join(dtypes)}) by the PT2E quantizer",
                 REPLACEMENTS.get(kind) or REPLACEMENTS.get(op, ANNOTATED))


def _module_issues(model: torch.nn.Module) -> list[Issue]:
    found = []
    for path, m in model.named_modules():
        name = type(m).__name__
        if name in REPLACEMENTS:
            found.append(Issue(path, name, f"{name} has no int8 kernel", REPLACEMENTS[name]))
    return found


def check(model: torch.nn.Module, example: np.ndarray | torch.Tensor,
          board: str | None = None) -> CheckReport:
    """Convert ``model`` untrained on random inputs shaped like ``example`` (1, C, H, W) and
    report the layers that would not be supported int8 ops, plus the profile on ``board``."""
    import torch

    from edgecraft.optimize.layers import scope_keys

    x = pt2e.as_tensor(example)
    calib = torch.randn(8, *x.shape[1:], generator=torch.Generator().manual_seed(0))
    keys = scope_keys(model)
    kinds = {path: type(m).__name__ for path, m in model.named_modules()}
    try:
        raw = pt2e.to_tflite(pt2e.calibrate_ptq(model, calib), calib[:1])
    except pt2e.QuantizeError as e:
        issues = _module_issues(model)
        return CheckReport(False, [], issues, None, str(e))
    try:
        graph = read_tflite_bytes(raw)
    except ModelFormatError:  # an op the reader does not know: list it from the raw file
        ops = _raw_ops(raw)
        issues = [_issue(op, dts, name, keys, kinds) for op, dts, name in ops
                  if (op not in supported_ops() or "float32" in dts) and op not in ("QUANTIZE", "DEQUANTIZE")]
        return CheckReport(False, [op for op, _, _ in ops], _dedupe(issues))
    issues = [_issue(op.type, [graph.tensors[k].dtype for k in [*op.inputs, *op.outputs] if k != -1],
                     graph.tensors[op.outputs[0]].name, keys, kinds)
              for _, op in float_ops(graph) if op.type not in ("QUANTIZE", "DEQUANTIZE")]
    final = finish_int8(graph)
    ok = not float_ops(final)
    if not ok and all(i.fixable for i in issues):
        issues += [Issue("?", op.type, f"{describe(final, j)} is still float after finishing",
                         ANNOTATED) for j, op in float_ops(final)]
    report = CheckReport(ok, [op.type for op in final.operators], _dedupe(issues))
    if ok and board:
        report.profile = profile(final, board)
    return report


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen, out = set(), []
    for i in issues:
        if (i.layer, i.op) not in seen:
            seen.add((i.layer, i.op))
            out.append(i)
    return out


def profile(graph: Graph, board: str) -> dict[str, Any] | None:
    """``edgecraft.targets.profile(graph, board)`` when the targets package provides it."""
    try:
        from edgecraft import targets
    except ImportError:
        return None
    fn = getattr(targets, "profile", None)
    return dict(fn(graph, board)) if fn is not None else None
