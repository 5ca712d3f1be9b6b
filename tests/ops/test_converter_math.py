"""RSQRT, SQUARED_DIFFERENCE and BATCH_MATMUL (LayerNorm and attention pieces): hand-checked
cases, then randomized one-op models in every type TFLM supports against TFLM (tolerance 0;
float32 also against LiteRT within 1e-5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgecraft.cli.app import main
from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.ops.fixedpoint import inv_sqrt_quantized_multiplier_exp
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def _shape(rng: np.random.Generator, rank: int) -> tuple[int, ...]:
    return tuple(int(v) for v in rng.integers(1, 5, rank))


def rsqrt_case(rng: np.random.Generator, dtype: str) -> tuple[Graph, list[np.ndarray]]:
    g = GraphBuilder("rsqrt")
    shape = _shape(rng, int(rng.integers(1, 4)))
    if dtype == "int8":
        zp = int(rng.integers(-128, 20))
        x = g.tensor("x", shape, dtype, qparams(float(rng.uniform(0.001, 0.1)), zp))
        y = g.tensor("y", shape, dtype, qparams(float(rng.uniform(0.01, 0.5)), int(rng.integers(-128, 0))))
        xv = rng.integers(zp, 128, shape).astype(np.int8)
    else:
        x, y = g.tensor("x", shape, dtype), g.tensor("y", shape, dtype)
        xv = rng.uniform(0.01, 10, shape).astype(np.float32)
    g.op("RSQRT", [x], [y])
    return g.build([x], [y]), [xv]


def squared_difference_case(rng: np.random.Generator, dtype: str) -> tuple[Graph, list[np.ndarray]]:
    g = GraphBuilder("squared_difference")
    shape = _shape(rng, int(rng.integers(1, 5)))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]
    a_shape, b_shape = (shape, other) if rng.random() < 0.5 else (other, shape)
    qa = qb = qy = None
    if dtype in ("int8", "int16"):
        zp = (lambda: int(rng.integers(-20, 21))) if dtype == "int8" else (lambda: 0)
        sa, sb = (float(rng.uniform(0.0005, 0.05)) for _ in range(2))
        qa, qb = qparams(sa, zp()), qparams(sb, zp())
        span = 127 if dtype == "int8" else 32767
        qy = qparams(max(sa, sb) ** 2 * span * float(rng.uniform(0.5, 4)), zp())
    a, b = g.tensor("a", a_shape, dtype, qa), g.tensor("b", b_shape, dtype, qb)
    y = g.tensor("y", shape, dtype, qy)
    g.op("SQUARED_DIFFERENCE", [a, b], [y])
    if dtype == "float32":
        values = [rng.standard_normal(s).astype(np.float32) for s in (a_shape, b_shape)]
    elif dtype == "int32":
        values = [rng.integers(-3000, 3000, s).astype(np.int32) for s in (a_shape, b_shape)]
    else:
        info = np.iinfo(np.dtype(dtype))
        values = [rng.integers(info.min, int(info.max) + 1, s).astype(dtype) for s in (a_shape, b_shape)]
    return g.build([a, b], [y]), values


def batch_matmul_case(rng: np.random.Generator, dtype: str) -> tuple[Graph, list[np.ndarray]]:
    g = GraphBuilder("batch_matmul")
    batch = _shape(rng, int(rng.integers(0, 3)))
    rows, depth, cols = (int(v) for v in rng.integers(1, 9, 3))
    adj_x, adj_y = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    lhs_batch = tuple(d if rng.random() < 0.7 else 1 for d in batch)
    rhs_batch = tuple(d if rng.random() < 0.7 else 1 for d in batch)[int(rng.integers(0, len(batch) + 1)):]
    lhs_shape = (*lhs_batch, *((depth, rows) if adj_x else (rows, depth)))
    rhs_shape = (*rhs_batch, *((cols, depth) if adj_y else (depth, cols)))
    out_shape = (*np.broadcast_shapes(lhs_batch, rhs_batch), rows, cols)
    ql = qr = qy = None
    if dtype != "float32":
        zp = (lambda: int(rng.integers(-20, 21))) if dtype == "int8" else (lambda: 0)
        sl, sr = float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.01, 0.1))
        ql, qr = qparams(sl, zp()), qparams(sr, zp())
        span = 127 if dtype == "int8" else 32767
        qy = qparams(sl * sr * span * np.sqrt(depth) * float(rng.uniform(0.5, 2)), zp())
    lhs, rhs = g.tensor("lhs", lhs_shape, dtype, ql), g.tensor("rhs", rhs_shape, dtype, qr)
    y = g.tensor("y", out_shape, dtype, qy)
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=adj_x, adj_y=adj_y, asymmetric_quantize_inputs=False)
    if dtype == "float32":
        values = [rng.standard_normal(s).astype(np.float32) for s in (lhs_shape, rhs_shape)]
    else:
        info = np.iinfo(np.dtype(dtype))
        values = [rng.integers(info.min, int(info.max) + 1, s).astype(dtype) for s in (lhs_shape, rhs_shape)]
    return g.build([lhs, rhs], [y]), values


CASES = {
    "RSQRT": (rsqrt_case, ("int8", "float32")),
    "SQUARED_DIFFERENCE": (squared_difference_case, ("int8", "int16", "int32", "float32")),
    "BATCH_MATMUL": (batch_matmul_case, ("int8", "int16", "float32")),
}


def test_inv_sqrt_multiplier_hand_values() -> None:
    # 1/sqrt(4) = 0.5 and 1/sqrt(16) = 0.25 as multiplier * 2**shift (shift < 0: a right shift).
    for value, want in ((4, 0.5), (16, 0.25), (2, 2 ** -0.5)):
        m, s = inv_sqrt_quantized_multiplier_exp(value)
        assert abs(m * 2.0 ** (s - 31) - want) < 1e-6, (value, m, s)
    assert inv_sqrt_quantized_multiplier_exp(1) == (2**31 - 1, 0)


def test_hand_cases() -> None:
    # SQUARED_DIFFERENCE int32: (5 - 2)**2 = 9, (-1 - 3)**2 = 16.
    g = GraphBuilder()
    a, b, y = g.tensor("a", (2,), "int32"), g.tensor("b", (2,), "int32"), g.tensor("y", (2,), "int32")
    g.op("SQUARED_DIFFERENCE", [a, b], [y])
    graph = g.build([a, b], [y])
    values = [np.array([5, -1], np.int32), np.array([2, 3], np.int32)]
    assert run_model(graph, values)[0].tolist() == [9, 16]
    check_tflm(graph, values, "hand")
    # BATCH_MATMUL int8, zero points 0, scales 1 * 1 / 1: an exact integer matrix product.
    g = GraphBuilder()
    lhs = g.tensor("l", (1, 2, 2), "int8", qparams(1.0, 0))
    rhs = g.tensor("r", (2, 1), "int8", qparams(1.0, 0))
    y = g.tensor("y", (1, 2, 1), "int8", qparams(1.0, 0))
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=False, adj_y=False, asymmetric_quantize_inputs=False)
    graph = g.build([lhs, rhs], [y])
    values = [np.array([[[1, 2], [3, -4]]], np.int8), np.array([[5], [6]], np.int8)]
    assert run_model(graph, values)[0].tolist() == [[[17], [-9]]]
    check_tflm(graph, values, "hand")
    # RSQRT int8: zp_in 0, s_in 1/16, s_out 1/64: x = 64 is 4.0 -> 0.5 -> 32; x = 0 -> 127.
    g = GraphBuilder()
    x, y = g.tensor("x", (3,), "int8", qparams(1 / 16, 0)), g.tensor("y", (3,), "int8", qparams(1 / 64, 0))
    g.op("RSQRT", [x], [y])
    graph = g.build([x], [y])
    xv = np.array([64, 0, 16], np.int8)  # 4.0, 0, 1.0
    assert run_model(graph, [xv])[0].tolist() == [32, 127, 64]
    check_tflm(graph, [xv], "hand")


def test_rsqrt_below_the_zero_point_is_refused_as_tflm_does() -> None:
    g = GraphBuilder()
    x, y = g.tensor("x", (2,), "int8", qparams(0.1, 3)), g.tensor("y", (2,), "int8", qparams(0.1, 0))
    g.op("RSQRT", [x], [y])
    with pytest.raises(OpError, match="only defined for positive values"):
        run_model(g.build([x], [y]), [np.array([2, 5], np.int8)])


@pytest.mark.parametrize("op", sorted(CASES))
def test_random_cases_match_tflm_in_every_type(op: str) -> None:
    build, types = CASES[op]
    rng = np.random.default_rng(sum(map(ord, op)) + 3)
    for dtype in types:
        for case in range(4):
            graph, inputs = build(rng, dtype)
            label = f"{op} {dtype} case {case}"
            check_tflm(graph, inputs, label)
            if dtype == "float32":
                check_litert(graph, inputs, rtol=1e-5, label=label)


def test_build_names_what_it_cannot_emit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """BATCH_MATMUL with adj_x runs in the runtime but has no C kernel yet: ``build`` says so."""
    rng = np.random.default_rng(1)
    while True:
        graph, _ = batch_matmul_case(rng, "int8")
        if graph.operators[0].attrs["adj_x"]:
            break
    model = tmp_path / "bmm.tflite"
    model.write_bytes(write_tflite(graph))
    with pytest.raises(SystemExit) as e:
        main(["build", str(model), "--target", "esp32", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "BATCH_MATMUL with adj_x has no C kernel yet" in err, err
