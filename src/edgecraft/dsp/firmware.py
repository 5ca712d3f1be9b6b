"""A front end's C twin packaged like a generated model, so the emulator runs it unchanged:
``feature_program("kws-mfcc")`` is a :class:`~edgecraft.codegen.GeneratedModel` whose
``<name>_invoke(input, output)`` maps one window of raw samples to features, and
:func:`emulate_front_end` runs it on an emulated Cortex-M (outputs, exact instruction count,
flash, RAM, stack).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.codegen import GeneratedModel
from edgecraft.dsp.audio import AudioFeatures
from edgecraft.dsp.csrc import c_ident, c_sources, micro_scratch_words
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.dsp.lfbe import LfbeFeatures
from edgecraft.dsp.micro_speech import MicroSpeechFeatures
from edgecraft.dsp.motion import MotionFeatures
from edgecraft.dsp.presets import Preset, get_preset
from edgecraft.ir.graph import Tensor

# Instructions one window costs on the emulated Cortex-M4 (qemu-m4, arm-none-eabi-gcc -O2,
# hard float), measured by emulate_front_end and checked by tests/dsp/test_firmware.py.
M4_INSTRUCTIONS = {"kws-mfcc": 3_609_300, "kws-log-mel": 3_481_400, "imu": 54_800,
                   "micro-speech": 4_998_400, "str-ww-lfbe": 4_151_000}


def front_end_ms(preset: str, clock_mhz: float) -> float:
    """Milliseconds one window of ``preset`` takes at ``clock_mhz``, from its measured Cortex-M4
    instruction count at one instruction per cycle (0 when not measured)."""
    return M4_INSTRUCTIONS.get(preset, 0) / (clock_mhz * 1e3) if clock_mhz > 0 else 0.0


def io_buffers(name: str, inputs: list[Tensor], outputs: list[Tensor]) -> tuple[str, str]:
    """Declarations and definitions of ``<name>_input_buffer(i)`` and ``<name>_output_buffer(i)``
    for a program that is not a generated model (a front end, a whole loop): static buffers the
    QEMU harness reads inputs into and writes outputs from, as it does with a model's arena."""
    decl = f"void *{name}_input_buffer(int i);\nvoid *{name}_output_buffer(int i);\n"
    lines = []
    for kind, tensors in (("input", inputs), ("output", outputs)):
        for k, t in enumerate(tensors):
            lines.append(f"static uint8_t {name}_{kind}{k}[{t.nbytes}] __attribute__((aligned(8)));")
        cases = " ".join(f"if (i == {k}) return {name}_{kind}{k};" for k in range(len(tensors)))
        lines.append(f"void *{name}_{kind}_buffer(int i) {{ {cases} return 0; }}")
    return decl, "\n".join(lines) + "\n"


def feature_program(preset: str | Preset, image_shape: tuple[int, int, int] = (120, 160, 3),
                    name: str | None = None) -> GeneratedModel:
    """The C twin of ``preset`` (a name, or a config object called ``name``) with an
    ``<ident>_fe_invoke`` entry point. Images take a fixed ``image_shape`` (h, w, c) input."""
    cfg = get_preset(preset) if isinstance(preset, str) else preset
    label = preset if isinstance(preset, str) else (name or "custom")
    ident = c_ident(label)
    name = ident.removeprefix("ec_") + "_fe"
    files = c_sources(cfg, label)
    scratch_decl = ""
    if isinstance(cfg, AudioFeatures):
        n = cfg.clip_samples or cfg.window_samples
        inp, out = Tensor("pcm", (n,), "int16"), Tensor("features", cfg.shape, "float32")
        args, scratch = "const int16_t *input, float *output", 2 * cfg.fft_size + cfg.mel_bins
        body = f"ec_audio_features(&{ident}, input, {n}, scratch, output);"
        decl = f"extern const ec_audio_config {ident};"
    elif isinstance(cfg, MicroSpeechFeatures | LfbeFeatures):
        n = cfg.clip_samples or cfg.window_samples
        micro = isinstance(cfg, MicroSpeechFeatures)
        words = micro_scratch_words(cfg) if isinstance(cfg, MicroSpeechFeatures) else 2 * cfg.fft_size
        inp = Tensor("pcm", (n,), "int16")
        out = Tensor("features", cfg.shape, "int8" if micro else "float32")
        args = f"const int16_t *input, {'int8_t' if micro else 'float'} *output"
        kind = "micro" if micro else "lfbe"
        body = f"ec_{kind}_features(&{ident}, input, {n}, scratch, output);"
        decl = f"extern const ec_{kind}_config {ident};"
        scratch_decl = f"static {'int32_t' if micro else 'float'} scratch[{words}];"
    elif isinstance(cfg, MotionFeatures):
        inp = Tensor("window", (cfg.window_samples, cfg.axes), "float32")
        out = Tensor("features", (cfg.num_features,), "float32")
        args, scratch = "const float *input, float *output", 2 * cfg.fft_size + cfg.fft_size // 2
        body = f"ec_motion_features(&{ident}, input, scratch, output);"
        decl = f"extern const ec_motion_config {ident};"
    elif isinstance(cfg, ImagePreprocess):
        h, w, c = image_shape
        inp = Tensor("image", image_shape, "uint8")
        out = Tensor("input", (cfg.height, cfg.width, cfg.channels), "int8")
        args, scratch = "const uint8_t *input, int8_t *output", 1
        body = f"ec_image_preprocess(&{ident}, input, {h}, {w}, {c}, output);"
        decl = f"extern const ec_image_config {ident};"
    else:  # pragma: no cover - presets are one of the three
        raise ValueError(f"no C twin for {label}")
    guard = name.upper() + "_H"
    buf_decl, buf_src = io_buffers(name, [inp], [out])
    files[f"{name}.h"] = (f"/* {name}: the '{label}' front end as one call. */\n"
                          f"#ifndef {guard}\n#define {guard}\n#include <stdint.h>\n"
                          f"int {name}_invoke({args});\n{buf_decl}#endif\n")
    files[f"{name}.c"] = (f'#include "{name}.h"\n#include "ec_features.h"\n{decl}\n{buf_src}'
                          f"{scratch_decl or f'static float scratch[{scratch}];'}\n"
                          f"int {name}_invoke({args})\n{{\n    (void)scratch;\n    {body}\n"
                          "    return 0;\n}\n")
    return GeneratedModel(name, files, 0, [inp], [out], False, "none")


def emulate_front_end(preset: str | Preset, windows: Sequence[np.ndarray], target: str = "qemu-m4",
                      image_shape: tuple[int, int, int] = (120, 160, 3), name: str | None = None
                      ) -> dict[str, Any]:
    """Run the C twin on ``target`` for each window: ``features`` (n, ...), ``instructions``
    (the first window), ``flash_bytes``, ``ram_bytes``, ``stack_bytes``."""
    from edgecraft.emulate import emulate_generated, machine

    program = feature_program(preset, image_shape, name)
    batch = np.stack([np.asarray(w, program.inputs[0].np_dtype) for w in windows])
    with tempfile.TemporaryDirectory(prefix="edgecraft-fe-") as tmp:
        res = emulate_generated(program, machine(target), [batch], workdir=Path(tmp))
    return {"features": res.outputs[0], "instructions": res.instructions, "flash_bytes": res.flash_bytes,
            "ram_bytes": res.ram_bytes, "stack_bytes": res.stack_bytes, "machine": res.machine}
