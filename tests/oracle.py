"""The oracle every test compares against: TFLite Micro for integers, LiteRT for floats.

``check_tflm(graph, inputs)`` writes ``graph`` with edgecraft's writer, runs it in TFLM and in
edgecraft's runtime, twice: with its fast paths (the default) and with the reference kernels
alone (the specification); both must equal TFLM element for element (tolerance 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.reference import run_litert, run_tflm
from edgecraft.runtime import run_model

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]


def conformance_model(name: str) -> Path:
    """Path of a conformance model; skips the test with a reason when the corpus is absent."""
    path = CONFORMANCE / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"conformance corpus not found at {CONFORMANCE} (CI has it beside the clone)")
    return path


def check_tensor(got: np.ndarray, want: np.ndarray, label: str) -> None:
    """Integers: exact equality, with a message that says how far apart they are."""
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{label}: dtype {got.dtype} != {want.dtype}"
    diff = got.astype(np.int64) - want.astype(np.int64)
    bad = np.flatnonzero(diff)
    assert bad.size == 0, (
        f"{label}: {bad.size}/{got.size} elements differ from TFLM, max |diff| "
        f"{np.abs(diff).max()}, first at flat index {bad[0]}: {got.flat[bad[0]]} vs {want.flat[bad[0]]}"
    )


def check_tflm(graph: Graph, inputs: list[np.ndarray], label: str = "") -> list[np.ndarray]:
    """Assert edgecraft's runtime, default and reference kernels alone, equals TFLM exactly on
    ``graph``; returns the (default) outputs."""
    ours = run_model(graph, inputs)
    spec = run_model(graph, inputs, reference=True)
    ref = run_tflm(write_tflite(graph), inputs)
    for i, (a, s, b) in enumerate(zip(ours, spec, ref, strict=True)):
        check_tensor(a, b, f"{label} output {i}")
        check_tensor(s, b, f"{label} output {i} (reference kernels)")
    return ours


def check_litert(graph: Graph, inputs: list[np.ndarray], rtol: float = 1e-5, atol: float = 1e-6,
                 label: str = "") -> list[np.ndarray]:
    """Assert edgecraft's float runtime (default and reference kernels alone) agrees with
    LiteRT within ``rtol`` (relative)."""
    ours = run_model(graph, inputs)
    spec = run_model(graph, inputs, reference=True)
    ref = run_litert(write_tflite(graph), inputs)
    for i, (a, s, b) in enumerate(zip(ours, spec, ref, strict=True)):
        assert a.shape == b.shape == s.shape, f"{label} output {i}: shape {a.shape} != {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{label} output {i}")
        np.testing.assert_allclose(s, b, rtol=rtol, atol=atol, err_msg=f"{label} output {i} (reference)")
    return ours
