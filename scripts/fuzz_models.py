"""Damaged .tflite files against edgecraft: every failure must be one of edgecraft's own errors.

Run: ``.venv/bin/python scripts/fuzz_models.py DIR [--iterations N] [--seed S] [--keep OUT]``

Each iteration takes a random .tflite under DIR (files under 120 kB), damages it (one to eight
random bytes, one 32-bit word set to 0, 1, the int32 limits or a random value, or the file cut
short), then reads it, runs it in the runtime (zeros for integer inputs, uniform [-1, 1) for
float ones) and generates its C. A file may be refused at any step, but only with
ModelFormatError, GraphError, OpError, InputError or CodegenError: the one-line errors the CLI
prints with exit status 2. Anything else (an IndexError, a numpy exception, a step past 20 s)
is printed once per place it was raised, with the damaged file saved under ``--keep``. Exit
status 1 if there was any.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import traceback
import warnings
from pathlib import Path
from types import FrameType

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.opcode import CodegenError
from edgecraft.formats import ModelFormatError, read_tflite_bytes
from edgecraft.ir.validate import GraphError
from edgecraft.ops.base import OpError
from edgecraft.runtime import InputError, Interpreter

USER_ERRORS = (ModelFormatError, GraphError, OpError, InputError, CodegenError)
WORDS = (0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000)


class StepTimeout(Exception):
    """A step ran past its time limit."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise StepTimeout


def damage(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """``data`` damaged one of three ways, and which."""
    out = bytearray(data)
    kind = rng.choice(["bytes", "bytes", "word", "cut"])
    if kind == "bytes":
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif kind == "word":
        i = rng.randrange(len(out) - 4) & ~3
        out[i:i + 4] = rng.choice([*WORDS, rng.randrange(1 << 32)]).to_bytes(4, "little")
    else:
        out = out[:rng.randrange(8, len(out))]
    return bytes(out), kind


def attempt(data: bytes, seed: int) -> str:
    """Read, run and generate C; returns the step reached. Raises what the step raised."""
    graph = read_tflite_bytes(data, "damaged")
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1, 1, t.shape).astype(t.np_dtype) if np.dtype(t.np_dtype).kind == "f"
              else np.zeros(t.shape, t.np_dtype) for t in graph.input_tensors()]
    Interpreter(graph).run(inputs)
    generate(graph, "m")
    return "generate"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a folder of .tflite files (a tflite-micro tree)")
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=Path("fuzz-failures"), help="where failing files go")
    args = ap.parse_args(argv)
    files = sorted(p for p in args.folder.rglob("*.tflite") if p.stat().st_size < 120_000)
    if not files:
        print(f"error: no .tflite file under 120 kB in {args.folder}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    warnings.simplefilter("ignore")  # the reader's notes on odd quantization axes
    seen: dict[tuple[str, ...], int] = {}
    refused = ran = failed = 0
    for k in range(args.iterations):
        path = rng.choice(files)
        data, kind = damage(path.read_bytes(), rng)
        signal.alarm(20)
        try:
            attempt(data, k)
            ran += 1
        except USER_ERRORS:
            refused += 1
        except Exception as e:  # what the check is for: anything that is not a user error
            failed += 1
            frame = traceback.extract_tb(e.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            key = (type(e).__name__, where)
            if key not in seen:
                seen[key] = k
                args.keep.mkdir(parents=True, exist_ok=True)
                saved = args.keep / f"{k}-{path.stem}.tflite"
                saved.write_bytes(data)
                print(f"{type(e).__name__} at {where}: {' '.join(str(e).split())[:120]} "
                      f"({path.name}, {kind}; saved {saved})", flush=True)
        finally:
            signal.alarm(0)
    print(f"{args.iterations} damaged files from {len(files)} models: {refused} refused with a user error, "
          f"{ran} read, ran and built, {failed} failed otherwise ({len(seen)} distinct)")
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
