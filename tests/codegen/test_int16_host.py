"""The generated C for int16 operators (16x8 convolutions and fully connected, TFLM's other
int16 kernels) and the other types they brought (QUANTIZE, PAD, SELECT_V2, CAST, PRELU),
compiled for this machine: outputs equal TFLM's and the Python runtime's exactly on randomized
one-op graphs, and four graphs holding every one of these kernels also under ASan + UBSan."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from int16_cases import INT16_CASES, int16_chain, int16_chain2, int16_chain3, int16_chain4, int16_inputs
from oracle import check_tensor, check_tflm


@pytest.mark.parametrize("op", sorted(INT16_CASES))
def test_int16_op_cases_match_tflm(op: str) -> None:
    """Three random graphs per case builder, four inputs each; the first also built with the
    DSP kernels selected (int16 operators take the same kernels there)."""
    rng = np.random.default_rng(sum(map(ord, op)) + 161)
    for case in range(3):
        graph = INT16_CASES[op](rng)
        batches = int16_inputs(graph, 4, seed=case)
        outs = {dsp: HostModel(generate(graph, f"s16_{case}", dsp=dsp), opt="-O0").run_batch(batches)
                for dsp in ((False, True) if case == 0 else (False,))}
        for b in range(4):
            want = check_tflm(graph, [x[b] for x in batches], f"{op} case {case}")
            for dsp, got in outs.items():
                for i, w in enumerate(want):
                    check_tensor(got[i][b], w, f"{op} case {case} dsp={dsp} input {b} output {i}")


@pytest.mark.parametrize("build", [int16_chain, int16_chain2, int16_chain3, int16_chain4],
                         ids=["16x8", "others", "data", "select_cast"])
def test_int16_model_matches_tflm_and_runtime(build) -> None:  # type: ignore[no-untyped-def]
    """Several int16 layers in one generated library: TFLM == runtime == C."""
    graph = build(seed=2)
    batches = int16_inputs(graph, 6, seed=5)
    outs = HostModel(generate(graph, "chain16")).run_batch(batches)
    sanitized, stderr = run_sanitized(generate(graph, "asan_chain16"), batches)
    assert stderr == "", stderr
    for b in range(6):
        want = check_tflm(graph, [x[b] for x in batches], "int16 chain")
        for i, w in enumerate(want):
            check_tensor(outs[i][b], w, f"int16 chain input {b} output {i}")
            check_tensor(sanitized[i][b], w, f"int16 chain (sanitizers) input {b} output {i}")
