"""The quick DSP kernels specialized per model (codegen/emit.py ``specialize``): each optional
path (``EC_QUICK_...``) is left in exactly when a layer of the model takes it, and one-layer
models that take each path alone are exact on qemu-m4 (their inline assembly runs there only)."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.cases import random_inputs, tflm_outputs
from codegen.quick_cases import conv_layer
from edgecraft.codegen import generate
from edgecraft.codegen.emit import specialize
from edgecraft.emulate import emulate
from edgecraft.ir import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from oracle import check_tensor

CONV_PATHS = ("QUADS1", "QUADS2", "ODD", "WINDOWS", "DILATED")


def _layer(depthwise: bool, hw: tuple[int, int], c: int, k: tuple[int, int], out_c: int, dil: int = 1,
           padding: str = "SAME") -> Graph:
    rng = np.random.default_rng(c * 7 + out_c)
    g = GraphBuilder("one")
    x = g.tensor("x", (1, *hw, c), "int8", qparams(0.05, 3))
    shape = (1, *k, c) if depthwise else (out_c, *k, c)
    ws = rng.uniform(0.004, 0.01, out_c).astype(np.float32)
    w = g.const("w", rng.integers(-127, 128, shape).astype(np.int8), qparams(ws, 0, 3 if depthwise else 0))
    b = g.const("b", rng.integers(-300, 300, out_c).astype(np.int32), qparams(0.05 * ws, 0))
    eff = [(kk - 1) * dil + 1 for kk in k]
    out_hw = hw if padding == "SAME" else tuple(d - e + 1 for d, e in zip(hw, eff, strict=True))
    y = g.tensor("y", (1, *out_hw, out_c), "int8", qparams(0.3, -2))
    conv_layer(g, depthwise, x, w, b, y, padding=padding, dilation=dil)
    return g.build([x], [y])


def test_specialize_defines_the_paths_no_operator_needs() -> None:
    text = "".join(f"#ifndef EC_QUICK_{m}\n#define EC_QUICK_{m} 1\n#endif\n" for m in "AB")
    out = specialize(text, {"EC_QUICK_B"})
    assert out.startswith("#define EC_QUICK_A 0") and "#define EC_QUICK_B 0" not in out and out.endswith(text)


CASES = [  # (graph, the paths left in)
    (lambda: _layer(False, (3, 4), 6, (1, 1), 5, padding="VALID"), {"QUADS1", "ODD"}),
    (lambda: _layer(False, (3, 4), 8, (1, 1), 6, padding="VALID"), {"QUADS2"}),
    (lambda: _layer(False, (6, 7), 4, (3, 3), 4, dil=2), {"QUADS1", "WINDOWS", "DILATED"}),
    (lambda: _layer(False, (6, 7), 4, (3, 2), 3), {"QUADS2", "ODD", "WINDOWS"}),
    (lambda: _layer(True, (5, 5), 8, (3, 3), 8), set()),
    (lambda: _layer(True, (5, 1), 6, (3, 3), 6), {"REM", "TAPS"}),
    (lambda: _layer(True, (6, 7), 8, (5, 5), 8), {"TAPS"}),
    (lambda: _layer(True, (5, 9), 12, (3, 3), 12), set()),
    (lambda: _layer(True, (1, 6), 8, (3, 3), 8), set()),
    (lambda: _layer(True, (2, 6), 4, (3, 3), 4, dil=2), set()),
]


@pytest.mark.toolchain
@pytest.mark.parametrize(("build", "paths"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_each_path_alone_is_kept_and_exact_on_m4(build, paths: set[str]) -> None:  # type: ignore[no-untyped-def]
    graph: Graph = build()
    depthwise = graph.operators[0].type == "DEPTHWISE_CONV_2D"
    stem, names = ("depthwise_conv_2d", ("REM", "TAPS")) if depthwise else ("conv_2d", CONV_PATHS)
    prefix = "EC_QUICK_DW_" if depthwise else "EC_QUICK_CONV_"
    files = generate(graph, "one", dsp=True).files
    kernel = files[f"ec_{stem}_quick_dsp.c"]
    assert "_quick_dsp_s8(&" in files["one.c"]
    assert {n for n in names if f"#define {prefix}{n} 0 " not in kernel} == paths
    batches = random_inputs(graph, 2, seed=3)
    r = emulate(graph, "qemu-m4", batches, dsp=True, name="one")
    for b in range(2):
        check_tensor(r.outputs[0][b], tflm_outputs(graph, [batches[0][b]])[0], f"{graph.name} input {b}")
