"""The generated C, compiled for this machine, against the Python runtime and TFLM (tolerance 0):
every conformance model on 200 random inputs, their twins built in code, randomized one-op
cases for every op the generator supports, and a sanitizer (ASan + UBSan) build."""

from __future__ import annotations

import numpy as np
import pytest
from cases import CASES, ops_chain, ops_chain2, ops_chain3, random_inputs, softmax, tflm_outputs

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.formats import read_tflite, write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import small_cnn, tiny_mlp
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from movement_cases import MOVEMENT_CASES, random_values
from oracle import INT8_MODELS, check_tensor, check_tflm, conformance_model

N_INPUTS = 200


def check_model(graph: Graph, model_bytes: bytes, n: int, n_python: int) -> None:
    """C outputs (portable kernels, and the DSP kernels with their intrinsics written in plain
    C) == TFLM on ``n`` random inputs, == the Python runtime on the first ``n_python``."""
    batches = random_inputs(graph, n, seed=1)
    results = {dsp: HostModel(generate(graph, graph.name or "model", dsp=dsp)).run_batch(batches)
               for dsp in (False, True)}
    tflm = TflmRunner(model_bytes)
    runtime = Interpreter(graph)
    for b in range(n):
        inputs = [x[b] for x in batches]
        wants = [("TFLM", tflm.run(inputs))]
        if b < n_python:
            wants.append(("runtime", runtime.run(inputs)))
        for dsp, outs in results.items():
            for ref, want in wants:
                for i, w in enumerate(want):
                    kind = "dsp" if dsp else "portable"
                    check_tensor(outs[i][b], w, f"input {b} output {i} ({kind}) vs {ref}")


@pytest.mark.conformance
@pytest.mark.parametrize("name", INT8_MODELS)
def test_conformance_model_host_matches_tflm_and_runtime(name: str) -> None:
    path = conformance_model(name)
    graph = read_tflite(path)
    # The Python runtime is the slow one on the two image models: it sees the first 5 inputs
    # there, 50 on KWS (it is itself checked against TFLM on every op in tests/ops).
    n_python = {"ad01_int8": N_INPUTS, "kws_ref_model": 50}.get(name, 5)
    check_model(graph, path.read_bytes(), N_INPUTS, n_python)


@pytest.mark.parametrize("build", [small_cnn, tiny_mlp], ids=["small_cnn", "tiny_mlp"])
def test_synthetic_twin_host_matches_tflm_and_runtime(build) -> None:  # type: ignore[no-untyped-def]
    graph = build(seed=3)
    check_model(graph, write_tflite(graph), N_INPUTS, 50)


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB"])
def test_dsp_kernels_match_tflm_including_the_long_patch_fallback(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)) + 1)
    for case in range(4):
        graph = CASES[op](rng)
        batches = random_inputs(graph, 6, seed=case)
        model = generate(graph, f"dsp{case}", dsp=True)
        # tiny EC_PATCH_MAX / EC_FC_DEPTH_MAX send most patches and rows through the plain loop
        fast = HostModel(model, opt="-O0").run_batch(batches)
        limits = ("-DEC_PATCH_MAX=8", "-DEC_FC_DEPTH_MAX=8")
        small = HostModel(model, opt="-O0", cflags=limits).run_batch(batches)
        for b in range(6):
            want = tflm_outputs(graph, [x[b] for x in batches])
            check_tensor(fast[0][b], want[0], f"{op} dsp case {case} input {b}")
            check_tensor(small[0][b], want[0], f"{op} dsp fallback case {case} input {b}")


@pytest.mark.parametrize("op", sorted(CASES))
def test_random_op_cases_match_tflm(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)))
    for case in range(3):
        graph = CASES[op](rng)
        batches = random_inputs(graph, 8, seed=case)
        host = HostModel(generate(graph, f"case{case}"), opt="-O0")
        outs = host.run_batch(batches)
        for b in range(8):
            want = check_tflm(graph, [x[b] for x in batches], f"{op} case {case}")
            for i, w in enumerate(want):
                check_tensor(outs[i][b], w, f"{op} case {case} input {b} output {i}")


def test_softmax_int8_to_int16_matches_tflm() -> None:
    """TFLM's other quantized softmax (int8 in, int16 out, as its keyword_scrambled model ends),
    which had no C kernel."""
    rng = np.random.default_rng(31)
    for case in range(4):
        graph = softmax(rng, out="int16")
        batches = random_inputs(graph, 8, seed=case)
        outs = HostModel(generate(graph, f"sm16_{case}"), opt="-O0").run_batch(batches)
        for b in range(8):
            want = check_tflm(graph, [x[b] for x in batches], f"softmax int16 out case {case}")[0]
            check_tensor(outs[0][b], want, f"softmax int16 out case {case} input {b}")
    _, stderr = run_sanitized(generate(graph, "sm16_asan"), batches)
    assert stderr == "", stderr


