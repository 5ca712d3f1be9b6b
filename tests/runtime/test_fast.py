"""The runtime's fast paths give exactly the reference kernels' bytes (tolerance 0, randomized
cases), apply only under their stated conditions, and ``reference=True`` runs none of them."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import read_tflite
from edgecraft.ir import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import small_cnn, tiny_mlp
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.registry import get_op
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from edgecraft.runtime.fast import FAST_PATHS, choose
from edgecraft.runtime.fast.blas import exact_dtype
from oracle import INT8_MODELS, check_tensor, check_tflm, conformance_model

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


#: Every fast path and the test below that compares it with the reference kernels.
TESTED = {"lookup_table": "test_lookup_table_equals_reference",
          "pair_table": "test_pair_table_equals_reference",
          "average_pool_2d_prepared": "test_average_pool_prepared_equals_reference",
          "fully_connected_int8_prepared": "test_prepared_fully_connected_equals_reference",
          "conv_2d_int8_prepared": "test_conv_im2col_equals_reference",
          "depthwise_conv_2d_int8_prepared": "test_depthwise_exact_float_equals_reference",
          "conv_2d_im2col": "test_conv_im2col_equals_reference",
          "depthwise_conv_2d_float": "test_depthwise_exact_float_equals_reference",
          "fully_connected_blas": "test_fully_connected_blas_equals_reference",
          "softmax_exp_table": "test_softmax_exp_table_equals_reference"}


def test_every_fast_path_has_its_test() -> None:
    assert {p.name for p in FAST_PATHS} == set(TESTED)
    assert all(callable(globals()[name]) for name in TESTED.values())


def same_bytes(graph: Graph, inputs: list[np.ndarray], path: str | None) -> None:
    """The default interpreter runs ``path`` on operator 0 and equals the reference-only one.
    An int8 layer runs its prepared path; the unprepared ``path`` it would otherwise take is
    then checked on its own against the reference kernel."""
    if path is not None and graph.tensors[graph.operators[0].inputs[0]].dtype == "int8" \
            and graph.operators[0].type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        unprepared_equals_reference(graph, inputs, path)
        path = f"{graph.operators[0].type.lower()}_int8_prepared"
    fast, spec = Interpreter(graph), Interpreter(graph, reference=True)
    assert fast.fast_paths == ({0: path} if path else {})
    assert spec.fast_paths == {}
    for got, want in zip(fast.run(inputs), spec.run(inputs), strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want), f"{path}: {np.flatnonzero(got != want).size} elements differ"


def unprepared_equals_reference(graph: Graph, inputs: list[np.ndarray], path: str) -> None:
    """Operator 0's fast path ``path`` applies and its kernel gives the reference kernel's bytes."""
    op = graph.operators[0]
    ctx, spec = OpContext(op, graph), OpContext(op, graph)
    opdef = get_op(op.type)
    fast = next(p for p in FAST_PATHS if p.name == path)
    assert fast.applies(opdef, ctx)
    args = [inputs[0], *(graph.tensors[k].data for k in op.inputs[1:])]
    got, want = fast.kernel(opdef, ctx)(ctx, args)[0], opdef.kernel_for(spec)(spec, args)[0]
    assert np.array_equal(got, want), f"{path}: {np.flatnonzero(got != want).size} elements differ"


def window_case(rng: np.random.Generator, op: str, hybrid: bool) -> tuple[Graph, np.ndarray]:
    """A random CONV_2D or DEPTHWISE_CONV_2D: geometry, groups, dilation, padding, quantization."""
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 12)), int(rng.integers(3, 12))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    sh, sw, dh, dw = (int(v) for v in rng.integers(1, 3, 4))
    if op == "CONV_2D":
        groups = int(rng.choice([1, 1, 2]))
        cin = groups * int(rng.integers(1, 5))
        cout = groups * int(rng.integers(1, 7))
        wshape, axis = (cout, kh, kw, cin // groups), 0
    else:
        cin, mult = int(rng.integers(1, 7)), int(rng.integers(1, 3))
        cout = cin * mult
        wshape, axis = (1, kh, kw, cout), 3
    per_channel = rng.random() < 0.6 or (op != "CONV_2D" and hybrid)  # LiteRT's hybrid depthwise
    s_w = rng.uniform(0.002, 0.02, cout if per_channel else 1)
    weights = rng.integers(-127, 128, wshape).astype(np.int8)
    b = GraphBuilder()
    if hybrid:
        x = b.tensor("x", (n, h, w, cin), "float32")
        bias = b.const("b", rng.standard_normal(cout).astype(np.float32))
        xv = (rng.standard_normal((n, h, w, cin)) * 3).astype(np.float32)
        out_q, out_dtype = None, "float32"
    else:
        s_in = float(rng.uniform(0.005, 0.1))
        x = b.tensor("x", (n, h, w, cin), "int8", qparams(s_in, int(rng.integers(-128, 128))))
        bias = b.const("b", rng.integers(-3000, 3000, cout).astype(np.int32),
                       qparams(np.float32(s_in) * s_w.astype(np.float32), 0, axis=0))
        xv = rng.integers(-128, 128, (n, h, w, cin)).astype(np.int8)
        taps = wshape[1] * wshape[2] * (wshape[3] if op == "CONV_2D" else 1)
        spread = s_in * float(s_w.mean()) * 5000 * np.sqrt(taps)  # about the real sums' spread
        out_q, out_dtype = qparams(spread / 128, int(rng.integers(-40, 40))), "int8"
    wt = b.const("w", weights, qparams(s_w, 0, axis=axis))
    fits = (kh - 1) * dh < h and (kw - 1) * dw < w
    padding = str(rng.choice(["SAME", "VALID"])) if fits else "SAME"
    attrs = dict(padding=padding, stride_h=sh, stride_w=sw, dilation_h_factor=dh, dilation_w_factor=dw,
                 fused_activation_function=str(rng.choice(ACTS)))
    if op == "DEPTHWISE_CONV_2D":
        attrs["depth_multiplier"] = cout // cin
    shape = (n, out_size(h, kh, sh, dh, padding), out_size(w, kw, sw, dw, padding), cout)
    y = b.tensor("y", shape, out_dtype, out_q)
    b.op(op, [x, wt, bias], [y], **attrs)
    return b.build([x], [y]), xv


def out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    eff = (k - 1) * dilation + 1
    return -(-size // stride) if padding == "SAME" else (size - eff) // stride + 1


@pytest.mark.parametrize("seed", range(12))
def test_conv_im2col_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    g, xv = window_case(rng, "CONV_2D", hybrid=seed % 3 == 2)
    same_bytes(g, [xv], "conv_2d_im2col")


@pytest.mark.parametrize("seed", range(12))
def test_depthwise_exact_float_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    g, xv = window_case(rng, "DEPTHWISE_CONV_2D", hybrid=seed % 3 == 2)
    same_bytes(g, [xv], "depthwise_conv_2d_float")


def test_exactness_rule_switches_to_float64_and_stays_exact() -> None:
    """3x3x128 taps of weights near 127 on inputs 255 above the zero point: sums near 2**25,
    where float32 would round. The bias cancels all but a few units of each exact sum and the
    multiplier is 1, so an accumulator off by one shows in the output."""
    rng = np.random.default_rng(7)
    weights = rng.integers(100, 128, (4, 3, 3, 128)).astype(np.int8)
    exact = 255 * weights.astype(np.int64).reshape(4, -1).sum(axis=1)
    b = GraphBuilder()
    x = b.tensor("x", (1, 5, 5, 128), "int8", qparams(0.5, -128))
    w = b.const("w", weights, qparams(0.5))
    bias = b.const("b", (np.array([-3, 0, 5, 40]) - exact).astype(np.int32), qparams(0.25))
    y = b.tensor("y", (1, 3, 3, 4), "int8", qparams(0.25, 0))
    op = b.op("CONV_2D", [x, w, bias], [y], padding="VALID")
    g = b.build([x], [y])
    xv = np.full((1, 5, 5, 128), 127, np.int8)
    assert exact_dtype(OpContext(op, g), weights, 3 * 3 * 128) is np.float64
    assert exact_dtype(OpContext(op, g), np.ones((1, 3, 3, 4), np.int8), 36) is np.float32
    same_bytes(g, [xv], "conv_2d_im2col")
    assert check_tflm(g, [xv], "large sums")[0][0, 0, 0].tolist() == [-3, 0, 5, 40]


def fc_case(rng: np.random.Generator, kind: str) -> tuple[Graph, np.ndarray]:
    """A random FULLY_CONNECTED: int8 per tensor (with a filter zero point) or per channel, or
    hybrid (float input, symmetric or asymmetric on-the-fly quantization)."""
    depth, units, rows = int(rng.integers(1, 90)), int(rng.integers(1, 20)), int(rng.integers(1, 5))
    per_channel = kind == "int8" and rng.random() < 0.5
    s_w = rng.uniform(0.002, 0.02, units if per_channel else 1)
    w_zp = int(rng.integers(-5, 6)) if kind == "int8" and not per_channel else 0
    b = GraphBuilder()
    if kind == "int8":
        s_in = float(rng.uniform(0.005, 0.1))
        x = b.tensor("x", (rows, depth), "int8", qparams(s_in, int(rng.integers(-128, 128))))
        bias_q = qparams(np.float32(s_in) * s_w)
        bias = b.const("b", rng.integers(-3000, 3000, units).astype(np.int32), bias_q)
        spread = s_in * float(s_w.mean()) * 6000 * np.sqrt(depth)
        y = b.tensor("y", (rows, units), "int8", qparams(spread / 128, 3))
        xv = rng.integers(-128, 128, (rows, depth)).astype(np.int8)
    else:
        x = b.tensor("x", (rows, depth), "float32")
        bias = b.const("b", rng.standard_normal(units).astype(np.float32))
        y = b.tensor("y", (rows, units), "float32")
        xv = rng.standard_normal((rows, depth)).astype(np.float32)
    w = b.const("w", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(s_w, w_zp))
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=str(rng.choice(ACTS)),
         asymmetric_quantize_inputs=kind == "hybrid_asymmetric")
    return b.build([x], [y]), xv


@pytest.mark.parametrize("seed", range(12))
def test_fully_connected_blas_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    g, xv = fc_case(rng, ["int8", "int8", "hybrid", "hybrid_asymmetric"][seed % 4])
    same_bytes(g, [xv], "fully_connected_blas")


@pytest.mark.parametrize("seed", range(12))
def test_prepared_fully_connected_equals_reference(seed: int) -> None:
    """Random int8 layers (per tensor with a filter zero point, or per channel) run prepared,
    bound to the arena, and equal the reference; the kernel interface (new arrays) too. More
    cases (wrapping sums, left shifts, float64 sums) in test_fast_plan.py."""
    rng = np.random.default_rng(500 + seed)
    g, xv = fc_case(rng, "int8")
    same_bytes(g, [xv], "fully_connected_blas")
    op = g.operators[0]
    ctx, spec = OpContext(op, g), OpContext(op, g)
    prepared = choose(get_op(op.type), ctx)
    assert prepared is not None and prepared.name == "fully_connected_int8_prepared"
    args = [xv, *(g.tensors[k].data for k in op.inputs[1:])]
    got = prepared.kernel(get_op(op.type), ctx)(ctx, args)[0]
    assert np.array_equal(got, get_op(op.type).kernel_for(spec)(spec, args)[0])


@pytest.mark.parametrize("seed", range(8))
def test_pair_table_equals_reference(seed: int) -> None:
    """int8 ADD/SUB with random scales, zero points, activations, broadcasting and a constant
    operand: the 65,536-entry table gives the reference's bytes."""
    rng = np.random.default_rng(600 + seed)
    op = "ADD" if seed % 2 == 0 else "SUB"
    shape = (1, 3, 4, 5)
    other = [shape, (5,), (1, 3, 1, 5), (1, 1, 1, 1)][seed % 4]
    b = GraphBuilder()
    q = [qparams(float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128))) for _ in range(3)]
    x = b.tensor("x", shape, "int8", q[0])
    if seed >= 4:
        y = b.const("y", rng.integers(-128, 128, other).astype(np.int8), q[1])
    else:
        y = b.tensor("y", other, "int8", q[1])
    z = b.tensor("z", shape, "int8", q[2])
    b.op(op, [x, y], [z], fused_activation_function=str(rng.choice(ACTS)))
    g = b.build([x] if seed >= 4 else [x, y], [z])
    inputs = [rng.integers(-128, 128, shape).astype(np.int8)]
    if seed < 4:
        inputs.append(rng.integers(-128, 128, other).astype(np.int8))
    same_bytes(g, inputs, "pair_table")
    for edge in (-128, 127):
        same_bytes(g, [np.full(shape, edge, np.int8), *inputs[1:]], "pair_table")


