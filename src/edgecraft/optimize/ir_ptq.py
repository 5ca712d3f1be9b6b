"""Post-training quantization of a float IR graph (a float ONNX model, read by
:mod:`edgecraft.formats.onnx_read`) to full int8, without PyTorch.

1. Calibrate: the float graph runs in edgecraft's runtime (float reference kernels) on the
   calibration samples with every activation made an output; each activation's range is its
   minimum and maximum over them, widened to hold 0.
2. Quantize, TFLite's way: activations int8 asymmetric (``scale = (max - min) / 255``, zero
   point placing ``min`` at -128); convolution and fully connected weights int8 symmetric per
   output channel (zero point 0, the largest magnitude at 127); biases int32 with scale
   ``input_scale * weight_scale``; other constants int8 per tensor; ops whose int8 kernel fixes
   the output quantization (SOFTMAX, LOGISTIC, TANH: ``OpDef.fixed_output``) get it, ops that
   keep their input's quantization (``OpDef.shares_quant``) get that.
3. The result is written as a QDQ graph (each activation followed by a QUANTIZE and a
   DEQUANTIZE, each constant an integer constant and a DEQUANTIZE) and folded into int8 ops by
   :func:`edgecraft.formats.qdq.fold_qdq`, the same step an ONNX Runtime QDQ model goes through.
"""

from __future__ import annotations

import copy

import numpy as np

from edgecraft.formats.qdq import fold_qdq
from edgecraft.ir.graph import Graph, Operator, Quantization, Tensor
from edgecraft.ops.registry import find_op
from edgecraft.runtime import run_model


class CalibrationError(ValueError):
    """The calibration data does not fit the model; the message says how."""


def activation_ranges(graph: Graph, samples: np.ndarray) -> dict[int, tuple[float, float]]:
    """(min, max) of every float activation over ``samples`` (one model input per sample)."""
    t = graph.input_tensors()[0]
    if len(graph.inputs) != 1:
        raise CalibrationError(f"the model takes {len(graph.inputs)} inputs; calibration supports one")
    per_sample = int(np.prod(t.shape))
    if samples.ndim < 1 or len(samples) == 0 or samples[0].size != per_sample:
        raise CalibrationError(f"calibration samples must each hold {per_sample} values (input shape "
                               f"{list(t.shape)}), got an array of shape {list(samples.shape)}")
    acts = [k for k, x in enumerate(graph.tensors) if not x.is_constant and x.dtype == "float32"]
    probe = Graph(graph.tensors, graph.operators, graph.inputs, acts, graph.name)
    lo = {k: np.inf for k in acts}
    hi = {k: -np.inf for k in acts}
    for s in samples:
        for k, v in zip(acts, run_model(probe, [np.asarray(s, np.float32).reshape(t.shape)]), strict=True):
            lo[k], hi[k] = min(lo[k], float(v.min())), max(hi[k], float(v.max()))
    return {k: (lo[k], hi[k]) for k in acts}


