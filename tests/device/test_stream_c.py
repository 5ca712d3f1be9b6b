"""The device loop's C twin (device/c/ec_stream.c), built for the host with gcc, against the
Python loop it mirrors: the detector on random score sequences and settings (same detections,
times and scores, exactly), the windower on random chunkings, int8 quantization on ties."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from importlib import resources
from typing import Any

import numpy as np
import pytest

from edgecraft.device.postprocess import Detector, PostProcessing
from edgecraft.device.ring import Windower
from edgecraft.dsp.quantize import quantize


class Post(ctypes.Structure):
    _fields_ = [("labels", ctypes.c_int), ("candidate", ctypes.POINTER(ctypes.c_uint8)),
                ("smooth_len", ctypes.c_int), ("threshold", ctypes.c_double),
                ("suppression_s", ctypes.c_double), ("min_count", ctypes.c_int)]


class Det(ctypes.Structure):
    _fields_ = [("cfg", ctypes.POINTER(Post)), ("history", ctypes.POINTER(ctypes.c_float)),
                ("filled", ctypes.c_int), ("next", ctypes.c_int), ("last_time", ctypes.c_double),
                ("run_label", ctypes.c_int), ("run_count", ctypes.c_int)]


class Win(ctypes.Structure):
    _fields_ = [("window", ctypes.c_int), ("stride", ctypes.c_int), ("sample_bytes", ctypes.c_int),
                ("buf", ctypes.POINTER(ctypes.c_uint8)), ("filled", ctypes.c_int), ("skip", ctypes.c_int),
                ("total", ctypes.c_uint32)]


WINDOW_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    d = tmp_path_factory.mktemp("ec_stream")
    src = resources.files("edgecraft.device").joinpath("c")
    for name in ("ec_stream.c", "ec_stream.h"):
        (d / name).write_text(src.joinpath(name).read_text())
    so = d / "libec_stream.so"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-shared",
                    "-fPIC", "ec_stream.c", "-o", so.name], cwd=d, check=True)
    lib = ctypes.CDLL(str(so))
    lib.ec_detector_update.restype = ctypes.c_int
    lib.ec_detector_update.argtypes = [ctypes.POINTER(Det), ctypes.c_double, ctypes.POINTER(ctypes.c_float),
                                       ctypes.POINTER(ctypes.c_double)]
    lib.ec_quantize_int8.restype = ctypes.c_int8
    lib.ec_quantize_int8.argtypes = [ctypes.c_float, ctypes.c_float, ctypes.c_int]
    lib.ec_windower_push.argtypes = [ctypes.POINTER(Win), ctypes.c_void_p, ctypes.c_int, WINDOW_FN,
                                     ctypes.c_void_p]
    return lib


def _c_detections(lib: ctypes.CDLL, times: np.ndarray, scores: np.ndarray, candidate: np.ndarray, smooth: int,
                  p: PostProcessing) -> list[tuple[int, int, float]]:
    n_labels = scores.shape[1]
    cand = (ctypes.c_uint8 * n_labels)(*candidate.astype(int))
    post = Post(n_labels, cand, smooth, p.threshold, p.suppression_s, p.min_count)
    history = (ctypes.c_float * (smooth * n_labels))()
    det = Det()
    lib.ec_detector_init(ctypes.byref(det), ctypes.byref(post), history)
    out = []
    score = ctypes.c_double()
    for k, (t, s) in enumerate(zip(times, scores, strict=True)):
        row = np.ascontiguousarray(s, np.float32)
        label = lib.ec_detector_update(ctypes.byref(det), float(t), row.ctypes.data_as(
            ctypes.POINTER(ctypes.c_float)), ctypes.byref(score))
        if label >= 0:
            out.append((k, label, score.value))
    return out


def test_detector_matches_postprocess_on_random_score_sequences(lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(0)
    detections = 0
    for case in range(60):
        n_labels = int(rng.integers(2, 13))
        labels = [f"l{i}" for i in range(n_labels)]
        ignore = tuple(rng.choice(labels, int(rng.integers(0, n_labels)), replace=False).tolist())
        stride = float(rng.choice([0.02, 0.1, 0.25, 0.32]))
        p = PostProcessing(threshold=float(rng.uniform(0.2, 0.9)), smoothing_s=float(rng.uniform(0, 1.5)),
                           suppression_s=float(rng.choice([0.0, stride, rng.uniform(0, 3)])),
                           min_count=int(rng.integers(1, 4)), ignore=ignore)
        n = int(rng.integers(20, 300))
        logits = rng.normal(0, 3, (n, n_labels)) + (rng.random((n, 1)) < 0.3) * 4 * np.eye(n_labels)[
            rng.integers(0, n_labels, n)]
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
        if case % 3 == 0:  # int8 softmax outputs: many equal sums, ties at the threshold
            probs = (np.round(probs * 256) / 256).astype(np.float32)
        times = np.arange(1, n + 1) * stride
        det = Detector(labels, stride, p)
        want = [(k, labels.index(d.label), d.score) for k, (t, s) in enumerate(zip(times, probs, strict=True))
                if (d := det.update(t, s)) is not None]
        got = _c_detections(lib, times, probs, det.candidates, det.smoother.length, p)
        assert got == want, (case, p)
        detections += len(want)
    assert detections > 100  # the cases detect things, not only nothing


def _collect(got: list[tuple[int, np.ndarray]], window: int, size: int, x: np.ndarray) -> Any:
    def on_window(_ctx: int, end: int, ptr: int) -> None:
        raw = ctypes.string_at(ptr, window * size)
        got.append((end, np.frombuffer(raw, x.dtype).reshape((window, *x.shape[1:])).copy()))
    return on_window


def test_windower_matches_ring_windower_on_random_chunks(lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(1)
    for window, stride, channels in ((400, 100, 0), (128, 32, 6), (50, 80, 0), (64, 64, 3), (10, 1, 0)):
        n = int(rng.integers(window // 2, 6 * window))
        shape = (n, channels) if channels else (n,)
        x = rng.integers(-30000, 30000, shape).astype(np.float32 if channels else np.int16)
        py = Windower(window, stride, channels, x.dtype)
        want: list[tuple[int, np.ndarray]] = []
        got: list[tuple[int, np.ndarray]] = []
        size = x.itemsize * max(1, channels)
        buf = (ctypes.c_uint8 * (window * size))()
        w = Win()
        lib.ec_windower_init(ctypes.byref(w), window, stride, size, buf)

        fn = WINDOW_FN(_collect(got, window, size, x))
        pos = 0
        while pos < n:
            k = int(rng.integers(1, 3 * stride + 2))
            chunk = np.ascontiguousarray(x[pos:pos + k])
            want += [(e, win.copy()) for e, win in py.feed(chunk)]
            lib.ec_windower_push(ctypes.byref(w), chunk.ctypes.data, len(chunk), fn, None)
            pos += k
        assert [e for e, _ in got] == [e for e, _ in want] and len(want) >= 1
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, want, strict=True))
        assert w.total == n


def test_quantize_int8_rounds_half_to_even_as_numpy(lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(2)
    scale = np.float32(0.05)
    ties = (np.arange(-300, 300) + 0.5).astype(np.float32) * scale  # x / scale lands on .5 (or next to it)
    x = np.concatenate([ties, rng.normal(0, 5, 2000).astype(np.float32), np.float32([1e9, -1e9, 0.0])])
    for zp in (-128, -3, 0, 17):
        want = quantize(x, float(scale), zp, "int8")
        got = np.array([lib.ec_quantize_int8(float(v), float(scale), zp) for v in x], np.int8)
        np.testing.assert_array_equal(got, want)


def test_numpy_sum_adds_in_numpys_pairwise_order(lib: ctypes.CDLL) -> None:
    """The anomaly loop's mean squared error and the probability check sum float32 as NumPy does."""
    lib.ec_numpy_sum.restype = ctypes.c_float
    lib.ec_numpy_sum.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.c_int]
    rng = np.random.default_rng(3)
    differs = 0
    for n in (1, 5, 7, 8, 12, 127, 128, 129, 400, 490, 1000, 1960):
        for _ in range(20):
            x = (rng.standard_normal(n) ** 2 * 10 ** rng.uniform(-3, 3, n)).astype(np.float32)
            got = lib.ec_numpy_sum(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n)
            assert np.float32(got) == np.sum(x), n
            differs += np.float32(got) != np.float32(np.sum(x.astype(np.float64)))
    assert differs > 0  # the order matters: a plain double sum rounds differently somewhere
