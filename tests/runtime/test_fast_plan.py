"""The prepared int8 layers (runtime/fast/prepared.py) and their requantization (requant.py)
give the reference kernels' bytes, tolerance 0, in every form they take: folded or wrapping
accumulators, zero point folded or added after, saturating multipliers, left shifts, right
shifts 0 .. 31, float32 or float64 sums; and int16 layers keep the reference kernels."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from edgecraft.ir import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops.arith import INT32_MIN, multiply_by_quantized_multiplier, wrap_int32
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import requantize
from edgecraft.runtime import Interpreter
from edgecraft.runtime.fast.prepared import PreparedFullyConnected
from edgecraft.runtime.fast.requant import Epilogue


def reference_int32(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: int) -> np.ndarray:
    """TFLM's scaled accumulator plus the zero point, before the clamp."""
    return multiply_by_quantized_multiplier(wrap_int32(acc), mult, shift) + zp


def random_epilogue_case(rng: np.random.Generator) -> tuple:  # type: ignore[type-arg]
    channels, rows = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    mult = rng.integers(2**30, 2**31, channels)
    if rng.random() < 0.3:
        mult = -mult  # negative scales: the reference takes them too
    if rng.random() < 0.3:
        mult[rng.integers(0, channels)] = INT32_MIN
    shift = rng.integers(-31, 12 if rng.random() < 0.4 else 1, channels)
    width = int(rng.integers(1, 40))
    sums = rng.integers(-(2**width), 2**width, (rows, channels))
    offset = rng.integers(-(2**20), 2**20, channels)
    if rng.random() < 0.3:  # an accumulator exactly INT32_MIN
        sums[0, 0] = INT32_MIN - offset[0]
    raw = np.abs(sums).max(axis=0) + rng.integers(0, 1000, channels)
    return mult, shift, offset, sums, raw, raw + np.abs(offset)


def test_epilogue_equals_reference_in_every_form() -> None:
    """Random accumulators, multipliers, shifts and offsets: the prepared epilogue gives the
    reference's int8 outputs and, unclamped, its int32 values; every form is reached."""
    rng = np.random.default_rng(0)
    forms: set[tuple[str, bool]] = set()
    for _ in range(600):
        mult, shift, offset, sums, raw, bound = random_epilogue_case(rng)
        channels = len(mult)
        zp = int(rng.integers(-128, 128))
        lo, hi = sorted(int(v) for v in rng.integers(-128, 128, 2))
        epi = Epilogue(mult, shift, offset, zp, lo, hi, raw, bound, channels)
        out = np.empty(sums.shape, np.int8)
        epi.apply(sums.copy(), out)
        assert np.array_equal(out, requantize(sums + offset, mult, shift, zp, lo, hi))
        wide = Epilogue(mult, shift, offset, zp, -(2**40), 2**40, raw, bound, channels)
        got = np.empty(sums.shape, np.int64)
        wide.apply(sums.copy(), got)
        assert np.array_equal(got, reference_int32(sums + offset, mult, shift, zp))
        forms |= {("wraps", epi.wraps), ("zp_after", epi.zp_after), ("saturate", epi.saturate),
                  ("correct", epi.correct)}
    assert forms == {(f, v) for f in ("wraps", "zp_after", "saturate", "correct") for v in (True, False)}


@pytest.mark.parametrize("right", range(32))
def test_epilogue_every_right_shift_ties_and_saturation(right: int) -> None:
    """Each right shift on exact halves (both signs), int32 extremes and the saturating
    product INT32_MIN * INT32_MIN, with and without wrapping."""
    near = [0, 1, -1, 2**31 - 1, INT32_MIN + 1, 2**30, -(2**30)]
    halves = [s * ((2 * k + 1) << max(right - 1, 0)) for k in range(3) for s in (1, -1)]
    in_int32 = [v for v in near + halves if abs(v) < 2**31]
    mult = np.array([INT32_MIN, 2**30, 2**31 - 1])
    shift = np.full(3, -right)
    # Exactly in int32 (folded), or wide enough to wrap (INT32_MIN itself, sums past int32).
    for bound, values in ((2**31 - 1, in_int32), (2**33, [*near, INT32_MIN, *halves, 2**32 + 7, -(2**33)])):
        sums = np.array(values, np.int64)[:, None] * np.ones(3, np.int64)
        for zp in (-128, 0, 127):
            want = reference_int32(sums, mult, shift, zp)
            # Unclamped; a floor just below the zero point (ties of small negatives matter);
            # at it (RELU: the correction of negative ties is skipped).
            for lo in (-(2**40), zp - 2, zp):
                epi = Epilogue(mult, shift, 0, zp, lo, 2**40, bound, bound, 3)
                assert epi.wraps == (bound > 2**31 - 1) and epi.saturate == epi.wraps
                assert epi.correct == (right > 0 and lo < zp)
                got = np.empty(sums.shape, np.int64)
                epi.apply(sums.copy(), got)
                assert np.array_equal(got, np.maximum(want, lo))


