"""Graphs of TFLM's signal-library ops for the C tests (host and emulated): one-op graphs with
random options, and the micro_speech audio preprocessor as TFLM's example ships it
(``audio_preprocessor_int8.tflite``: the signal chain of ``dsp/signal_graph.py`` between the same
builtins, a (1, 480) int16 frame in, 40 int8 features out), built here with the GraphBuilder."""

from __future__ import annotations

import numpy as np

from edgecraft.dsp.micro_speech import MICRO_SPEECH, tables
from edgecraft.dsp.signal_graph import log_features
from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph


def one_op(op: str, inputs: list[tuple[str, tuple[int, ...], str] | np.ndarray],
           outputs: list[tuple[tuple[int, ...], str]], **attrs: object) -> Graph:
    """A graph of one signal op: inputs are (name, shape, dtype) activations or constants."""
    b = GraphBuilder(op)
    ins, feeds = [], []
    for i, spec in enumerate(inputs):
        if isinstance(spec, np.ndarray):
            ins.append(b.const(f"c{i}", spec))
            if spec.ndim == 0:  # the builder stores constants at least 1-D; TFLM wants a scalar here
                b.tensors[-1].shape, b.tensors[-1].data = (), spec
        else:
            k = b.tensor(spec[0], spec[1], spec[2])
            ins.append(k)
            feeds.append(k)
    outs = [b.tensor(f"y{j}", shape, dtype) for j, (shape, dtype) in enumerate(outputs)]
    b.op(op, ins, outs, **attrs)
    return b.build(feeds, outs)


def audio_preprocessor_int8() -> Graph:
    """TFLM micro_speech's int8 audio preprocessor: one 480-sample int16 frame (1, 480) in, 40 int8
    features out; the spectral subtraction keeps its noise estimate from frame to frame."""
    cfg, t = MICRO_SPEECH, tables(MICRO_SPEECH)
    b = GraphBuilder("audio_preprocessor_int8")
    n, ch, bins = cfg.window_samples, cfg.num_channels, cfg.fft_size // 2 + 1

    def i32(name: str, *values: int) -> int:
        return b.const(name, np.array(values, np.int32))

    def step(op: str, ins: list[int], shape: tuple[int, ...], dtype: str, **attrs: object) -> int:
        y = b.tensor(f"{op.lower()}{len(b.tensors)}", shape, dtype)
        b.op(op, ins, [y], **attrs)
        return y

    x = b.tensor("frame", (1, n), "int16")
    w = step("SignalWindow", [x, b.const("window", t.window)], (1, n), "int16", shift=cfg.window_bits)
    flat = step("RESHAPE", [w, i32("shape", -1)], (n,), "int16")
    scaled, shift = b.tensor("scaled", (n,), "int16"), b.tensor("scale_bits", (), "int32")
    b.op("SignalFftAutoScale", [flat], [scaled, shift])
    spectrum = step("SignalRfft", [scaled], (2 * bins,), "int16", T=7, fft_length=cfg.fft_size)
    energy = step("SignalEnergy", [spectrum], (bins,), "uint32", start_index=t.start, end_index=t.end)
    signed = step("CAST", [energy], (bins,), "int32")
    mid = step("STRIDED_SLICE", [signed, i32("begin", t.start), i32("end", t.end), i32("strides", 1)],
               (t.end - t.start,), "int32", begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
               shrink_axis_mask=0, offset=False)
    zeros = [b.const(f"zeros{k}", np.zeros(k, np.int32)) for k in (t.start, bins - t.end)]
    whole = step("CONCATENATION", [zeros[0], mid, zeros[1]], (bins,), "int32", axis=0,
                 fused_activation_function="NONE")
    energy2 = step("CAST", [whole], (bins,), "uint32")
    v = step("CAST", [log_features(b, energy2, shift, cfg)], (ch,), "int32")
    for op, c in (("MUL", 256), ("ADD", 333), ("DIV", 666), ("ADD", -128)):
        v = step(op, [v, i32(f"{op.lower()}_{c}", c)], (ch,), "int32", fused_activation_function="NONE")
    v = step("MINIMUM", [v, i32("top", 127)], (ch,), "int32")
    v = step("MAXIMUM", [v, i32("bottom", -128)], (ch,), "int32")
    y = step("CAST", [v], (ch,), "int8")
    return b.build([x], [y])


def speech_frames(count: int, seed: int) -> np.ndarray:
    """``count`` consecutive (1, 480) int16 frames (hop 320) of a voiced sound in noise, loud
    enough to exercise the whole chain; the last frame has a full-scale negative peak."""
    rng = np.random.default_rng(seed)
    samples = 320 * (count - 1) + 480
    t = np.arange(samples) / 16000
    voiced = sum(np.sin(2 * np.pi * h * 170 * t) / h for h in range(1, 6)) * (0.3 + np.sin(np.pi * t / t[-1]))
    pcm = np.clip(np.round(5000 * voiced + rng.normal(0, 40, samples)), -32768, 32767).astype(np.int16)
    pcm[-7] = -32768
    return np.stack([pcm[s:s + 480] for s in range(0, samples - 479, 320)])[:, None, :]


def streaming_chain() -> Graph:
    """The streaming ops and both FFT widths in one graph: int16 samples (8,) framed (size 8,
    step 4, prefilled), delayed, through SignalRfft and SignalIrfft (int16, 8 points) and overlap-
    added back to (8,); beside it int32 frames (2, 16) through SignalRfft and SignalIrfft (int32)."""
    b = GraphBuilder("signal_streaming_chain")
    x = b.tensor("samples", (8,), "int16")
    frames, valid = b.tensor("frames", (2, 8), "int16"), b.tensor("valid", (), "bool")
    b.op("SignalFramer", [x], [frames, valid], frame_size=8, frame_step=4, prefill=True)
    late = b.tensor("late", (2, 8), "int16")
    b.op("SignalDelay", [frames], [late], delay_length=3)
    spec = b.tensor("spectrum", (2, 10), "int16")
    b.op("SignalRfft", [late], [spec], T=7, fft_length=8)
    back = b.tensor("back", (2, 8), "int16")
    b.op("SignalIrfft", [spec], [back], T=7, fft_length=8)
    out = b.tensor("out", (8,), "int16")
    b.op("SignalOverlapAdd", [back], [out], T=7, frame_step=4)
    z = b.tensor("wide", (2, 16), "int32")
    spec32, back32 = b.tensor("spectrum32", (2, 18), "int32"), b.tensor("back32", (2, 16), "int32")
    b.op("SignalRfft", [z], [spec32], T=2, fft_length=16)
    b.op("SignalIrfft", [spec32], [back32], T=2, fft_length=16)
    return b.build([x, z], [out, valid, back32])


def streaming_inputs(count: int, seed: int) -> list[np.ndarray]:
    """``count`` invocations' inputs of :func:`streaming_chain` (one batch per input)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(-32768, 32768, (count, 8)).astype(np.int16),
            (rng.integers(-(1 << 31), 1 << 31, (count, 2, 16), dtype=np.int64) >> 4).astype(np.int32)]