@pytest.mark.parametrize("seed", range(10))
def test_average_pool_prepared_equals_reference(seed: int) -> None:
    """int8 and int16 AVERAGE_POOL_2D, random geometry (partial windows at SAME borders count
    only the taps inside), activation, extremes: the bound form gives the reference's bytes."""
    rng = np.random.default_rng(700 + seed)
    dtype = "int16" if seed % 3 == 2 else "int8"
    n, h, w, c = 1 + seed % 2, int(rng.integers(2, 11)), int(rng.integers(2, 11)), int(rng.integers(1, 6))
    fh, fw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    padding = str(rng.choice(["SAME", "VALID"]))
    q = qparams(0.05, 0 if dtype == "int16" else int(rng.integers(-128, 128)))
    b = GraphBuilder()
    x = b.tensor("x", (n, h, w, c), dtype, q)
    shape = (n, out_size(h, fh, sh, 1, padding), out_size(w, fw, sw, 1, padding), c)
    y = b.tensor("y", shape, dtype, q)
    b.op("AVERAGE_POOL_2D", [x], [y], padding=padding, stride_h=sh, stride_w=sw, filter_height=fh,
         filter_width=fw, fused_activation_function=str(rng.choice(ACTS)))
    g = b.build([x], [y])
    info = np.iinfo(dtype)
    for xv in (rng.integers(info.min, int(info.max) + 1, (n, h, w, c)),
               np.full((n, h, w, c), info.min), np.full((n, h, w, c), info.max)):
        same_bytes(g, [xv.astype(dtype)], "average_pool_2d_prepared")


