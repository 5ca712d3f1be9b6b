"""Whole models through edgecraft's runtime against the reference runtimes.

Every int8 model of the conformance corpus runs on 200 random int8 inputs and must equal TFLM
element for element; the float32 KWS model must agree with LiteRT within 1e-5 relative. Each
corpus check has a twin on models built in code (:mod:`edgecraft.models.synthetic` and a float
CNN below), so a clone without the corpus still runs the same comparison. The tests print the
time per inference of both runtimes (``pytest -s`` shows it).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgecraft.formats import read_tflite, write_tflite
from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import small_cnn, tiny_mlp
from edgecraft.reference import LiteRtRunner, TflmRunner
from edgecraft.runtime import Interpreter
from oracle import INT8_MODELS, check_tensor, conformance_model

INPUTS_PER_MODEL = 200


def random_int8_inputs(graph: Graph, rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in graph.input_tensors()]


def compare_with_tflm(graph: Graph, model: bytes, n: int, seed: int, label: str) -> tuple[float, float]:
    """Run ``n`` random inputs through both runtimes (one interpreter each, reused); assert
    exact equality; return the mean milliseconds per inference (edgecraft, TFLM)."""
    ours, ref = Interpreter(graph), TflmRunner(model)
    rng = np.random.default_rng(seed)
    t_ours = t_ref = 0.0
    for i in range(n):
        inputs = random_int8_inputs(graph, rng)
        t0 = time.perf_counter()
        got = ours.run(inputs)
        t1 = time.perf_counter()
        want = ref.run(inputs)
        t2 = time.perf_counter()
        t_ours, t_ref = t_ours + t1 - t0, t_ref + t2 - t1
        assert len(got) == len(want), f"{label}: {len(got)} outputs, TFLM has {len(want)}"
        for k, (a, b) in enumerate(zip(got, want, strict=True)):
            check_tensor(a, b, f"{label} input #{i} output {k}")
    return 1000 * t_ours / n, 1000 * t_ref / n


def compare_with_litert(graph: Graph, model: bytes, inputs: list[list[np.ndarray]], label: str) -> None:
    ours, ref = Interpreter(graph), LiteRtRunner(model)
    for i, x in enumerate(inputs):
        for k, (a, b) in enumerate(zip(ours.run(x), ref.run(x), strict=True)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"{label} input #{i} output {k}")


@pytest.mark.conformance
@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_model_matches_tflm(name: str) -> None:
    path = conformance_model(name)
    ms_ours, ms_tflm = compare_with_tflm(read_tflite(path), path.read_bytes(), INPUTS_PER_MODEL, 1, name)
    print(f"\n{name}: edgecraft {ms_ours:.2f} ms, TFLM {ms_tflm:.2f} ms per inference")


@pytest.mark.parametrize("build", [small_cnn, tiny_mlp])
def test_int8_model_in_code_matches_tflm(build) -> None:
    graph = build(seed=3)
    compare_with_tflm(graph, write_tflite(graph), 25, 2, graph.name)


@pytest.mark.conformance
def test_float_kws_matches_litert() -> None:
    path = conformance_model("kws_ref_model_float32")
    graph = read_tflite(path)
    # MFCC-like inputs: random int8 codes dequantized with the int8 KWS model's input scale.
    q = read_tflite(conformance_model("kws_ref_model")).input_tensors()[0]
    rng = np.random.default_rng(3)
    shape = graph.input_tensors()[0].shape
    inputs = [[((rng.integers(-128, 128, shape) - q.zero_point) * q.scale).astype(np.float32)]
              for _ in range(50)]
    compare_with_litert(graph, path.read_bytes(), inputs, "kws float32")


def float_cnn(seed: int) -> Graph:
    """A small float32 DS-CNN: conv, depthwise, pointwise, average pool, reshape, FC, softmax."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder("float_cnn")

    def const(name: str, shape: tuple[int, ...], fan_in: int) -> int:
        return b.const(name, (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32))

    x = b.tensor("x", (1, 20, 10, 1), "float32")
    c1 = b.tensor("c1", (1, 10, 5, 16), "float32")
    b.op("CONV_2D", [x, const("w1", (16, 4, 3, 1), 12), const("b1", (16,), 1)], [c1], padding="SAME",
         stride_h=2, stride_w=2, fused_activation_function="RELU")
    d1 = b.tensor("d1", (1, 10, 5, 16), "float32")
    b.op("DEPTHWISE_CONV_2D", [c1, const("w2", (1, 3, 3, 16), 9), const("b2", (16,), 1)], [d1],
         padding="SAME", depth_multiplier=1, fused_activation_function="RELU6")
    p1 = b.tensor("p1", (1, 10, 5, 24), "float32")
    b.op("CONV_2D", [d1, const("w3", (24, 1, 1, 16), 16), const("b3", (24,), 1)], [p1],
         padding="VALID", fused_activation_function="RELU")
    pooled = b.tensor("pooled", (1, 1, 1, 24), "float32")
    b.op("AVERAGE_POOL_2D", [p1], [pooled], padding="VALID", filter_height=10, filter_width=5,
         stride_h=10, stride_w=5)
    flat = b.tensor("flat", (1, 24), "float32")
    b.op("RESHAPE", [pooled, b.const("shape", np.array([1, 24], np.int32))], [flat], new_shape=[1, 24])
    logits = b.tensor("logits", (1, 6), "float32")
    b.op("FULLY_CONNECTED", [flat, const("w4", (6, 24), 24), const("b4", (6,), 1)], [logits])
    probs = b.tensor("probs", (1, 6), "float32")
    b.op("SOFTMAX", [logits], [probs], beta=1.0)
    return b.build([x], [probs])


def test_float_model_in_code_matches_litert() -> None:
    graph = float_cnn(seed=4)
    rng = np.random.default_rng(5)
    inputs = [[rng.standard_normal((1, 20, 10, 1)).astype(np.float32) * 3] for _ in range(20)]
    compare_with_litert(graph, write_tflite(graph), inputs, "float cnn")