@pytest.mark.parametrize("build", [small_cnn, ops_chain, ops_chain2, ops_chain3],
                         ids=["cnn", "chain", "chain2", "chain3"])
def test_sanitizers_report_nothing_on_every_op(build) -> None:  # type: ignore[no-untyped-def]
    """ASan + UBSan over every op kernel (the three graphs hold all of them), portable and DSP."""
    graph = build(seed=5)
    batches = random_inputs(graph, 2, seed=2)
    for dsp in (False, True):
        outs, stderr = run_sanitized(generate(graph, "asan", dsp=dsp), batches)
        assert stderr == "", stderr
        for b in range(2):
            for i, want in enumerate(tflm_outputs(graph, [x[b] for x in batches])):
                check_tensor(outs[i][b], want, f"asan dsp={dsp} input {b} output {i}")


@pytest.mark.parametrize("build", [ops_chain, ops_chain2, ops_chain3], ids=["chain", "chain2", "chain3"])
def test_multi_input_multi_output_graphs_match_tflm(build) -> None:  # type: ignore[no-untyped-def]
    graph = build(seed=7)
    batches = random_inputs(graph, 20, seed=3)
    outs = HostModel(generate(graph, "multi")).run_batch(batches)
    for b in range(20):
        for i, want in enumerate(tflm_outputs(graph, [x[b] for x in batches])):
            check_tensor(outs[i][b], want, f"input {b} output {i}")


@pytest.mark.conformance
def test_sanitizers_report_nothing_on_conformance_model() -> None:
    graph = read_tflite(conformance_model("kws_ref_model"))
    batches = random_inputs(graph, 3, seed=4)
    outs, stderr = run_sanitized(generate(graph, "kws"), batches)
    assert stderr == "", stderr
    runtime = Interpreter(graph)
    for b in range(3):
        check_tensor(outs[0][b], runtime.run([batches[0][b]])[0], f"asan kws input {b}")


def test_per_tensor_fc_multiplier_is_the_runtimes() -> None:
    """Per-tensor FULLY_CONNECTED scales where a float32 product of input and filter scale and
    TFLM's double product round differently: the C library must follow TFLM."""
    from edgecraft.ir import GraphBuilder, qparams
    from edgecraft.ops.arith import quantize_multiplier
    from edgecraft.ops.conv_common import requantize

    rng = np.random.default_rng(11)
    accs = np.arange(-200_000, 200_000)
    while True:
        s_in, s_w = (float(np.float32(v)) for v in rng.uniform(0.001, 0.1, 2))
        s_out = float(np.float32(s_in * s_w / rng.uniform(5e-4, 2e-3)))
        single = quantize_multiplier(float(np.float32(s_in) * np.float32(s_w)) / s_out)
        double = quantize_multiplier(s_in * s_w / s_out)
        differ = accs[(requantize(accs, *single, 0, -128, 127) != requantize(accs, *double, 0, -128, 127))
                      & (np.abs(requantize(accs, *double, 0, -128, 127)) < 120)]
        if differ.size:
            break
    g = GraphBuilder("fc_double")  # input == its zero point, weights 1: each accumulator is its bias
    x = g.tensor("x", (1, 1), "int8", qparams(s_in, 3))
    w = g.const("w", np.ones((differ.size, 1), np.int8), qparams(s_w))
    b = g.const("b", differ.astype(np.int32), qparams(np.float32(s_in) * np.float32(s_w)))
    y = g.tensor("y", (1, differ.size), "int8", qparams(s_out, 0))
    g.op("FULLY_CONNECTED", [x, w, b], [y])
    graph = g.build([x], [y])
    xv = np.full((1, 1), 3, np.int8)
    want = TflmRunner(write_tflite(graph)).run([xv])[0]
    for dsp in (False, True):
        check_tensor(HostModel(generate(graph, "fc_double", dsp=dsp)).run([xv])[0], want,
                     f"fc per-tensor ({'dsp' if dsp else 'portable'})")


@pytest.mark.parametrize("op", ["SLICE", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "GATHER"])
def test_copy_ops_in_every_type_match_tflm(op: str) -> None:
    """The strided-copy emitters move elements of any size: each type TFLM has, in C."""
    build, types = MOVEMENT_CASES[op]
    rng = np.random.default_rng(sum(map(ord, op)) + 5)
    for dtype in types:
        graph = build(rng, dtype)
        inputs = [random_values(rng, (2, *t.shape), t.dtype) for t in graph.input_tensors()]
        outs = HostModel(generate(graph, "copy"), opt="-O0").run_batch(inputs)
        for b in range(2):
            want = check_tflm(graph, [x[b] for x in inputs], f"{op} {dtype}")
            for i, w in enumerate(want):
                check_tensor(outs[i][b], w, f"{op} {dtype} input {b} output {i}")
