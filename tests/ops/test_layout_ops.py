"""SPACE_TO_DEPTH, DEPTH_TO_SPACE, REVERSE_V2, MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR, GATHER_ND:
hand-checked cases with literal integers, then
randomized one-op models in every type TFLM runs them in, against TFLM (tolerance 0; float32
also against LiteRT)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from layout_cases import LAYOUT_CASES, LITERT_ONLY
from movement_cases import random_values
from oracle import check_litert, check_tflm


def _one_op(op: str, x_shape, y_shape, consts=(), dtype="int8", **attrs):  # type: ignore[no-untyped-def]
    g = GraphBuilder()
    q = qparams(0.1, 2) if dtype == "int8" else None
    x = g.tensor("x", x_shape, dtype, q)
    y = g.tensor("y", y_shape, dtype, q)
    g.op(op, [x, *(g.const(f"c{i}", c) for i, c in enumerate(consts))], [y], **attrs)
    return g.build([x], [y])


def test_space_to_depth_and_back_hand_case() -> None:
    # A 2x2 image of 2 channels, block 2: the four pixels' channels side by side in one pixel.
    xv = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.int8).reshape(1, 2, 2, 2)
    g = _one_op("SPACE_TO_DEPTH", (1, 2, 2, 2), (1, 1, 1, 8), block_size=2)
    assert run_model(g, [xv])[0].ravel().tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    check_tflm(g, [xv], "s2d hand")
    # Depth 4 with block 2 on a 1x2 image: pixel (0, w)'s channels fill rows 0-1, columns 2w..2w+1.
    xv = np.array([[[[1, 2, 3, 4], [5, 6, 7, 8]]]], np.int8)
    g = _one_op("DEPTH_TO_SPACE", (1, 1, 2, 4), (1, 2, 4, 1), block_size=2)
    assert run_model(g, [xv])[0][0, :, :, 0].tolist() == [[1, 2, 5, 6], [3, 4, 7, 8]]
    check_tflm(g, [xv], "d2s hand")


def test_reverse_v2_hand_case() -> None:
    xv = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    g = _one_op("REVERSE_V2", (2, 3), (2, 3), [np.array([-1], np.int32)], dtype="int32")
    assert run_model(g, [xv])[0].tolist() == [[3, 2, 1], [6, 5, 4]]
    check_tflm(g, [xv], "reverse hand")


def test_bad_configurations_are_named() -> None:
    g = _one_op("SPACE_TO_DEPTH", (1, 3, 2, 1), (1, 1, 1, 4), block_size=2)
    with pytest.raises(OpError, match="multiples of block_size 2"):
        run_model(g, [np.zeros((1, 3, 2, 1), np.int8)])
    g = _one_op("DEPTH_TO_SPACE", (1, 1, 1, 6), (1, 2, 2, 1), block_size=2)
    with pytest.raises(OpError, match="multiple of block_size squared"):
        run_model(g, [np.zeros((1, 1, 1, 6), np.int8)])
    g = _one_op("REVERSE_V2", (2, 3), (2, 3), [np.array([2], np.int32)])
    with pytest.raises(OpError, match="axis 2 is out of range"):
        run_model(g, [np.zeros((2, 3), np.int8)])
    g = _one_op("REVERSE_V2", (2, 3, 2), (2, 3, 2), [np.array([0, -1], np.int32)])
    with pytest.raises(OpError, match="not neighbouring axes"):
        run_model(g, [np.zeros((2, 3, 2), np.int8)])


@pytest.mark.parametrize("op", sorted(LAYOUT_CASES))
def test_every_type_matches_tflm(op: str) -> None:
    build, types = LAYOUT_CASES[op]
    rng = np.random.default_rng(sum(map(ord, op)))
    for dtype in types:
        for case in range(4):
            g = build(rng, dtype)
            xv = random_values(rng, g.tensors[g.inputs[0]].shape, dtype)
            check_tflm(g, [xv], f"{op} {dtype} case {case}")
            if dtype == "float32":
                check_litert(g, [xv], rtol=0, atol=0, label=f"{op} case {case}")


@pytest.mark.parametrize("op", sorted(LITERT_ONLY))
def test_types_the_tflm_build_lacks_match_litert(op: str) -> None:
    build = LAYOUT_CASES[op][0]
    rng = np.random.default_rng(sum(map(ord, op)) + 1)
    for dtype in LITERT_ONLY[op]:
        for case in range(4):
            g = build(rng, dtype)
            xv = random_values(rng, g.tensors[g.inputs[0]].shape, dtype)
            check_litert(g, [xv], rtol=0, atol=0, label=f"{op} {dtype} case {case}")


def test_mirror_pad_resize_gather_nd_hand_cases() -> None:
    xv = np.array([1, 2, 3], np.int8)
    for mode, want in ((0, [3, 2, 1, 2, 3, 2, 1]), (1, [2, 1, 1, 2, 3, 3, 2])):
        g = _one_op("MIRROR_PAD", (3,), (7,), [np.array([[2, 2]], np.int32)], mode=mode)
        assert run_model(g, [xv])[0].tolist() == want
        check_tflm(g, [xv], f"mirror pad mode {mode}")
    # 2x2 -> 3x3 nearest: source rows/cols floor(i * 2/3) = 0, 0, 1.
    xv = np.array([[1, 2], [3, 4]], np.int8).reshape(1, 2, 2, 1)
    g = _one_op("RESIZE_NEAREST_NEIGHBOR", (1, 2, 2, 1), (1, 3, 3, 1), [np.array([3, 3], np.int32)])
    assert run_model(g, [xv])[0][0, :, :, 0].tolist() == [[1, 1, 2], [1, 1, 2], [3, 3, 4]]
    check_tflm(g, [xv], "resize hand")
    # With half-pixel centers: floor((i + 0.5) * 2/3) = 0, 1, 1.
    g = _one_op("RESIZE_NEAREST_NEIGHBOR", (1, 2, 2, 1), (1, 3, 3, 1), [np.array([3, 3], np.int32)],
                half_pixel_centers=True)
    assert run_model(g, [xv])[0][0, :, :, 0].tolist() == [[1, 2, 2], [3, 4, 4], [3, 4, 4]]
    check_tflm(g, [xv], "resize half-pixel hand")
    xv = np.array([[1, 2], [3, 4]], np.int8)
    g = _one_op("GATHER_ND", (2, 2), (3,), [np.array([[1, 0], [0, 1], [1, 1]], np.int32)])
    assert run_model(g, [xv])[0].tolist() == [3, 2, 4]
    check_tflm(g, [xv], "gather_nd hand")
    g = _one_op("GATHER_ND", (2, 2), (1,), [np.array([[2, 0]], np.int32)])
    with pytest.raises(OpError, match=r"index \[2, 0\] is outside params of shape \[2, 2\]"):
        run_model(g, [xv])
    g = _one_op("MIRROR_PAD", (3,), (7,), [np.array([[3, 1]], np.int32)], mode=0)
    with pytest.raises(OpError, match="REFLECT pads a dimension of size 3 by at most 2"):
        run_model(g, [np.zeros(3, np.int8)])


def test_resize_bilinear_hand_case_and_float() -> None:
    # 1x2 -> 1x4, no half pixels: source points 0, 0.5, 1, 1.5 -> 10, 15, 20, 20 (edge clamps);
    # with values 10, 21 the midpoint 15.5 rounds away from zero to 16.
    xv = np.array([10, 21], np.int8).reshape(1, 1, 2, 1)
    g = _one_op("RESIZE_BILINEAR", (1, 1, 2, 1), (1, 1, 4, 1), [np.array([1, 4], np.int32)])
    assert run_model(g, [xv])[0].ravel().tolist() == [10, 16, 21, 21]
    check_tflm(g, [xv], "bilinear hand")
    xv = np.array([-10, -21], np.int8).reshape(1, 1, 2, 1)  # negative halves round away too
    assert run_model(g, [xv])[0].ravel().tolist() == [-10, -16, -21, -21]
    check_tflm(g, [xv], "bilinear hand negative")
    rng = np.random.default_rng(77)
    for case in range(6):
        g = LAYOUT_CASES["RESIZE_BILINEAR"][0](rng, "float32")
        xv = random_values(rng, g.tensors[g.inputs[0]].shape, "float32")
        check_litert(g, [xv], rtol=1e-5, atol=1e-6, label=f"bilinear float case {case}")
