"""How far ONNX Runtime's run of an exported model is from edgecraft's (= TFLite Micro's) int8
outputs, op by op, and the ONNX operator coverage.

Run: ``.venv/bin/python benchmarks/onnx_export.py [--samples 4]``

Every op of the seeded synthetic models, of the two float ONNX example models
(:mod:`edgecraft.models.onnx_examples`) quantized by edgecraft's PTQ, and of the int8
conformance models (when ``../shared/conformance`` exists) runs alone, on the activations
edgecraft computes for the whole model, once in edgecraft's runtime and once in ONNX Runtime
(the exported QDQ model of that one op); the table counts, per op type, the output elements, the
fraction equal and the largest difference in LSB. ONNX Runtime requantizes in float
(``QLinearConv`` and friends round ``acc * (s_in * s_w / s_out)`` once, in float32), TFLite
Micro in fixed point (a 31-bit multiplier and a shift, rounding twice): the two differ by one
LSB on some outputs. The README's ONNX tables come from one run of this script.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from edgecraft.formats import read_tflite
from edgecraft.formats.onnx_ops import supported_onnx_ops
from edgecraft.formats.onnx_write import exportable_ops, one_op_graph, to_onnx
from edgecraft.ir.graph import Graph
from edgecraft.models.onnx_examples import dense_model, helper_model
from edgecraft.models.synthetic import ds_cnn, small_cnn, tiny_mlp
from edgecraft.runtime import run_model

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]


def per_op(graph: Graph, samples: int, stats: dict[str, list[int]]) -> None:
    """Add [elements, equal, max |diff|] per op type of ``graph`` to ``stats``."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    t = graph.input_tensors()[0]
    every = [k for op in graph.operators for k in op.outputs]
    probe = Graph(graph.tensors, graph.operators, graph.inputs, every)
    sessions = {}
    for j in range(len(graph.operators)):
        sessions[j] = ort.InferenceSession(to_onnx(one_op_graph(graph, j)).SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    for _ in range(samples):
        x = rng.integers(-128, 128, t.shape).astype(np.int8)
        values = dict(zip(every, run_model(probe, [x]), strict=True)) | {graph.inputs[0]: x}
        for j, op in enumerate(graph.operators):
            feeds = [values[k] for k in dict.fromkeys(k for k in op.inputs if k != -1 and k in values)]
            sess = sessions[j]
            theirs = sess.run(None, {i.name: v for i, v in zip(sess.get_inputs(), feeds, strict=True)})[0]
            diff = np.abs(values[op.outputs[0]].astype(np.int32) - theirs.astype(np.int32))
            s = stats[op.type]
            s[0] += diff.size
            s[1] += int(np.sum(diff == 0))
            s[2] = max(s[2], int(diff.max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    graphs = {"small_cnn": small_cnn(), "ds_cnn": ds_cnn(), "tiny_mlp": tiny_mlp()}
    import tempfile

    from edgecraft.formats.onnx_read import read_onnx
    from edgecraft.optimize.ir_ptq import quantize_graph

    with tempfile.TemporaryDirectory() as d:
        for name, build in (("onnx_helper", helper_model), ("onnx_dense", dense_model)):
            path = Path(d) / f"{name}.onnx"
            calib = build(path, float_only_ops=True) if build is dense_model else build(path)
            graphs[f"{name} (edgecraft PTQ)"] = quantize_graph(read_onnx(path), calib)
    for name in MODELS:
        path = CONFORMANCE / f"{name}.tflite"
        if path.exists():
            graphs[name] = read_tflite(path)
        else:
            print(f"(conformance model {name} not found at {CONFORMANCE}; skipped)", file=sys.stderr)
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for graph in graphs.values():
        per_op(graph, args.samples, stats)
    print(f"models: {', '.join(graphs)}; {args.samples} random int8 inputs each\n")
    print("| op | outputs compared | equal to TFLM | max diff (LSB) |")
    print("|---|---:|---:|---:|")
    for op, (n, eq, mx) in sorted(stats.items()):
        print(f"| {op} | {n:,} | {100 * eq / n:.2f}% | {mx} |")
    print(f"\nONNX ops read ({len(supported_onnx_ops())}): {', '.join(supported_onnx_ops())}")
    print(f"\nIR ops exported ({len(exportable_ops())}): {', '.join(exportable_ops())}")


if __name__ == "__main__":
    main()
