"""A .tflite graph of TFLite Micro's signal-library ops computing the micro_speech front end, for
running TFLM's own kernels (SignalWindow, SignalFftAutoScale, SignalRfft, SignalEnergy,
SignalFilterBank, SignalFilterBankSquareRoot, SignalFilterBankSpectralSubtraction, SignalPCAN,
SignalFilterBankLog) in the tflite-micro package, the way TFLM's micro_speech example chains them
(``audio_preprocessor.py``). The tables come from the test transcription
(micro_speech_reference.py), not from edgecraft; the graph is written with the flatbuffer schema
bundled in the tflite-micro package and flexbuffer custom options (keys in sorted order, as the
kernels read them by index).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from flatbuffers import flexbuffers
from micro_speech_reference import filter_bank_tables, gain_lut, hann_q12

INT32, INT16, UINT64, UINT32 = 2, 7, 12, 15
CUSTOM = 32


def signal_frontend_model() -> bytes:
    """One 480-sample int16 frame in, 40 int16 log features out (before the int8 step)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    fb = filter_bank_tables()
    buffers = [s.BufferT()]
    tensors: list = []

    def tensor(name: str, shape: list[int], ttype: int, data: np.ndarray | None = None) -> int:
        t = s.TensorT()
        t.name, t.shape, t.type = name, shape, ttype
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = list(np.ascontiguousarray(data).view(np.uint8).reshape(-1))
            buffers.append(b)
            t.buffer = len(buffers) - 1
        tensors.append(t)
        return len(tensors) - 1

    x = tensor("frame", [480], INT16)
    win = tensor("hann_q12", [480], INT16, np.array(hann_q12(), np.int16))
    windowed = tensor("windowed", [480], INT16)
    scaled, shift = tensor("scaled", [480], INT16), tensor("scale_bits", [], INT32)
    spectrum = tensor("spectrum", [514], INT16)
    energy = tensor("energy", [257], UINT32)
    consts = [tensor(k, [len(fb[k])], INT16, np.array(fb[k], np.int16))
              for k in ("weights", "unweights", "fstarts", "wstarts", "widths")]
    bank = tensor("bank", [40], UINT64)
    root = tensor("root", [40], UINT32)
    cleaned, noise = tensor("cleaned", [40], UINT32), tensor("noise", [40], UINT32)
    lut = tensor("gain_lut", [125], INT16, np.array(gain_lut(), np.int16))
    gained = tensor("gained", [40], UINT32)
    logs = tensor("logs", [40], INT16)

    s14 = 1 << 14
    even, odd = int(0.025 * s14), int(0.06 * s14)
    ops = [
        ("SignalWindow", [x, win], [windowed], {"shift": 12}),
        ("SignalFftAutoScale", [windowed], [scaled, shift], {}),
        ("SignalRfft", [scaled], [spectrum], {"T": INT16, "fft_length": 512}),
        ("SignalEnergy", [spectrum], [energy], {"end_index": fb["end"], "start_index": fb["start"]}),
        ("SignalFilterBank", [energy, *consts], [bank], {"num_channels": 40}),
        ("SignalFilterBankSquareRoot", [bank, shift], [root], {}),
        ("SignalFilterBankSpectralSubtraction", [root], [cleaned, noise], {
            "alternate_one_minus_smoothing": s14 - odd, "alternate_smoothing": odd, "clamping": False,
            "min_signal_remaining": int(0.05 * s14), "num_channels": 40, "one_minus_smoothing": s14 - even,
            "smoothing": even, "smoothing_bits": 10, "spectral_subtraction_bits": 14}),
        ("SignalPCAN", [cleaned, noise, lut], [gained], {"snr_shift": 6}),
        ("SignalFilterBankLog", [gained], [logs], {"input_correction_bits": 3, "output_scale": 64}),
    ]
    codes, operators = [], []
    for name, inputs, outputs, options in ops:
        code = s.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.customCode, code.version = CUSTOM, CUSTOM, name, 1
        codes.append(code)
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = len(codes) - 1, inputs, outputs
        op.customOptions = list(flexbuffers.Dumps(dict(sorted(options.items()))))
        op.customOptionsFormat = 0
        operators.append(op)
    graph = s.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [x], [logs], operators
    graph.name = "micro_speech_signal_frontend"
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, codes, [graph], buffers
    model.description = "edgecraft test: TFLM signal ops"
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def tflm_micro_speech(pcm: np.ndarray) -> np.ndarray:
    """49 x 40 int8 features of one second through TFLM's signal kernels (state reset first)."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(signal_frontend_model())
    interp.reset()
    rows = []
    for start in range(0, 16000 - 480 + 1, 320):
        interp.set_input(np.ascontiguousarray(pcm[start:start + 480], np.int16), 0)
        interp.invoke()
        v = interp.get_output(0).astype(np.int32)
        rows.append(np.clip((v * 256 + 333) // 666 - 128, -128, 127))
    return np.array(rows, np.int8)