def test_pair_table_raises_what_the_reference_raises() -> None:
    """An output scale too small for a quantized add: both runtimes refuse it on the first run."""
    b = GraphBuilder()
    x, y = b.tensor("x", (4,), "int8", qparams(1.0, 0)), b.tensor("y", (4,), "int8", qparams(1.0, 0))
    z = b.tensor("z", (4,), "int8", qparams(1e-9, 0))
    b.op("ADD", [x, y], [z])
    g = b.build([x, y], [z])
    xv = np.zeros(4, np.int8)
    assert Interpreter(g).fast_paths == {0: "pair_table"}
    for interp in (Interpreter(g), Interpreter(g, reference=True)):
        with pytest.raises(OpError, match="out of range for a quantized add"):
            interp.run([xv, xv])


@pytest.mark.parametrize("seed", range(6))
def test_softmax_exp_table_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    shape = tuple(int(v) for v in rng.integers(1, 12, int(rng.integers(1, 4))))
    out_dtype = "int16" if seed % 3 == 2 else "int8"
    b = GraphBuilder()
    x = b.tensor("x", shape, "int8", qparams(float(rng.uniform(0.01, 0.5)), int(rng.integers(-128, 128))))
    out_q = qparams(1 / 256, -128) if out_dtype == "int8" else qparams(1 / 65536, -32768)
    y = b.tensor("y", shape, out_dtype, out_q)
    b.op("SOFTMAX", [x], [y], beta=float(rng.uniform(0.2, 2.0)))
    g = b.build([x], [y])
    xv = rng.integers(-128, 128, shape).astype(np.int8)
    xv.flat[: min(xv.size, 3)] = 127  # rows with several maxima
    same_bytes(g, [xv], "softmax_exp_table")


