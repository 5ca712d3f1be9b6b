"""The writer: a model read and written again loads in TFLM and LiteRT and gives the same
outputs as the original, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.models.synthetic import small_cnn, tiny_mlp
from edgecraft.reference import LiteRtRunner, TflmRunner
from oracle import CONFORMANCE, conformance_model

MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "kws_ref_model_float32"]


def _inputs(raw: bytes, n: int, seed: int = 0) -> list[list[np.ndarray]]:
    g = read_tflite_bytes(raw)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        xs = []
        for t in g.input_tensors():
            if t.dtype == "int8":
                xs.append(rng.integers(-128, 128, t.shape, dtype=np.int8))
            else:
                xs.append(rng.standard_normal(t.shape).astype(np.float32))
        out.append(xs)
    return out


def _same_outputs(original: bytes, rewritten: bytes, n: int = 5) -> None:
    is_int8 = read_tflite_bytes(original).input_tensors()[0].dtype == "int8"
    runners = [(LiteRtRunner(original), LiteRtRunner(rewritten))]
    if is_int8:
        runners.append((TflmRunner(original), TflmRunner(rewritten)))
    for xs in _inputs(original, n):
        for a, b in runners:
            for ya, yb in zip(a.run(xs), b.run(xs), strict=True):
                assert ya.dtype == yb.dtype and np.array_equal(ya, yb)


@pytest.mark.conformance
@pytest.mark.parametrize("name", MODELS)
def test_round_trip_conformance_models(name: str) -> None:
    raw = conformance_model(name).read_bytes()
    graph = read_tflite_bytes(raw)
    rewritten = write_tflite(graph)
    again = read_tflite_bytes(rewritten)
    assert [op.type for op in again.operators] == [op.type for op in graph.operators]
    assert [op.attrs for op in again.operators] == [op.attrs for op in graph.operators]
    for a, b in zip(graph.tensors, again.tensors, strict=True):
        assert (a.name, a.shape, a.dtype) == (b.name, b.shape, b.dtype)
        assert (a.data is None) == (b.data is None)
        if a.data is not None:
            assert np.array_equal(a.data, b.data)
    _same_outputs(raw, rewritten)


@pytest.mark.parametrize("build", [small_cnn, tiny_mlp])
def test_round_trip_own_models(build) -> None:  # type: ignore[no-untyped-def]
    raw = write_tflite(build())
    rewritten = write_tflite(read_tflite_bytes(raw))
    assert rewritten == raw  # writing is deterministic and reading loses nothing
    _same_outputs(raw, rewritten)


def test_corpus_location_is_beside_the_clone() -> None:
    assert CONFORMANCE.name == "conformance" and CONFORMANCE.parent.name == "shared"
