"""Compile the generated C for this machine and call it: a shared library through ctypes, or a
sanitizer-instrumented executable (AddressSanitizer + UndefinedBehaviorSanitizer).

Both add one small file, ``host_batch.c``, that runs the model over a batch of inputs in one
call, so checking hundreds of inputs costs one call rather than hundreds.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edgecraft.codegen.cwriter import c_type
from edgecraft.codegen.emit import GeneratedModel

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


class HostBuildError(RuntimeError):
    """The host C compiler is missing or rejected the generated code."""


def _batch_source(model: GeneratedModel) -> str:
    """``<name>_invoke_batch(n, in0.., out0..)`` and a ``main`` (for the sanitizer build) that
    reads inputs from argv[1] and writes outputs to argv[2], all tensors back to back."""
    name = model.name
    params, args = [], []
    for i, t in enumerate(model.inputs):
        params.append(f"const {c_type(t.dtype)} *in{i}")
        args.append(f"in{i} + (size_t)b * {t.size}")
    for i, t in enumerate(model.outputs):
        params.append(f"{c_type(t.dtype)} *out{i}")
        args.append(f"out{i} + (size_t)b * {t.size}")
    in_bytes = sum(t.nbytes for t in model.inputs)
    out_bytes = sum(t.nbytes for t in model.outputs)
    loads = "".join(f"  in{i} = (const {c_type(t.dtype)} *)p; p += (size_t)n * {t.nbytes};\n"
                    for i, t in enumerate(model.inputs))
    stores = "".join(f"  out{i} = ({c_type(t.dtype)} *)q; q += (size_t)n * {t.nbytes};\n"
                     for i, t in enumerate(model.outputs))
    decl_in = "".join(f"  const {c_type(t.dtype)} *in{i};\n" for i, t in enumerate(model.inputs))
    decl_out = "".join(f"  {c_type(t.dtype)} *out{i};\n" for i, t in enumerate(model.outputs))
    call_args = ", ".join([f"in{i}" for i in range(len(model.inputs))]
                          + [f"out{i}" for i in range(len(model.outputs))])
    return f"""/* Host-only harness for {name}: batched calls (ctypes) and a file-driven main. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include "{name}.h"

int {name}_invoke_batch(int n, {", ".join(params)});
int {name}_invoke_batch(int n, {", ".join(params)}) {{
  for (int b = 0; b < n; ++b) {{
    int rc = {name}_invoke({", ".join(args)});
    if (rc != 0) return rc;
  }}
  return 0;
}}

#ifdef EC_HOST_MAIN
int main(int argc, char **argv) {{
  if (argc != 3) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 3;
  fseek(f, 0, SEEK_END);
  long total = ftell(f);
  fseek(f, 0, SEEK_SET);
  int n = (int)(total / {in_bytes});
  unsigned char *inputs = malloc((size_t)total + 1), *outputs = malloc((size_t)n * {out_bytes} + 1);
  if (!inputs || !outputs || fread(inputs, 1, (size_t)total, f) != (size_t)total) return 4;
  fclose(f);
  unsigned char *p = inputs, *q = outputs;
{decl_in}{decl_out}{loads}{stores}  int rc = {name}_invoke_batch(n, {call_args});
  f = fopen(argv[2], "wb");
  if (!f) return 5;
  fwrite(outputs, 1, (size_t)n * {out_bytes}, f);
  fclose(f);
  free(inputs);
  free(outputs);
  return rc == 0 ? 0 : 6;
}}
#endif
"""


def write_sources(model: GeneratedModel, directory: Path) -> list[Path]:
    """Write the model's files and the host harness into ``directory``; returns the .c paths."""
    directory.mkdir(parents=True, exist_ok=True)
    for fname, text in model.files.items():
        (directory / fname).write_text(text)
    (directory / "host_batch.c").write_text(_batch_source(model))
    return [directory / f for f in [*model.sources, "host_batch.c"]]


def _compile(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise HostBuildError(f"{cmd[0]} not found; install a C compiler (Debian: apt-get install gcc)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise HostBuildError(f"host compile failed: {proc.stderr.strip()[:2000]}")


def _as_batches(model: GeneratedModel, batches: list[np.ndarray]) -> tuple[int, list[np.ndarray]]:
    if len(batches) != len(model.inputs):
        raise ValueError(f"the model takes {len(model.inputs)} input(s), got {len(batches)}")
    n = len(batches[0])
    out = []
    for x, t in zip(batches, model.inputs, strict=True):
        x = np.ascontiguousarray(x, dtype=t.np_dtype)
        if x.shape != (n, *t.shape):
            raise ValueError(f"input '{t.name}' batch must have shape {[n, *t.shape]}, got {list(x.shape)}")
        out.append(x)
    return n, out


class HostModel:
    """The generated library compiled as a shared object on this machine, called via ctypes."""

    def __init__(self, model: GeneratedModel, workdir: Path | None = None, opt: str = "-O2",
                 cflags: tuple[str, ...] = ()) -> None:
        self.model = model
        # Without a workdir, a temporary one lives as long as this object (the loaded library
        # does not need its file once it is mapped).
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="edgecraft-host-")
            workdir = Path(self._tmp.name)
        self.workdir = Path(workdir)
        sources = write_sources(model, self.workdir)
        lib = self.workdir / f"lib{model.name}.so"
        _compile(["gcc", *WARNINGS, opt, *cflags, "-shared", "-fPIC", *map(str, sources), "-o", str(lib),
                  "-lm"])
        self.lib = ctypes.CDLL(str(lib))
        self._batch = getattr(self.lib, f"{model.name}_invoke_batch")
        self._batch.restype = ctypes.c_int

    def run_batch(self, batches: list[np.ndarray]) -> list[np.ndarray]:
        """Run every row of the input batches; returns one (n, *shape) array per output."""
        n, ins = _as_batches(self.model, batches)
        outs = [np.zeros((n, *t.shape), t.np_dtype) for t in self.model.outputs]
        rc = self._batch(ctypes.c_int(n), *[a.ctypes.data_as(ctypes.c_void_p) for a in ins + outs])
        if rc != 0:
            raise RuntimeError(f"{self.model.name}_invoke returned {rc}")
        return outs

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run once on unbatched inputs."""
        return [o[0] for o in self.run_batch([np.asarray(x)[None] for x in inputs])]


def run_sanitized(model: GeneratedModel, batches: list[np.ndarray], workdir: Path | None = None
                  ) -> tuple[list[np.ndarray], str]:
    """Build with ASan + UBSan, run the batches in a child process; returns (outputs, stderr).

    Raises :class:`HostBuildError` when the program fails (a sanitizer report exits non-zero).
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="edgecraft-asan-") as tmp:
            return run_sanitized(model, batches, Path(tmp))
    n, ins = _as_batches(model, batches)
    work = Path(workdir)
    sources = write_sources(model, work)
    exe = work / "model_asan"
    _compile(["gcc", *WARNINGS, "-O1", "-g", *SANITIZE, "-DEC_HOST_MAIN", *map(str, sources), "-o", str(exe),
              "-lm"])
    (work / "in.bin").write_bytes(b"".join(a.tobytes() for a in ins))
    proc = subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin")], capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise HostBuildError(f"sanitized run failed (exit {proc.returncode}): {proc.stderr.strip()[:3000]}")
    raw = (work / "out.bin").read_bytes()
    outs, pos = [], 0
    for t in model.outputs:
        size = n * t.nbytes
        outs.append(np.frombuffer(raw[pos:pos + size], t.np_dtype).reshape(n, *t.shape).copy())
        pos += size
    return outs, proc.stderr