LOOKUP_CASES = [
    ("LOGISTIC", {}, qparams(0.1, 3), qparams(1 / 256, -128)),
    ("TANH", {}, qparams(0.05, -7), qparams(1 / 128, 0)),
    ("HARD_SWISH", {}, qparams(0.04, 10), qparams(0.03, -20)),
    ("RELU", {}, qparams(0.1, -5), qparams(0.05, -128)),
    ("RELU6", {}, qparams(0.05, -3), qparams(0.05, -3)),
    ("LEAKY_RELU", {"alpha": 0.1}, qparams(0.1, 2), qparams(0.07, -9)),
    ("QUANTIZE", {}, qparams(0.1, 2), qparams(0.3, -9)),
]


def unary_graph(op: str, attrs: dict, qin, qout, out_dtype: str = "int8") -> Graph:  # type: ignore[no-untyped-def]
    g = GraphBuilder()
    x = g.tensor("x", (2, 5, 7, 3), "int8", qin)
    y = g.tensor("y", (2, 5, 7, 3), out_dtype, qout)
    g.op(op, [x], [y], **attrs)
    return g.build([x], [y])


@pytest.mark.parametrize(("op", "attrs", "qin", "qout"), LOOKUP_CASES)
def test_lookup_table_equals_reference(op: str, attrs: dict, qin, qout) -> None:  # type: ignore[no-untyped-def]
    graph = unary_graph(op, attrs, qin, qout)
    x = np.random.default_rng(0).integers(-128, 128, (2, 5, 7, 3), dtype=np.int8)
    x.flat[:256] = np.arange(-128, 128)  # every int8 value
    same_bytes(graph, [x], "lookup_table")
    check_tflm(graph, [x], op)


