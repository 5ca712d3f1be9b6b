"""The reference runtimes edgecraft is measured against: TFLite Micro and LiteRT.

Thin wrappers over the ``tflite-micro`` and ``ai-edge-litert`` packages (the ``dev`` extra), used
by tests and benchmarks to run a .tflite model and return its outputs, and to read TFLM's arena
report. Product code never imports this module.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

import numpy as np
import tflite

DEFAULT_ARENA = 4 * 1024 * 1024


def run_tflm(model: bytes, inputs: list[np.ndarray], arena_size: int = DEFAULT_ARENA) -> list[np.ndarray]:
    """Run ``model`` once in TFLM's Python interpreter (reference kernels)."""
    return TflmRunner(model, arena_size).run(inputs)


class TflmRunner:
    """One TFLM interpreter kept alive across invocations."""

    def __init__(self, model: bytes, arena_size: int = DEFAULT_ARENA) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self.interp: Any = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
        # The package has no output count (it logs an error past the last index): ask the model.
        self.num_outputs = int(tflite.Model.GetRootAs(model, 0).Subgraphs(0).OutputsLength())

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        self.interp.invoke()
        return [np.array(self.interp.get_output(i)) for i in range(self.num_outputs)]


def run_litert(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run ``model`` once in LiteRT with its builtin (non-delegated) kernels."""
    return LiteRtRunner(model).run(inputs)


class LiteRtRunner:
    def __init__(self, model: bytes) -> None:
        from ai_edge_litert import interpreter as lite

        self.interp = lite.Interpreter(
            model_content=model,
            experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        self.interp.allocate_tensors()

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for d, x in zip(self.interp.get_input_details(), inputs, strict=True):
            self.interp.set_tensor(d["index"], x)
        self.interp.invoke()
        return [self.interp.get_tensor(d["index"]).copy() for d in self.interp.get_output_details()]


def tflm_arena_report(model: bytes, arena_size: int = DEFAULT_ARENA) -> dict[str, int]:
    """TFLM's own arena accounting (``print_allocations``): ``total``, ``head``, ``tail`` bytes.

    The C++ side prints to file descriptor 2, so the descriptor is redirected to a file while
    it runs.
    """
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    with tempfile.TemporaryFile(mode="w+b") as f:
        saved = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            interp.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode("utf-8", "replace")
    report: dict[str, int] = {}
    for key, pattern in (
        ("total", r"Arena allocation total (\d+) bytes"),
        ("head", r"Arena allocation head (\d+) bytes"),
        ("tail", r"Arena allocation tail (\d+) bytes"),
    ):
        m = re.search(pattern, text)
        if m:
            report[key] = int(m.group(1))
    return report