def fc_graph(rng: np.random.Generator, depth: int, units: int, rows: int, *, w_range: int = 128,
             bias: np.ndarray | None = None, out_scale: float | None = None, x_zp: int | None = None,
             per_channel: bool = False, keep_dims: bool = False, dtype: str = "int8") -> Graph:
    b = GraphBuilder()
    s_in = float(rng.uniform(0.005, 0.1))
    s_w = rng.uniform(0.002, 0.02, units if per_channel else 1)
    zp = int(rng.integers(-128, 128)) if x_zp is None else x_zp
    if dtype == "int16":
        zp = 0
    x_shape = (rows, 2, depth) if keep_dims else (rows, depth)
    x = b.tensor("x", x_shape, dtype, qparams(s_in, zp))
    weights = rng.integers(-w_range + 1, w_range, (units, depth)).astype(np.int8)
    w = b.const("w", weights, qparams(s_w, 0 if per_channel else int(rng.integers(-3, 4))))
    inputs = [x, w]
    if bias is not None:
        bias_q = qparams(np.float32(s_in) * s_w.astype(np.float32))
        inputs.append(b.const("b", bias, bias_q))
    scale = out_scale if out_scale is not None else s_in * float(s_w.mean()) * 40 * np.sqrt(depth)
    y_shape = (rows, 2, units) if keep_dims else (rows, units)
    y = b.tensor("y", y_shape, dtype, qparams(scale, 0 if dtype == "int16" else int(rng.integers(-20, 20))))
    b.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=str(rng.choice(["NONE", "RELU"])),
         keep_num_dims=keep_dims)
    return b.build([x], [y])


def run_both(g: Graph, rng: np.random.Generator, runs: int = 3) -> Interpreter:
    """Default and reference interpreters on random inputs (extremes included): equal bytes."""
    fast, spec = Interpreter(g), Interpreter(g, reference=True)
    x = g.input_tensors()[0]
    info = np.iinfo(x.np_dtype)
    for i in range(runs):
        xv = rng.integers(info.min, int(info.max) + 1, x.shape).astype(x.np_dtype)
        if i == 1:
            xv[...] = info.min
        got, want = fast.run([xv])[0], spec.run([xv])[0]
        assert np.array_equal(got, want), f"{np.flatnonzero(got != want).size} outputs differ"
    return fast


def test_prepared_fc_with_wrapping_sums_equals_reference() -> None:
    """A bias near INT32_MAX plus large sums: TFLM's int32 accumulator wraps; so does ours."""
    rng = np.random.default_rng(1)
    g = fc_graph(rng, 600, 6, 3, bias=np.full(6, 2**31 - 5000, np.int32), x_zp=-128)
    prepared = PreparedFullyConnected.build(OpContext(g.operators[0], g))
    assert prepared is not None and prepared.epilogue.wraps
    assert run_both(g, rng).fast_paths == {0: "fully_connected_int8_prepared"}


def test_prepared_fc_with_left_shifts_and_float64_sums() -> None:
    """Multipliers above one (left shifts, some wrapping) and rows whose sums pass 2**24
    (float64 matmul); per channel, keep_num_dims, no bias."""
    rng = np.random.default_rng(2)
    g = fc_graph(rng, 2500, 5, 2, out_scale=1e-6, per_channel=True, keep_dims=True)
    prepared = PreparedFullyConnected.build(OpContext(g.operators[0], g))
    assert prepared is not None and prepared.dtype is np.float64
    run_both(g, rng)
    small = fc_graph(rng, 40, 7, 2, bias=rng.integers(-500, 500, 7).astype(np.int32), out_scale=2e-4)
    prepared = PreparedFullyConnected.build(OpContext(small.operators[0], small))
    assert prepared is not None and prepared.dtype is np.float32 and not prepared.epilogue.wraps
    assert int(prepared.epilogue.M.max()) >= 2**31  # the left shift folded into the multiplier
    run_both(small, rng)


@pytest.mark.parametrize("seed", range(8))
def test_prepared_fc_random_layers(seed: int) -> None:
    rng = np.random.default_rng(40 + seed)
    depth, units, rows = (int(v) for v in rng.integers(1, 200, 3))
    bias = rng.integers(-(2**20), 2**20, units).astype(np.int32) if seed % 3 else None
    g = fc_graph(rng, depth, units, rows % 4 + 1, bias=bias, per_channel=seed % 2 == 0,
                 out_scale=float(10 ** rng.uniform(-5, 0)))
    assert run_both(g, rng).fast_paths == {0: "fully_connected_int8_prepared"}