def asymmetric(lo: float, hi: float) -> Quantization:
    """int8 asymmetric quantization of [lo, hi] (widened to hold 0; never zero width)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return Quantization.per_tensor(float(np.float32(scale)), zp)


def symmetric_per_channel(w: np.ndarray, axis: int) -> tuple[np.ndarray, Quantization]:
    """int8 weights, zero point 0, one scale per slice along ``axis``."""
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    scale = np.maximum(np.abs(moved).max(axis=1) / 127.0, 1e-12).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, Quantization(scale, np.zeros(len(scale), np.int64), axis)


class _Quantizer:
    def __init__(self, graph: Graph, ranges: dict[int, tuple[float, float]]) -> None:
        self.g = copy.deepcopy(graph)
        self.ranges = ranges
        self.quant: dict[int, Quantization] = {}
        self.real: dict[int, int] = {}  # float activation -> its dequantized twin
        self.ops: list[Operator] = []

    def add(self, name: str, shape: tuple[int, ...], dtype: str, data: np.ndarray | None = None,
            quant: Quantization | None = None) -> int:
        return self.g.add_tensor(Tensor(name, shape, dtype, data, quant))

    def qdq(self, k: int, quant: Quantization) -> None:
        """Follow activation ``k`` by QUANTIZE and DEQUANTIZE; readers then read the latter."""
        t = self.g.tensors[k]
        q = self.add(f"{t.name}_q", t.shape, "int8", None, quant)
        r = self.add(f"{t.name}_dq", t.shape, "float32")
        self.ops += [Operator("QUANTIZE", [k], [q]), Operator("DEQUANTIZE", [q], [r])]
        self.quant[k], self.real[k] = quant, r

    def const(self, data: np.ndarray, quant: Quantization, dtype: str, name: str) -> int:
        k = self.add(name, tuple(data.shape), dtype, np.ascontiguousarray(data.astype(dtype)), quant)
        r = self.add(f"{name}_real", tuple(data.shape), "float32")
        self.ops.append(Operator("DEQUANTIZE", [k], [r]))
        return r

    def weights(self, op: Operator) -> list[int]:
        """The op's inputs with float constants replaced by dequantized integer constants."""
        g = self.g
        ins = list(op.inputs)
        dense = op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
        for i, k in enumerate(ins):
            if k == -1 or not g.tensors[k].is_constant or g.tensors[k].dtype != "float32":
                if k in self.real:
                    ins[i] = self.real[k]
                continue
            data = np.asarray(g.tensors[k].data, np.float32)
            name = g.tensors[k].name
            if dense and i == 1:
                q, quant = symmetric_per_channel(data, 3 if op.type == "DEPTHWISE_CONV_2D" else 0)
                ins[i] = self.const(q, quant, "int8", name)
            elif dense and i == 2:
                x_scale = self.quant[op.inputs[0]].scale[0]
                w_scale = symmetric_per_channel(np.asarray(g.tensors[op.inputs[1]].data, np.float32),
                                                3 if op.type == "DEPTHWISE_CONV_2D" else 0)[1].scale
                scale = (np.float32(x_scale) * w_scale).astype(np.float32)
                q32 = np.clip(np.round(data / scale), -(2**31), 2**31 - 1)
                zeros = np.zeros(len(scale), np.int64)
                ins[i] = self.const(q32, Quantization(scale, zeros, 0), "int32", name)
            else:
                quant = asymmetric(float(data.min()), float(data.max()))
                q = np.clip(np.round(data / quant.scale[0]) + quant.zero_point[0], -128, 127)
                ins[i] = self.const(q, quant, "int8", name)
        return ins

    def run(self) -> Graph:
        g = self.g
        for k in g.inputs:
            if g.tensors[k].dtype == "float32":
                self.qdq(k, asymmetric(*self.ranges[k]))
        for op in g.operators:
            if op.type in ("QUANTIZE", "DEQUANTIZE"):
                raise CalibrationError("the model is already quantized (it has quantize/dequantize steps); "
                                       "give it to the other commands as it is")
            opdef = find_op(op.type)
            ins = self.weights(op)
            self.ops.append(Operator(op.type, ins, list(op.outputs), dict(op.attrs), op.version))
            out = op.outputs[0]
            if g.tensors[out].dtype != "float32":
                continue
            src = next((k for k in op.inputs if k in self.quant), None)
            if opdef is not None and opdef.fixed_output is not None:
                quant = Quantization.per_tensor(*opdef.fixed_output)
            elif opdef is not None and opdef.shares_quant and src is not None and op.type != "CONCATENATION":
                quant = self.quant[src]
            else:
                quant = asymmetric(*self.ranges[out])
            self.qdq(out, quant)
        g.operators = self.ops
        g.outputs = [self.real.get(k, k) for k in g.outputs]
        return fold_qdq(g)


def quantize_graph(graph: Graph, calibration: np.ndarray) -> Graph:
    """The full-int8 twin of the float ``graph``, calibrated on ``calibration`` (N samples)."""
    return _Quantizer(graph, activation_ranges(graph, np.asarray(calibration, np.float32))).run()


def quantize_onnx(path: str, calibration: np.ndarray, holdout: np.ndarray | None = None,
                  holdout_fraction: float = 0.25) -> tuple[Graph, dict[str, float | int | None]]:
    """A float ONNX model -> (full-int8 graph, report). The report compares the int8 model
    (edgecraft's runtime) with ONNX Runtime's float run of the original on held-out samples
    (``holdout``, or the last ``holdout_fraction`` of ``calibration``, then not calibrated on):
    top-1 ``agreement`` and ``max_abs_error`` of the dequantized outputs."""
    from edgecraft.formats.onnx_read import read_onnx

    graph = read_onnx(path)
    x = np.asarray(calibration, np.float32)
    if holdout is None:
        n_hold = max(1, int(len(x) * holdout_fraction)) if len(x) > 1 else 0
        x, held = x[: len(x) - n_hold], x[len(x) - n_hold:]
    else:
        held = np.asarray(holdout, np.float32)
    qgraph = quantize_graph(graph, x)
    params = sum(t.nbytes for t in graph.tensors if t.is_constant and t.dtype == "float32")
    report: dict[str, float | int | None] = {"samples": len(held), "agreement": None, "max_abs_error": None,
                                             "float_size_bytes": params}
    if len(held):
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        t, o = qgraph.input_tensors()[0], qgraph.output_tensors()[0]
        got, ref = [], []
        for s in held:
            q = np.clip(np.round(s / np.float32(t.scale)) + t.zero_point, -128, 127).astype(np.int8)
            y = run_model(qgraph, [q.reshape(t.shape)])[0]
            got.append(((y.astype(np.float32) - o.zero_point) * np.float32(o.scale)).reshape(-1))
            ref.append(np.asarray(sess.run(None, {sess.get_inputs()[0].name: s.reshape(
                graph.input_tensors()[0].shape)})[0]).reshape(-1))
        g_, r_ = np.stack(got), np.stack(ref)
        report["agreement"] = float(np.mean(np.argmax(g_, 1) == np.argmax(r_, 1)))
        report["max_abs_error"] = float(np.max(np.abs(g_ - r_)))
    return qgraph, report
