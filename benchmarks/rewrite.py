"""What the MCU rewrites (``edgecraft.optimize.rewrite``) buy on an emulated Cortex-M4.

Run: ``.venv/bin/python benchmarks/rewrite.py [--size 32] [--channels 64] [--json]``

``Conv2d(1, M, 3)`` arrives from the converter as DEPTHWISE_CONV_2D with depth multiplier M.
The same layer is built both ways (random int8 weights, per-channel scales), compiled and run on
qemu-m4 with the DSP kernels: exact instruction counts for one inference, and the two outputs,
which must be the same bytes.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from edgecraft.emulate import emulate
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.optimize.rewrite import rewrite


def one_channel_depthwise(size: int, channels: int, seed: int = 0) -> Graph:
    """DEPTHWISE_CONV_2D 3x3 SAME + ReLU on a (1, size, size, 1) input, multiplier ``channels``."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder("depthwise_1ch")
    x = b.tensor("x", (1, size, size, 1), "int8", qparams(0.05, 0))
    w = b.const("w", rng.integers(-127, 128, (1, 3, 3, channels)).astype(np.int8),
                qparams(rng.uniform(0.002, 0.02, channels), 0, 3))
    bias = b.const("b", rng.integers(-2000, 2000, channels).astype(np.int32), qparams(0.0005, 0))
    y = b.tensor("y", (1, size, size, channels), "int8", qparams(0.1, 0))
    b.op("DEPTHWISE_CONV_2D", [x, w, bias], [y], padding="SAME", stride_w=1, stride_h=1,
         depth_multiplier=channels, fused_activation_function="RELU")
    return b.build([x], [y])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    before = one_channel_depthwise(args.size, args.channels)
    after, counts = rewrite(before)
    x = np.random.default_rng(1).integers(-128, 128, (1, 1, args.size, args.size, 1)).astype(np.int8)
    runs = {name: emulate(g, "qemu-m4", [x], name=name)
            for name, g in (("depthwise", before), ("conv", after))}
    row = {"layer": f"Conv2d(1, {args.channels}, 3) on {args.size}x{args.size}", "rewrites": counts,
           "instructions_depthwise": runs["depthwise"].instructions,
           "instructions_conv": runs["conv"].instructions,
           "ratio": round(runs["depthwise"].instructions / runs["conv"].instructions, 2),
           "same_output": bool(np.array_equal(runs["depthwise"].outputs[0], runs["conv"].outputs[0]))}
    if args.json:
        print(json.dumps(row))
        return
    print(f"{row['layer']} on qemu-m4: DEPTHWISE_CONV_2D {row['instructions_depthwise']:,} instructions, "
          f"as CONV_2D {row['instructions_conv']:,} ({row['ratio']}x fewer); "
          f"same output: {row['same_output']}")


if __name__ == "__main__":
    main()
