"""ONNX models in: ONNX Runtime's static QDQ quantization (per tensor and per channel) of a
PyTorch export and of a model built with ``onnx.helper`` becomes edgecraft's int8 IR, which TFLite
Micro runs bit for bit like edgecraft and which stays within an LSB or two of ONNX Runtime."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edgecraft.formats import ModelFormatError, read_model
from edgecraft.formats.onnx_read import UnsupportedOnnxOp, read_onnx
from edgecraft.ir.graph import Graph
from edgecraft.runtime import run_model
from oracle import check_tflm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_support import dense_model, helper_model, quantize_qdq, run_ort, torch_cnn_onnx


@pytest.fixture(scope="module")
def float_cnn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    d = tmp_path_factory.mktemp("onnx")
    calib = torch_cnn_onnx(d / "cnn.onnx")
    return d / "cnn.onnx", calib


def _check(path: Path, calib: np.ndarray) -> Graph:
    """Imported int8 graph: bit-exact with TFLM, and within 4 LSB of ONNX Runtime on the QDQ model
    (ONNX Runtime requantizes in float at every layer; the LOGISTIC step requantizes from TFLM's
    fixed 1/256 output scale: the differences add up along the model)."""
    graph = read_model(path)
    t, o = graph.input_tensors()[0], graph.output_tensors()[0]
    assert t.dtype == "int8" and o.dtype == "int8"
    for s in calib[:4]:
        q = np.clip(np.round(s / t.scale) + t.zero_point, -128, 127).astype(np.int8).reshape(t.shape)
        ours = check_tflm(graph, [q], str(path))[0]
        exact_input = ((q.astype(np.float32) - t.zero_point) * np.float32(t.scale)).reshape(s[None].shape)
        theirs = np.round(run_ort(path, exact_input) / o.scale) + o.zero_point
        assert np.abs(ours.astype(np.float64) - theirs.reshape(ours.shape)).max() <= 4
    return graph


@pytest.mark.parametrize("per_channel", [False, True])
def test_onnx_runtime_qdq_of_a_pytorch_export(float_cnn: tuple[Path, np.ndarray], per_channel: bool,
                                              tmp_path: Path) -> None:
    src, calib = float_cnn
    quantize_qdq(src, tmp_path / "q.onnx", calib, per_channel)
    graph = _check(tmp_path / "q.onnx", calib)
    types = [op.type for op in graph.operators]
    for want in ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"):
        assert want in types
    conv = next(op for op in graph.operators if op.type == "CONV_2D")
    w, b = graph.tensors[conv.inputs[1]], graph.tensors[conv.inputs[2]]
    assert w.dtype == "int8" and b.dtype == "int32" and not np.any(w.quant.zero_point)
    assert w.quant.per_channel == per_channel


@pytest.mark.parametrize(("per_channel", "uint8"), [(False, False), (True, False), (True, True)])
def test_onnx_runtime_qdq_of_a_helper_model(per_channel: bool, uint8: bool, tmp_path: Path) -> None:
    """uint8 activations become the equivalent int8 ones (q - 128, zero point - 128), exactly."""
    calib = helper_model(tmp_path / "f.onnx")
    quantize_qdq(tmp_path / "f.onnx", tmp_path / "q.onnx", calib, per_channel, uint8)
    types = [op.type for op in _check(tmp_path / "q.onnx", calib).operators]
    assert {"PAD", "CONV_2D", "LOGISTIC", "CONCATENATION", "AVERAGE_POOL_2D", "FULLY_CONNECTED"} <= set(types)


def test_onnx_runtime_qdq_of_a_dense_model(tmp_path: Path) -> None:
    """MatMul + Add becomes FULLY_CONNECTED + ADD of an int8 constant (ONNX Runtime quantizes
    the Add's constant as int8, not as an int32 bias); two outputs."""
    calib = dense_model(tmp_path / "f.onnx")
    quantize_qdq(tmp_path / "f.onnx", tmp_path / "q.onnx", calib, True)
    graph = _check(tmp_path / "q.onnx", calib)
    assert [op.type for op in graph.operators if op.type != "QUANTIZE"] == [
        "FULLY_CONNECTED", "ADD", "LEAKY_RELU", "MUL", "TANH", "FULLY_CONNECTED", "RESHAPE", "TRANSPOSE"]
    assert len(graph.outputs) == 2


def test_ops_onnx_runtime_leaves_in_float_are_named(tmp_path: Path) -> None:
    calib = dense_model(tmp_path / "f.onnx", float_only_ops=True)
    quantize_qdq(tmp_path / "f.onnx", tmp_path / "q.onnx", calib, True)
    with pytest.raises(ModelFormatError, match=r"HARD_SWISH making 'hs'.*edgecraft quantize"):
        read_model(tmp_path / "q.onnx")


def test_a_float_model_is_refused_with_what_to_do(float_cnn: tuple[Path, np.ndarray]) -> None:
    with pytest.raises(ModelFormatError, match=r"edgecraft quantize .* --calibration"):
        read_model(float_cnn[0])
    float_graph = read_onnx(float_cnn[0])  # but it reads, as a float graph
    x = float_cnn[1][:1]
    np.testing.assert_allclose(run_model(float_graph, [x])[0], run_ort(float_cnn[0], x), atol=1e-5)


def test_an_unsupported_op_names_the_op_the_node_and_what_to_do(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("Erf", ["x"], ["y"], name="my_erf")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "e.onnx"))
    with pytest.raises(UnsupportedOnnxOp) as e:
        read_model(tmp_path / "e.onnx")
    message = str(e.value)
    assert "'my_erf'" in message and "Erf" in message and "supported:" in message and "\n" not in message


