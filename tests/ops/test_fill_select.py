"""FLOOR_DIV, FLOOR_MOD, ZEROS_LIKE, SHAPE, FILL, BROADCAST_TO, SELECT_V2: literal cases, then
random one-op models against TFLM (stored values compared exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_tflm

rng0 = np.random.default_rng


def _shape(rng: np.random.Generator, rank_max: int = 4) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, 4, rng.integers(1, rank_max + 1)))


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == "float32":
        return (rng.standard_normal(shape) * 5).astype(np.float32)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape).astype(dtype)


def pair(op: str, s1: tuple[int, ...], s2: tuple[int, ...]) -> Graph:
    b = GraphBuilder()
    x, y = b.tensor("x", s1, "float32"), b.tensor("y", s2, "float32")
    z = b.tensor("z", np.broadcast_shapes(s1, s2), "float32")
    b.op(op, [x, y], [z])
    return b.build([x, y], [z])


def test_literal_floor_div_and_mod() -> None:
    x = np.array([7, -7, 7, -7, 7.5], np.float32)
    y = np.array([2, 2, -2, -2, 2], np.float32)
    np.testing.assert_array_equal(check_tflm(pair("FLOOR_DIV", (5,), (5,)), [x, y])[0], [3, -4, -4, 3, 3])
    np.testing.assert_array_equal(check_tflm(pair("FLOOR_MOD", (5,), (5,)), [x, y])[0], [1, 1, -1, -1, 1.5])
    with pytest.raises(OpError, match="division by 0"):
        run_model(pair("FLOOR_DIV", (1,), (1,)), [np.ones(1, np.float32), np.zeros(1, np.float32)])


@pytest.mark.parametrize("op", ["FLOOR_DIV", "FLOOR_MOD"])
def test_random_floor_div_mod_against_tflm(op: str) -> None:
    rng = rng0(5)
    for case in range(4):
        s1 = _shape(rng)
        s2 = s1[rng.integers(0, len(s1)):] if case % 2 else s1
        x = _values(rng, s1, "float32")
        y = _values(rng, s2, "float32")
        y[np.abs(y) < 0.1] = 1.5
        check_tflm(pair(op, s1, s2), [x, y], op)


def test_literal_shape_zeros_fill() -> None:
    b = GraphBuilder()
    x = b.tensor("x", (2, 3, 5), "int8", qparams(0.1, 4))
    s, z = b.tensor("s", (3,), "int32"), b.tensor("z", (2, 3, 5), "int8", qparams(0.1, 4))
    b.op("SHAPE", [x], [s])
    b.op("ZEROS_LIKE", [x], [z])
    s_out, z_out = check_tflm(b.build([x], [s, z]), [np.ones((2, 3, 5), np.int8)])
    np.testing.assert_array_equal(s_out, [2, 3, 5])
    np.testing.assert_array_equal(z_out, np.zeros((2, 3, 5), np.int8))
    b = GraphBuilder()
    dims = b.const("dims", np.array([2, 3], np.int32))
    v, y = b.tensor("v", (), "int8"), b.tensor("y", (2, 3), "int8")
    b.op("FILL", [dims, v], [y])
    np.testing.assert_array_equal(check_tflm(b.build([v], [y]), [np.array(-7, np.int8)])[0],
                                  np.full((2, 3), -7, np.int8))


@pytest.mark.parametrize("dtype", ["int16", "int64"])
def test_installed_tflm_fill_refuses_int16_and_int64(dtype: str) -> None:
    # TFLM's fill.cc (source) has int16 and int64 cases; the installed tflite-micro package
    # fails them ("Fill only currently supports float32 for input 1"). edgecraft fills them as
    # the source does; this pins the installed package's refusal.
    b = GraphBuilder()
    dims = b.const("dims", np.array([2, 2], np.int32))
    v, y = b.tensor("v", (), dtype), b.tensor("y", (2, 2), dtype)
    b.op("FILL", [dims, v], [y])
    g = b.build([v], [y])
    np.testing.assert_array_equal(run_model(g, [np.array(-3, dtype)])[0], np.full((2, 2), -3, dtype))
    with pytest.raises(RuntimeError):
        run_tflm(write_tflite(g), [np.array(-3, dtype)])


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16", "int32", "int64"])
def test_random_fill_zeros_shape_broadcast_to_against_tflm(dtype: str) -> None:
    rng = rng0(len(dtype))
    for _ in range(3):
        shape = _shape(rng)
        b = GraphBuilder()
        dims = b.const("dims", np.array(shape, rng.choice(["int32", "int64"])))
        v, y = b.tensor("v", (), dtype), b.tensor("y", shape, dtype)
        b.op("FILL", [dims, v], [y])
        if dtype in ("float32", "int8", "int32"):  # the installed TFLM's FILL types (above)
            check_tflm(b.build([v], [y]), [_values(rng, (), dtype)], f"FILL {dtype}")
        small = tuple(d if rng.random() < 0.5 else 1 for d in shape)[rng.integers(0, len(shape)):]
        b = GraphBuilder()
        x = b.tensor("x", small, dtype)
        target = b.const("target", np.array(shape, np.int32))
        out, s = b.tensor("out", shape, dtype), b.tensor("s", (len(small),), "int32")
        b.op("BROADCAST_TO", [x, target], [out])
        b.op("SHAPE", [x], [s])
        outputs = [out, s]
        if dtype != "int16":
            zl = b.tensor("zl", small, dtype)
            b.op("ZEROS_LIKE", [x], [zl])
            outputs.append(zl)
        got = check_tflm(b.build([x], outputs), [_values(rng, small, dtype)], f"{dtype} {small}->{shape}")
        assert got[1].tolist() == list(small)


def test_literal_select_v2() -> None:
    b = GraphBuilder()
    c, x = b.tensor("c", (2, 1), "bool"), b.tensor("x", (3,), "int8", qparams(0.1))
    y, z = b.tensor("y", (2, 3), "int8", qparams(0.1)), b.tensor("z", (2, 3), "int8", qparams(0.1))
    b.op("SELECT_V2", [c, x, y], [z])
    got = check_tflm(b.build([c, x, y], [z]), [np.array([[True], [False]]), np.array([1, 2, 3], np.int8),
                                               np.array([[-1, -2, -3], [-4, -5, -6]], np.int8)])[0]
    np.testing.assert_array_equal(got, [[1, 2, 3], [-4, -5, -6]])


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16"])
def test_random_select_v2_against_tflm(dtype: str) -> None:
    rng = rng0(9)
    for _ in range(4):
        shape = _shape(rng, 5)
        shapes = [tuple(d if rng.random() < 0.6 else 1 for d in shape) for _ in range(3)]
        q = qparams(0.05, 3) if dtype != "float32" else None
        b = GraphBuilder()
        c = b.tensor("c", shapes[0], "bool")
        x, y = b.tensor("x", shapes[1], dtype, q), b.tensor("y", shapes[2], dtype, q)
        z = b.tensor("z", np.broadcast_shapes(*shapes), dtype, q)
        b.op("SELECT_V2", [c, x, y], [z])
        check_tflm(b.build([c, x, y], [z]), [_values(rng, shapes[0], "bool"), _values(rng, shapes[1], dtype),
                                             _values(rng, shapes[2], dtype)], f"SELECT_V2 {dtype}")
