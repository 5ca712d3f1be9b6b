"""`edgecraft export --onnx`: the ONNX QDQ model runs in ONNX Runtime close to edgecraft's int8
outputs (ONNX Runtime requantizes in float: a few LSB at most), and reads back into the same
int8 graph, bit for bit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from edgecraft.cli.app import main
from edgecraft.formats import read_model, read_tflite, write_tflite
from edgecraft.formats.onnx_write import one_op_graph, to_onnx, write_onnx
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import ds_cnn, small_cnn, tiny_mlp
from edgecraft.runtime import run_model
from oracle import INT8_MODELS, check_tflm, conformance_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_support import dense_model, helper_model, run_ort, torch_cnn_onnx

SYNTHETIC = {"small_cnn": small_cnn, "ds_cnn": ds_cnn, "tiny_mlp": tiny_mlp}
#: Float ONNX models quantized by edgecraft's PTQ: LOGISTIC, TANH, CONCATENATION, PAD, MEAN,
#: LEAKY_RELU, HARD_SWISH, MUL, TRANSPOSE, QUANTIZE, MAX_POOL_2D ... (ops the others lack).
PTQ_MODELS = {"ptq_helper": helper_model, "ptq_dense": dense_model, "ptq_torch_cnn": torch_cnn_onnx}


def _inputs(graph: Graph, n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    t = graph.input_tensors()[0]
    return [rng.integers(-128, 128, t.shape).astype(np.int8) for _ in range(n)]


def _graph(name: str) -> Graph:
    if name in PTQ_MODELS:
        import tempfile

        from edgecraft.formats.onnx_read import read_onnx
        from edgecraft.optimize.ir_ptq import quantize_graph

        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "f.onnx"
            calib = PTQ_MODELS[name](path)
            return quantize_graph(read_onnx(path), calib)
    return SYNTHETIC[name]() if name in SYNTHETIC else read_tflite(conformance_model(name))


def _close(ours: np.ndarray, theirs: np.ndarray, label: str) -> tuple[int, int]:
    assert theirs.dtype == ours.dtype and theirs.shape == ours.shape, label
    diff = np.abs(ours.astype(np.int32) - theirs.astype(np.int32))
    assert diff.max() <= 2, f"{label}: ONNX Runtime differs by {diff.max()} LSB"
    return int(np.sum(diff == 0)), diff.size


@pytest.mark.parametrize("name", [*SYNTHETIC, *PTQ_MODELS, *INT8_MODELS])
def test_onnx_runtime_runs_each_exported_op_within_two_lsb(name: str) -> None:
    """Op by op, on the activations the whole model computes (differences do not compound)."""
    graph = _graph(name)
    x = _inputs(graph, 1)[0]
    every = [k for op in graph.operators for k in op.outputs]
    probe = Graph(graph.tensors, graph.operators, graph.inputs, every)
    values = dict(zip(every, run_model(probe, [x]), strict=True)) | {graph.inputs[0]: x}
    equal = total = 0
    for j, op in enumerate(graph.operators):
        one = one_op_graph(graph, j)
        feeds = [values[k] for k in dict.fromkeys(k for k in op.inputs if k != -1 and k in values)]
        ours = run_model(one, feeds)[0]
        import onnxruntime as ort

        sess = ort.InferenceSession(to_onnx(one).SerializeToString(), providers=["CPUExecutionProvider"])
        theirs = sess.run(None, {i.name: v for i, v in zip(sess.get_inputs(), feeds, strict=True)})[0]
        e, t = _close(ours, theirs, f"{name} op {j} {op.type}")
        equal, total = equal + e, total + t
    assert equal / total >= 0.7, f"{name}: only {equal}/{total} outputs equal"


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_onnx_runtime_runs_the_whole_export(name: str) -> None:
    graph = _graph(name)
    data = to_onnx(graph).SerializeToString()
    for x in _inputs(graph):
        _close(run_model(graph, [x])[0], run_ort(data, x), name)


@pytest.mark.parametrize("name", [*SYNTHETIC, *PTQ_MODELS, *INT8_MODELS])
def test_export_reads_back_as_the_same_int8_graph(name: str, tmp_path: Path) -> None:
    graph = _graph(name)
    write_onnx(graph, tmp_path / "m.onnx")
    back = read_model(tmp_path / "m.onnx")
    assert [op.type for op in back.operators] == [op.type for op in graph.operators]
    for x in _inputs(graph):
        for a, b in zip(run_model(graph, [x]), run_model(back, [x]), strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(write_tflite(back)) > 0


def test_read_back_export_is_bit_exact_with_tflm(tmp_path: Path) -> None:
    write_onnx(ds_cnn(), tmp_path / "m.onnx")
    check_tflm(read_model(tmp_path / "m.onnx"), _inputs(ds_cnn(), 1), "ds_cnn via ONNX")


def test_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.tflite").write_bytes(write_tflite(small_cnn()))
    with pytest.raises(SystemExit) as e:
        main(["export", str(tmp_path / "m.tflite"), "--onnx", str(tmp_path / "m.onnx"), "-f", "json"])
    assert e.value.code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["out"] == str(tmp_path / "m.onnx") and info["nodes"] > len(info["ops"])
    x = _inputs(small_cnn(), 1)[0]
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(SystemExit) as e:  # the export is a model every command takes
        main(["run", str(tmp_path / "m.onnx"), "--input", str(tmp_path / "x.npy"),
              "--output", str(tmp_path / "y.npy"), "-f", "json"])
    assert e.value.code == 0
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), run_model(small_cnn(), [x])[0])


def test_readme_lists_the_onnx_coverage() -> None:
    """The README's coverage lists name every ONNX op the reader translates and every IR op the
    writer exports (``benchmarks/onnx_export.py`` prints both)."""
    import re

    from edgecraft.formats.onnx_ops import supported_onnx_ops
    from edgecraft.formats.onnx_write import exportable_ops

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = text.index("ONNX ops read:")
    listed = set(re.findall(r"[A-Za-z_0-9]+", text[start:text.index("(both lists", start)]))
    missing = [op for op in [*supported_onnx_ops(), *exportable_ops()] if op not in listed]
    assert missing == [], f"README's ONNX coverage lacks {missing}"
