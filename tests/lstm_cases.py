"""One-op UNIDIRECTIONAL_SEQUENCE_LSTM models built with edgecraft's writer, in the structure
TFLM's LSTM test models have: 24 inputs with the peephole, projection and layer-norm slots
absent, the hidden and cell states as variable tensors, and (quantized) int8 or int16
activations, int8 symmetric weights, int32 or int64 biases at input x weight scale and an int16
cell state at a power-of-two scale."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Tensor


def lstm_graph(batch: int, time: int, inputs: int, state: int, dtype: str = "int8", seed: int = 0,
               time_major: bool = False, cell_clip: float = 0.0, weight_range: float = 1.0,
               cell_power: int = -11) -> Graph:
    """A seeded random LSTM: ``dtype`` float32, int8 (8x8, int32 biases) or int16 (16x8, int64
    biases). Returns a graph with one input (the sequence) and one output."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder("lstm")
    quantized = dtype != "float32"
    seq_shape = (time, batch, inputs) if time_major else (batch, time, inputs)
    out_shape = (*seq_shape[:2], state)
    if quantized:
        x_scale = float(rng.uniform(0.01, 0.05))
        h_scale = float(rng.uniform(1 / 200, 1 / 100))
        x_zp = int(rng.integers(-20, 20)) if dtype == "int8" else 0
        h_zp = int(rng.integers(-10, 10)) if dtype == "int8" else 0
        if dtype == "int16":
            x_scale, h_scale = x_scale / 256, h_scale / 256
    x = b.tensor("x", seq_shape, dtype, qparams(x_scale, x_zp) if quantized else None)
    weights = []
    for i in range(8):
        cols = inputs if i < 4 else state
        real = rng.uniform(-weight_range, weight_range, size=(state, cols)) / np.sqrt(cols)
        if quantized:
            w_scale = float(np.abs(real).max() / 127)
            q = np.clip(np.round(real / w_scale), -127, 127).astype(np.int8)
            weights.append((b.const(f"w{i}", q, qparams(w_scale, 0)), w_scale))
        else:
            weights.append((b.const(f"w{i}", real.astype(np.float32)), 1.0))
    biases = []
    for g in range(4):
        real = rng.uniform(-0.5, 0.5, size=state) + (1.0 if g == 1 else 0.0)  # forget bias ~ 1
        if quantized:
            scale = x_scale * weights[g][1]
            bias_type = np.int32 if dtype == "int8" else np.int64
            biases.append(b.const(f"b{g}", np.round(real / scale).astype(bias_type), qparams(scale, 0)))
        else:
            biases.append(b.const(f"b{g}", real.astype(np.float32)))
    h = _state(b, "h", (batch, state), dtype, qparams(h_scale, h_zp) if quantized else None)
    cell_type = "int16" if quantized else "float32"
    c = _state(b, "c", (batch, state), cell_type, qparams(2.0**cell_power, 0) if quantized else None)
    y = b.tensor("y", out_shape, dtype, qparams(h_scale, h_zp) if quantized else None)
    ins = [x, *(w for w, _ in weights), -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], fused_activation_function="TANH",
         cell_clip=cell_clip, time_major=time_major)
    return b.build([x], [y])


def _state(b: GraphBuilder, name: str, shape: tuple[int, ...], dtype: str, quant: object) -> int:
    k = b.tensor(name, shape, dtype, quant)  # type: ignore[arg-type]
    t = b.tensors[k]
    b.tensors[k] = Tensor(t.name, t.shape, t.dtype, None, t.quant, variable=True)
    return k


def lstm_input(graph: Graph, seed: int = 1) -> np.ndarray:
    """A random input sequence for ``graph`` (full int8/int16 range, or N(0, 1) floats)."""
    rng = np.random.default_rng(seed)
    t = graph.input_tensors()[0]
    if t.dtype == "float32":
        return rng.standard_normal(t.shape).astype(np.float32)
    lim = 127 if t.dtype == "int8" else 32767
    return rng.integers(-lim - 1, lim + 1, size=t.shape).astype(t.np_dtype)
