"""One-op SVDF models (int8 with int8 or int16 state, float32) with the state as a variable
tensor, in the structure of TFLM's SVDF test models."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Tensor


def svdf_graph(rng: np.random.Generator, dtype: str = "int8", state_type: str = "int16",
               activation: str = "NONE") -> Graph:
    """A random SVDF: batch 1-2, 2-5 inputs, rank 1-2, 1-3 units, memory 2-5."""
    batch, n_in = int(rng.integers(1, 3)), int(rng.integers(2, 6))
    rank, units, memory = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(2, 6))
    filters = rank * units
    b = GraphBuilder("svdf")
    wf_real = rng.uniform(-1, 1, (filters, n_in)).astype(np.float32)
    wt_real = rng.uniform(-1, 1, (filters, memory)).astype(np.float32)
    if dtype == "float32":
        x = b.tensor("x", (batch, n_in), "float32")
        wf, wt = b.const("wf", wf_real), b.const("wt", wt_real)
        bias = b.const("b", rng.uniform(-1, 1, units).astype(np.float32))
        state = b.tensor("state", (batch, memory * filters), "float32")
        y = b.tensor("y", (batch, units), "float32")
    else:
        x_scale, wf_scale = float(rng.uniform(0.01, 0.05)), float(np.abs(wf_real).max() / 127)
        top = 127 if state_type == "int8" else 32767
        wt_scale = float(np.abs(wt_real).max() / top)
        s_scale = float(rng.uniform(0.005, 0.05)) * (1.0 if state_type == "int8" else 1 / 64)
        s_zp = int(rng.integers(-10, 10)) if state_type == "int8" else 0
        x = b.tensor("x", (batch, n_in), "int8", qparams(x_scale, int(rng.integers(-20, 20))))
        wf = b.const("wf", np.round(wf_real / wf_scale).astype(np.int8), qparams(wf_scale))
        wt = b.const("wt", np.round(wt_real / wt_scale).astype(state_type), qparams(wt_scale))
        b_scale = float(np.float32(s_scale) * np.float32(wt_scale))
        bias = b.const("b", rng.integers(-2000, 2000, units).astype(np.int32), qparams(b_scale))
        state = b.tensor("state", (batch, memory * filters), state_type, qparams(s_scale, s_zp))
        out_q = qparams(float(rng.uniform(0.02, 0.2)), int(rng.integers(-20, 20)))
        y = b.tensor("y", (batch, units), "int8", out_q)
    t = b.tensors[state]
    b.tensors[state] = Tensor(t.name, t.shape, t.dtype, None, t.quant, variable=True)
    b.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank, fused_activation_function=activation)
    return b.build([x], [y])


def svdf_input(rng: np.random.Generator, graph: Graph) -> np.ndarray:
    t = graph.input_tensors()[0]
    if t.dtype == "float32":
        return rng.standard_normal(t.shape).astype(np.float32)
    return rng.integers(-128, 128, t.shape).astype(np.int8)
