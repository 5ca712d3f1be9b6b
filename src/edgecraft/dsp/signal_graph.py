"""The ``micro-speech`` front end as a graph of TFLite Micro's signal-library ops, the way TFLM's
micro_speech audio preprocessor chains them: one frame of ``window_samples`` int16 samples in,
``num_channels`` int16 log features out (steps 1-8 of :mod:`edgecraft.dsp.micro_speech`; the
int8 step is the model's input quantization). Spectral subtraction keeps its noise estimate
between invocations: feed a clip's frames in order to one interpreter, reset between clips.

Written with edgecraft's .tflite writer, the graph runs in TFLM and in edgecraft's runtime and
gives, frame by frame, exactly :func:`edgecraft.dsp.micro_speech.micro_features_int16`.
"""

from __future__ import annotations

from edgecraft.dsp.micro_speech import MICRO_SPEECH, MicroSpeechFeatures, tables
from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph

#: TFLite TensorType INT16 (SignalRfft's ``T`` option).
_INT16 = 7


def micro_speech_graph(cfg: MicroSpeechFeatures = MICRO_SPEECH) -> Graph:
    """The front end of ``cfg`` as Signal* ops: int16 ``[window_samples]`` -> int16 ``[channels]``."""
    t = tables(cfg)
    b = GraphBuilder("micro_speech_audio_preprocessor")
    n, bins = cfg.window_samples, cfg.fft_size // 2 + 1
    x = b.tensor("frame", (n,), "int16")
    windowed = b.tensor("windowed", (n,), "int16")
    b.op("SignalWindow", [x, b.const("window", t.window)], [windowed], shift=cfg.window_bits)
    scaled, shift = b.tensor("scaled", (n,), "int16"), b.tensor("scale_bits", (), "int32")
    b.op("SignalFftAutoScale", [windowed], [scaled, shift])
    spectrum = b.tensor("spectrum", (2 * bins,), "int16")
    b.op("SignalRfft", [scaled], [spectrum], T=_INT16, fft_length=cfg.fft_size)
    energy = b.tensor("energy", (bins,), "uint32")
    b.op("SignalEnergy", [spectrum], [energy], start_index=t.start, end_index=t.end)
    return b.build([x], [log_features(b, energy, shift, cfg)])


def log_features(b: GraphBuilder, energy: int, shift: int, cfg: MicroSpeechFeatures = MICRO_SPEECH) -> int:
    """Append the chain from the power spectrum to the log features to ``b``: ``energy`` (uint32
    ``[fft_size / 2 + 1]``) and ``shift`` (the FFT auto scale's int32 bits) in, the int16
    ``[num_channels]`` log features' tensor returned (filter bank, its square root, spectral
    subtraction, PCAN, log)."""
    t, ch = tables(cfg), cfg.num_channels
    bank = b.tensor("filter_bank", (ch,), "uint64")
    consts = [b.const(name, data) for name, data in (
        ("weights", t.weights), ("unweights", t.unweights), ("channel_frequency_starts", t.freq_starts),
        ("channel_weight_starts", t.weight_starts), ("channel_widths", t.widths))]
    b.op("SignalFilterBank", [energy, *consts], [bank], num_channels=ch)
    root = b.tensor("filter_bank_root", (ch,), "uint32")
    b.op("SignalFilterBankSquareRoot", [bank, shift], [root])
    cleaned, noise = b.tensor("noise_reduced", (ch,), "uint32"), b.tensor("noise_estimate", (ch,), "uint32")
    even, even1, odd, odd1 = t.smoothing
    b.op("SignalFilterBankSpectralSubtraction", [root], [cleaned, noise],
         alternate_one_minus_smoothing=odd1, alternate_smoothing=odd, clamping=cfg.clamping,
         min_signal_remaining=t.min_signal, num_channels=ch, one_minus_smoothing=even1, smoothing=even,
         smoothing_bits=cfg.smoothing_bits, spectral_subtraction_bits=cfg.subtraction_bits)
    gained = b.tensor("pcan", (ch,), "uint32")
    b.op("SignalPCAN", [cleaned, noise, b.const("gain_lut", t.gain_lut)], [gained], snr_shift=6)
    logs = b.tensor("log_features", (ch,), "int16")
    b.op("SignalFilterBankLog", [gained], [logs], input_correction_bits=cfg.correction_bits,
         output_scale=1 << cfg.log_scale_bits)
    return logs
