"""Model formats: the .tflite reader and writer."""

from edgecraft.formats.tflite_reader import ModelFormatError, read_tflite, read_tflite_bytes
from edgecraft.formats.tflite_writer import write_tflite, write_tflite_file

__all__ = ["ModelFormatError", "read_tflite", "read_tflite_bytes", "write_tflite", "write_tflite_file"]
