"""Model formats: the .tflite reader and writer, ONNX in and out, :func:`read_model` for both."""

from edgecraft.formats.load import read_model
from edgecraft.formats.tflite_reader import ModelFormatError, read_tflite, read_tflite_bytes
from edgecraft.formats.tflite_writer import write_tflite, write_tflite_file

__all__ = [
    "ModelFormatError", "read_model", "read_tflite", "read_tflite_bytes", "write_tflite", "write_tflite_file",
]
