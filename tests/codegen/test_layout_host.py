"""SPACE_TO_DEPTH, DEPTH_TO_SPACE and REVERSE_V2 in generated C, compiled for this machine: every
type TFLM runs them in, against TFLM and the Python runtime (tolerance 0), and under the
sanitizers (REVERSE_V2 walks its input with negative strides)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.codegen.opcode import CodegenError
from edgecraft.runtime import run_model
from layout_cases import (
    LAYOUT_CASES,
    LITERT_ONLY,
    mirror_pad,
    resize_bilinear,
    resize_nearest_neighbor,
    reverse_v2,
)
from movement_cases import random_values
from oracle import check_tensor, check_tflm


@pytest.mark.parametrize("op", ["DEPTH_TO_SPACE", "GATHER_ND", "MIRROR_PAD", "RESIZE_NEAREST_NEIGHBOR",
                                "REVERSE_V2", "SPACE_TO_DEPTH"])
def test_every_type_in_c_matches_tflm(op: str) -> None:
    build, types = LAYOUT_CASES[op]
    rng = np.random.default_rng(sum(map(ord, op)) + 7)
    for dtype in types:
        graph = build(rng, dtype)
        inputs = [random_values(rng, (2, *t.shape), t.dtype) for t in graph.input_tensors()]
        outs = HostModel(generate(graph, "layout"), opt="-O0").run_batch(inputs)
        for b in range(2):
            want = check_tflm(graph, [x[b] for x in inputs], f"{op} {dtype}")
            check_tensor(outs[0][b], want[0], f"{op} {dtype} input {b}")


def test_mirror_pad_in_c_for_the_types_tflm_lacks() -> None:
    """int32 and int64 (which the installed TFLM build refuses): C == the runtime, which the ops
    tests check against LiteRT."""
    rng = np.random.default_rng(11)
    for dtype in LITERT_ONLY["MIRROR_PAD"]:
        graph = mirror_pad(rng, dtype)
        inputs = [random_values(rng, (2, *graph.input_tensors()[0].shape), dtype)]
        outs = HostModel(generate(graph, "mirror"), opt="-O0").run_batch(inputs)
        for b in range(2):
            check_tensor(outs[0][b], run_model(graph, [inputs[0][b]])[0], f"{dtype} input {b}")


@pytest.mark.parametrize("build", [reverse_v2, mirror_pad, resize_nearest_neighbor, resize_bilinear],
                         ids=["reverse", "mirror_pad", "resize_nearest", "resize_bilinear"])
def test_layout_kernels_under_sanitizers(build) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    for case in range(3):
        graph = build(rng, "int8")
        xs = random_values(rng, (2, *graph.input_tensors()[0].shape), "int8")
        outs, stderr = run_sanitized(generate(graph, "neg"), [xs])
        assert stderr == "", stderr
        for b in range(2):
            want = check_tflm(graph, [xs[b]], f"case {case}")[0]
            check_tensor(outs[0][b], want, f"sanitized case {case} input {b}")


def test_resize_bilinear_in_c() -> None:
    """int8 against TFLM (tolerance 0, the random cases cover negative halves and half-pixel
    weights below zero); float32 against the runtime within 1e-5."""
    rng = np.random.default_rng(21)
    for case in range(4):
        for dtype in ("int8", "float32"):
            graph = resize_bilinear(rng, dtype)
            inputs = [random_values(rng, (2, *graph.input_tensors()[0].shape), dtype)]
            outs = HostModel(generate(graph, "bilinear"), opt="-O0").run_batch(inputs)
            for b in range(2):
                if dtype == "int8":
                    want = check_tflm(graph, [inputs[0][b]], f"case {case}")[0]
                    check_tensor(outs[0][b], want, f"int8 case {case} input {b}")
                else:
                    want = run_model(graph, [inputs[0][b]])[0]
                    np.testing.assert_allclose(outs[0][b], want, rtol=1e-5, atol=1e-6)


def test_gather_nd_with_indices_computed_at_run_time_is_named() -> None:
    graph = LAYOUT_CASES["GATHER_ND"][0](np.random.default_rng(0), "int8")
    graph.tensors[graph.operators[0].inputs[1]].data = None
    graph.inputs.append(graph.operators[0].inputs[1])
    with pytest.raises(CodegenError, match="constant indices only"):
        generate(graph, "none")
