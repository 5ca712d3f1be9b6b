"""Compatibility check before training: will this PyTorch model become a full-int8 model?

``check(model, example)`` exports the (untrained) model, quantizes it with random calibration
through the same PT2E path as :func:`edgecraft.optimize.quantize`, finishes it in the IR and
lists every layer that would not become a supported int8 op: its module path, the source line
that made it, why, and what to write instead in PyTorch terms (:mod:`edgecraft.optimize.advice`).
On a board it always gives the fit: the exact profile when the graph is full int8, an estimate
otherwise (:mod:`edgecraft.optimize.footprint`). Weights do not matter for any of this, so the answer
comes before hours of training instead of after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecraft.formats import ModelFormatError, read_tflite_bytes
from edgecraft.ir.graph import Graph
from edgecraft.ops.registry import supported_ops
from edgecraft.optimize import pt2e
from edgecraft.optimize.advice import BY_CALL, BY_MODULE, Site, advise, locate, scope_paths, sites
from edgecraft.optimize.finish import finish_int8, fixed_output, float_ops
from edgecraft.optimize.footprint import estimate_fit, exact_or_estimated
from edgecraft.optimize.rewrite import rewrite

if TYPE_CHECKING:
    import torch

FIXED_BY_EDGECRAFT = "nothing: PT2E leaves it in float and edgecraft rewrites it as an int8 op itself"
SKIPPED = ("QUANTIZE", "DEQUANTIZE")  # the edges of a float island, not layers


@dataclass
class Issue:
    """One layer that would not be a supported int8 op, in the model's own terms."""

    layer: str  # the PyTorch module path ("" for the model's own forward)
    module: str  # its class, e.g. "LSTM"
    source: str  # "file.py:LINE: code" that made it ("" when no frame outside torch is known)
    op: str  # the .tflite op it became
    problem: str
    suggestion: str  # what to write instead, in PyTorch terms
    fixable: bool = False  # edgecraft finishes it itself

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class CheckReport:
    """The answer of :func:`check`; ``ok`` when every op ends up a supported int8 op.

    ``profile`` is the fit on the board: exact when ``ok``, else an estimate (``estimated``).
    ``graph`` is the finished int8 graph when ``ok`` (what ``quantize`` writes for the same
    calibration inputs); it is not part of :meth:`as_dict`."""

    ok: bool
    ops: list[str]
    issues: list[Issue] = field(default_factory=list)
    profile: dict[str, Any] | None = None
    error: str | None = None
    graph: Graph | None = None

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


def _issue(op: str, dtypes: list[str], tensor: str, model: torch.nn.Module, keys: dict[str, str],
           sites: list[Site]) -> Issue:
    site = locate(op, tensor, model, keys, sites)
    # a masked attention call runs the original module, kept inside its int8 form as `original`
    site.path = site.path.replace(".original", "")
    if fixed_output(op) is not None and site.module not in BY_MODULE and site.target not in BY_CALL:
        return Issue(site.path, site.module, site.source, op, f"{op} in float", FIXED_BY_EDGECRAFT, True)
    reason, fix = advise(op, site)
    return Issue(site.path, site.module, site.source, op, reason, fix)


def _module_issues(model: torch.nn.Module) -> list[Issue]:
    found = []
    for path, m in model.named_modules():
        name = type(m).__name__
        if name in BY_MODULE:
            reason, fix = BY_MODULE[name]
            found.append(Issue(path, name, "", name, reason, fix))
    return found


def check(model: torch.nn.Module, example: np.ndarray | torch.Tensor,
          board: str | None = None, calibration: np.ndarray | torch.Tensor | None = None) -> CheckReport:
    """Convert ``model`` untrained on random inputs shaped like ``example`` (1, C, H, W) and
    report the layers that would not be supported int8 ops, plus the fit on ``board`` (exact
    when every op is int8, estimated otherwise).

    ``calibration`` (N, ...) replaces the random inputs: the conversion is then the one
    :func:`edgecraft.optimize.quantize` makes for them, and ``report.graph`` its int8 graph
    (``benchmarks/zoo.py`` converts each model once this way)."""
    import torch

    from edgecraft.optimize.substitute import substitute

    model = substitute(model.eval())  # what is exported: tensor names carry its scopes
    x = pt2e.as_tensor(example)
    calib = pt2e.as_tensor(calibration) if calibration is not None else \
        torch.randn(8, *x.shape[1:], generator=torch.Generator().manual_seed(0))
    keys = scope_paths(model)
    try:
        converted = pt2e.calibrate_ptq(model, calib)
        raw = pt2e.to_tflite(converted, calib[:1])
    except pt2e.QuantizeError as e:
        fit = estimate_fit(model, x, board, "the conversion failed") if board else None
        return CheckReport(False, [], _module_issues(model), fit, str(e))
    found = sites(converted)
    try:
        graph = read_tflite_bytes(raw)
    except ModelFormatError:  # an op the reader does not know: list it from the raw file
        ops = _raw_ops(raw)
        issues = [_issue(op, dts, name, model, keys, found) for op, dts, name in ops
                  if (op not in supported_ops() or "float32" in dts) and op not in SKIPPED]
        fit = estimate_fit(model, x, board, "some ops have no kernel") if board else None
        return CheckReport(False, [op for op, _, _ in ops], _dedupe(issues), fit)
    issues = [_issue(op.type, [graph.tensors[k].dtype for k in [*op.inputs, *op.outputs] if k != -1],
                     graph.tensors[op.outputs[0]].name, model, keys, found)
              for _, op in float_ops(graph) if op.type not in SKIPPED]
    final, _ = rewrite(finish_int8(graph))  # what quantize would write
    left = [(j, op) for j, op in float_ops(final) if op.type not in SKIPPED]
    ok = not float_ops(final)
    if not ok and all(i.fixable for i in issues):
        for j, op in left or float_ops(final):
            site = locate(op.type, final.tensors[op.outputs[0]].name, model, keys, found)
            reason, fix = advise(op.type, site)
            issues.append(Issue(site.path, site.module, site.source, op.type,
                                f"{reason} ({describe(final, j)} is still float after finishing)", fix))
    report = CheckReport(ok, [op.type for op in final.operators], _dedupe(issues),
                         graph=final if ok else None)
    if board:
        report.profile = exact_or_estimated(final, board, ok)
    return report


def _dedupe(issues: list[Issue]) -> list[Issue]:
    """One issue per layer, line and reason; the .tflite ops it became joined in ``op``."""
    merged: dict[tuple[str, str, str], Issue] = {}
    for i in issues:
        key = (i.layer, i.source, i.problem)
        if key not in merged:
            merged[key] = Issue(**i.as_dict())
        elif i.op not in merged[key].op.split(", "):
            merged[key].op += f", {i.op}"
    return list(merged.values())
