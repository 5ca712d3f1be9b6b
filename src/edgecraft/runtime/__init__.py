"""The Python reference runtime."""

from edgecraft.runtime.interpreter import InputError, Interpreter, run_model

__all__ = ["InputError", "Interpreter", "run_model"]