def test_a_bias_at_another_scale_is_rescaled_with_a_warning(tmp_path: Path) -> None:
    """TFLM reads an int32 bias at input scale x weight scale; a QDQ model may state another."""
    import onnx
    from onnx import numpy_helper

    from edgecraft.formats.onnx_write import to_onnx
    from edgecraft.models.synthetic import tiny_mlp

    graph = tiny_mlp()
    model = to_onnx(graph)
    inits = {i.name: i for i in model.graph.initializer}
    dq = next(n for n in model.graph.node if n.op_type == "DequantizeLinear"
              and n.input[0] in inits and numpy_helper.to_array(inits[n.input[0]]).dtype == np.int32)
    bias, scale = (numpy_helper.to_array(inits[n]) for n in dq.input[:2])
    inits[dq.input[0]].CopyFrom(numpy_helper.from_array((bias // 2).astype(np.int32), dq.input[0]))
    inits[dq.input[1]].CopyFrom(numpy_helper.from_array((scale * 2).astype(np.float32), dq.input[1]))
    onnx.save(model, str(tmp_path / "m.onnx"))
    with pytest.warns(UserWarning, match="rescaled"):
        back = read_model(tmp_path / "m.onnx")
    fc = next(op for op in back.operators if op.type == "FULLY_CONNECTED")
    got = back.tensors[fc.inputs[2]].data
    assert got is not None and np.abs(got.astype(np.int64) - bias).max() <= 1


def test_a_hand_written_qdq_model_without_zero_points(tmp_path: Path) -> None:
    """DequantizeLinear without a zero point: 0 of the integers' own type (int8 weights, int32
    bias), as ONNX defines it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)
    arrays = {
        "xs": np.float32(0.05), "xz": np.int8(3), "ys": np.float32(0.1), "yz": np.int8(-5),
        "w": rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8), "ws": np.float32(0.01),
        "b": rng.integers(-500, 500, 4).astype(np.int32), "bs": np.float32(0.05 * 0.01),
    }
    inits = [numpy_helper.from_array(np.asarray(a), n) for n, a in arrays.items()]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xf"]),
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wf"]),
        helper.make_node("DequantizeLinear", ["b", "bs"], ["bf"]),
        helper.make_node("Conv", ["xf", "wf", "bf"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("QuantizeLinear", ["c", "ys", "yz"], ["cq"]),
        helper.make_node("DequantizeLinear", ["cq", "ys", "yz"], ["y"]),
    ]
    g = helper.make_graph(nodes, "hand",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "hand.onnx"))
    graph = _check(tmp_path / "hand.onnx", rng.standard_normal((2, 2, 5, 5)).astype(np.float32))
    conv = next(op for op in graph.operators if op.type == "CONV_2D")
    np.testing.assert_array_equal(graph.tensors[conv.inputs[2]].data, arrays["b"])
    assert conv.attrs["padding"] == "SAME"
