"""load_factory refuses model files (not torch.nn.Modules) naming the command that takes each."""

from __future__ import annotations

import pytest

from edgecraft.optimize.loader import load_factory
from edgecraft.optimize.pt2e import QuantizeError


@pytest.mark.parametrize(
    ("name", "command"),
    [("m.onnx", "`edgecraft quantize m.onnx --calibration DATA.npy --out M.tflite`"),
     ("M.ONNX", "`edgecraft quantize M.ONNX --calibration"),
     ("m.tflite", "every model command (run, profile, build, ...) takes it")],
)
def test_a_model_file_is_refused_with_the_command_to_use(name: str, command: str) -> None:
    with pytest.raises(QuantizeError) as e:
        load_factory(name)  # refused by its name, before anything is read
    message = str(e.value)
    assert "\n" not in message and command in message and "MODEL.py:FACTORY" in message
