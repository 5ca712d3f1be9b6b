"""Small float ONNX models built with ``onnx.helper`` (no downloads): the ONNX tests quantize
them with ONNX Runtime and with edgecraft's PTQ, and ``benchmarks/onnx_export.py`` measures
ONNX Runtime against TFLM on their ops."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def helper_model(path: Path) -> np.ndarray:
    """Write a float model to ``path``: Conv with asymmetric padding (a PAD), Sigmoid, Concat,
    AveragePool, Flatten, Gemm. Returns calibration data (N, 3, 8, 8)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("w", rng.standard_normal((6, 3, 3, 3)).astype(np.float32) * 0.3),
        ("b", rng.standard_normal(6).astype(np.float32) * 0.1),
        ("fw", rng.standard_normal((5, 12 * 3 * 3)).astype(np.float32) * 0.1),
        ("fb", rng.standard_normal(5).astype(np.float32) * 0.1)]]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[0, 0, 1, 1], strides=[1, 1]),
        helper.make_node("Sigmoid", ["c"], ["s"], name="sig"),
        helper.make_node("Concat", ["s", "c"], ["cat"], name="cat", axis=1),
        helper.make_node("AveragePool", ["cat"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "helper",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return rng.standard_normal((16, 3, 8, 8)).astype(np.float32)


def dense_model(path: Path, float_only_ops: bool = False) -> np.ndarray:
    """MatMul + Add (bias), LeakyRelu, Mul by a constant, Tanh, MatMul, and a Reshape and
    Transpose to a second output; with ``float_only_ops`` also HardSwish and ReduceMean (ops
    ONNX Runtime's quantizer leaves in float). Returns calibration data (N, 8)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("w", rng.standard_normal((8, 6)).astype(np.float32) * 0.4),
        ("b", rng.standard_normal(6).astype(np.float32) * 0.1),
        ("m", rng.standard_normal((1, 6)).astype(np.float32)),
        ("w2", rng.standard_normal((6, 4)).astype(np.float32) * 0.4),
        ("shape", np.array([1, 2, 3], np.int64))]]
    act = "hs" if float_only_ops else "mu"
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "b"], ["a"], name="bias"),
        helper.make_node("LeakyRelu", ["a"], ["l"], name="leaky", alpha=0.1),
        helper.make_node("Mul", ["l", "m"], ["mu"], name="scale"),
        *([helper.make_node("HardSwish", ["mu"], ["hs"], name="hs")] if float_only_ops else []),
        helper.make_node("Tanh", [act], ["t"], name="tanh"),
        helper.make_node("MatMul", ["t", "w2"], ["y"], name="mm2"),
        helper.make_node("Reshape", ["t", "shape"], ["r"], name="reshape"),
        helper.make_node("ReduceMean", ["r"], ["z"], name="mean", axes=[2], keepdims=0) if float_only_ops
        else helper.make_node("Transpose", ["r"], ["z"], name="tr", perm=[0, 2, 1]),
    ]
    z_shape = [1, 2] if float_only_ops else [1, 3, 2]
    g = helper.make_graph(nodes, "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4]),
                           helper.make_tensor_value_info("z", TensorProto.FLOAT, z_shape)], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return rng.standard_normal((32, 8)).astype(np.float32)