def test_dequantize_table_and_float_ops_untouched() -> None:
    graph = unary_graph("DEQUANTIZE", {}, qparams(0.1, 2), None, "float32")
    x = np.arange(-128, 82, dtype=np.int8).reshape(2, 5, 7, 3)
    same_bytes(graph, [x], "lookup_table")
    assert np.array_equal(Interpreter(graph).run([x])[0], ((x.astype(np.float32) - 2) * np.float32(0.1)))
    g = GraphBuilder()
    xf, yf = g.tensor("x", (4,), "float32"), g.tensor("y", (4,), "float32")
    op = g.op("TANH", [xf], [yf])
    assert choose(get_op("TANH"), OpContext(op, g.build([xf], [yf]))) is None


def test_conditions_refuse_what_the_fast_forms_cannot_do() -> None:
    """A filter that is not constant (it could change between calls) or not int8 gets no fast
    path; a table for an op configured wrongly raises the reference kernel's error."""
    b = GraphBuilder()
    x = b.tensor("x", (2, 6), "int8", qparams(0.05, 1))
    w = b.tensor("w", (3, 6), "int8", qparams(0.02, 0))
    y = b.tensor("y", (2, 3), "int8", qparams(0.1, 0))
    b.op("FULLY_CONNECTED", [x, w], [y])
    g = b.build([x, w], [y])
    interp = Interpreter(g)
    assert interp.fast_paths == {}
    rng = np.random.default_rng(1)
    xv = rng.integers(-128, 128, (2, 6)).astype(np.int8)
    for _ in range(2):  # new weights each call are used, not a copy made on the first call
        wv = rng.integers(-127, 128, (3, 6)).astype(np.int8)
        assert np.array_equal(interp.run([xv, wv])[0], Interpreter(g, reference=True).run([xv, wv])[0])
    b = GraphBuilder()
    xf = b.tensor("x", (1, 4, 4, 2), "float32")
    wf = b.const("w", rng.standard_normal((3, 2, 2, 2)).astype(np.float32))
    yf = b.tensor("y", (1, 4, 4, 3), "float32")
    op = b.op("CONV_2D", [xf, wf], [yf], padding="SAME")
    assert choose(get_op("CONV_2D"), OpContext(op, b.build([xf], [yf]))) is None
    bad = unary_graph("LOGISTIC", {}, qparams(0.1, 3), qparams(1 / 256, 0))  # zero point must be -128
    xv = np.zeros((2, 5, 7, 3), np.int8)
    for interp in (Interpreter(bad), Interpreter(bad, reference=True)):
        with pytest.raises(OpError, match="zero point -128"):
            interp.run([xv])


@pytest.mark.parametrize("build", [small_cnn, tiny_mlp])
def test_reference_runtime_equals_default_on_models_in_code(build) -> None:  # type: ignore[no-untyped-def]
    graph = build(seed=5)
    rng = np.random.default_rng(5)
    fast, spec = Interpreter(graph), Interpreter(graph, reference=True)
    assert fast.fast_paths and spec.fast_paths == {}
    for _ in range(3):
        x = [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in graph.input_tensors()]
        for a, b in zip(fast.run(x), spec.run(x), strict=True):
            check_tensor(a, b, f"{graph.name} reference vs default")


@pytest.mark.conformance
@pytest.mark.parametrize("name", INT8_MODELS)
def test_reference_runtime_equals_tflm_on_conformance_models(name: str) -> None:
    """The specification alone (no fast path) on the corpus: equal to TFLM and to the default."""
    path = conformance_model(name)
    graph = read_tflite(path)
    fast, spec, tflm = Interpreter(graph), Interpreter(graph, reference=True), TflmRunner(path.read_bytes())
    assert spec.fast_paths == {} and fast.fast_paths
    rng = np.random.default_rng(11)
    for i in range(3):
        x = [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in graph.input_tensors()]
        for a, b, c in zip(spec.run(x), tflm.run(x), fast.run(x), strict=True):
            check_tensor(a, b, f"{name} #{i} reference kernels vs TFLM")
            check_tensor(c, a, f"{name} #{i} default vs reference kernels")

