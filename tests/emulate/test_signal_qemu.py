"""The micro_speech audio preprocessor (TFLM's signal-library ops and the builtins around them,
``signal_cases.py``) cross-compiled and run on QEMU's Cortex-M4: frame after frame, with the noise
estimate carried over between invocations, the features equal TFLM's exactly; so do the
streaming ops (framer, delay, overlap-add) around int16 and int32 FFTs and their inverses."""

from __future__ import annotations

import pytest

from edgecraft.emulate import emulate
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
from oracle import check_tensor
from signal_cases import audio_preprocessor_int8, speech_frames, streaming_chain, streaming_inputs

pytestmark = pytest.mark.toolchain


def test_audio_preprocessor_on_qemu_m4_matches_tflm() -> None:
    graph = audio_preprocessor_int8()
    frames = speech_frames(4, seed=7)
    result = emulate(graph, "qemu-m4", [frames], name="pre")
    tflm = TflmRunner(write_tflite(graph))
    for r, frame in enumerate(frames):
        check_tensor(result.outputs[0][r], tflm.run([frame])[0], f"qemu-m4 frame {r}")


def test_streaming_ops_and_ffts_on_qemu_m4_match_tflm() -> None:
    graph = streaming_chain()
    batches = streaming_inputs(4, seed=8)
    result = emulate(graph, "qemu-m4", batches, name="chain")
    tflm = TflmRunner(write_tflite(graph))
    for r in range(4):
        for i, want in enumerate(tflm.run([b[r] for b in batches])):
            check_tensor(result.outputs[i][r], want, f"qemu-m4 step {r} output {i}")