def test_int16_layers_keep_the_reference_kernels() -> None:
    """16x8 FULLY_CONNECTED has no prepared form: it runs its reference kernel."""
    rng = np.random.default_rng(3)
    g = fc_graph(rng, 30, 4, 2, bias=np.zeros(4, np.int64), dtype="int16")
    assert PreparedFullyConnected.build(OpContext(g.operators[0], g)) is None
    assert run_both(g, rng).fast_paths == {}


def window_graph(rng: np.random.Generator, op: str, hw: tuple[int, int], k: tuple[int, int],
                 stride: int, dilation: int, padding: str, channels: int, mult: int = 1) -> Graph:
    """An int8 CONV_2D (``channels`` in, ``mult`` * 3 out) or DEPTHWISE_CONV_2D (multiplier
    ``mult``), per-channel filter, random zero points."""
    b = GraphBuilder()
    s_in = float(rng.uniform(0.01, 0.1))
    x = b.tensor("x", (1, *hw, channels), "int8", qparams(s_in, int(rng.integers(-128, 128))))
    out_ch = 3 * mult if op == "CONV_2D" else channels * mult
    shape = (out_ch, *k, channels) if op == "CONV_2D" else (1, *k, out_ch)
    s_w = rng.uniform(0.002, 0.02, out_ch)
    w_q = qparams(s_w, 0, axis=0 if op == "CONV_2D" else 3)
    w = b.const("w", rng.integers(-127, 128, shape).astype(np.int8), w_q)
    bias = b.const("b", rng.integers(-3000, 3000, out_ch).astype(np.int32),
                   qparams(np.float32(s_in) * s_w, 0))
    eff = [(kk - 1) * dilation + 1 for kk in k]
    out_hw = [-(-n // stride) if padding == "SAME" else (n - e) // stride + 1
              for n, e in zip(hw, eff, strict=True)]
    spread = s_in * float(s_w.mean()) * 3000 * np.sqrt(k[0] * k[1] * (channels if op == "CONV_2D" else 1))
    y = b.tensor("y", (1, *out_hw, out_ch), "int8", qparams(spread / 128, int(rng.integers(-20, 20))))
    attrs = dict(padding=padding, stride_h=stride, stride_w=stride, dilation_h_factor=dilation,
                 dilation_w_factor=dilation, fused_activation_function="RELU6")
    if op == "DEPTHWISE_CONV_2D":
        attrs["depth_multiplier"] = mult
    b.op(op, [x, w, bias], [y], **attrs)
    return b.build([x], [y])


@pytest.mark.parametrize(("op", "hw", "k", "stride", "dilation", "padding"), [
    ("CONV_2D", (5, 7), (1, 1), 1, 1, "SAME"),  # the padded buffer is the matrix
    ("CONV_2D", (6, 5), (1, 1), 2, 1, "VALID"),
    ("CONV_2D", (9, 8), (3, 2), 2, 2, "SAME"),
    ("CONV_2D", (10, 4), (10, 4), 1, 1, "VALID"),  # one window: KWS's first layer's shape class
    ("DEPTHWISE_CONV_2D", (7, 9), (3, 3), 1, 1, "SAME"),
    ("DEPTHWISE_CONV_2D", (8, 8), (3, 3), 2, 1, "SAME"),
    ("DEPTHWISE_CONV_2D", (9, 11), (2, 3), 1, 3, "VALID"),
])
def test_bound_window_ops_equal_reference(op: str, hw: tuple[int, int], k: tuple[int, int], stride: int,
                                          dilation: int, padding: str) -> None:
    """CONV_2D and DEPTHWISE_CONV_2D bound to their views (padded buffer, im2col matrix): equal
    to the reference across geometries, multipliers, and with extreme inputs."""
    rng = np.random.default_rng(zlib.crc32(repr((op, hw, k, stride)).encode()))
    for channels, mult in ((3, 1), (4, 2)):
        g = window_graph(rng, op, hw, k, stride, dilation, padding, channels, mult)
        assert run_both(g, rng).fast_paths == {0: f"{op.lower()}_int8_prepared"}


def test_values_no_int8_model_has_are_left_to_the_reference() -> None:
    """A zero point outside int8 or a multiplier outside int32 (a corrupt file): nothing is
    prepared and nothing overflows; the reference kernel runs the layer."""
    rng = np.random.default_rng(4)
    for zp in (300, 2**40):
        g = fc_graph(rng, 8, 3, 1, x_zp=zp)
        assert PreparedFullyConnected.build(OpContext(g.operators[0], g)) is None
        assert "fully_connected_int8_prepared" not in Interpreter(g).fast_paths.values()
    with pytest.raises(ValueError, match="outside what TFLM"):
        Epilogue(2**40, 0, 0, 0, -128, 127, 10, 10, 1)
