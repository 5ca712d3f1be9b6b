"""C emitters for TFLM's signal-library ops that keep samples between invocations
(``ec_signal_stream.c``): SignalDelay, SignalFramer, SignalStacker, SignalOverlapAdd. Their rows
are in :data:`edgecraft.codegen.ops_c_signal.SIGNAL_EMITTERS`.

Each op's state is static arrays of the generated model, declared with its parameters: the
samples in flight, how many are held, and (where TFLM leaves an output unwritten until a frame
or stack is complete) the last complete output, which the kernel copies out as the runtime does.
``<name>_reset`` puts them back where they start (``OpCode.resets``).
"""

from __future__ import annotations

from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op
from edgecraft.ops.signal_common import attr

_KERNELS = ("signal_stream",)


def _state(name: str, ctype: str, size: int, about: str) -> str:
    return f"static {ctype} {name}[{max(size, 1)}];  /* {about}, kept between invocations */\n"


def _zero(*names: str) -> tuple[str, ...]:
    return tuple(f"memset({n}, 0, sizeof {n});" for n in names)


def delay(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalDelay: each row's last ``delay_length`` samples are held."""
    get_op(ctx.op.type).shape(ctx)
    x = ctx.req_input(0)
    length, d = x.shape[-1], attr(ctx, "delay_length")
    rows = x.size // length if length else 0
    decls = _state(f"{p}_held", "int16_t", rows * d, "the samples in flight")
    call = (f"ec_signal_delay_s16({rows}, {length}, {d}, {ptr(ctx.op.inputs[0])}, {p}_held, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, _KERNELS, resets=_zero(f"{p}_held"))


def framer(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalFramer: per row at most ``frame_size + frame_step`` held samples (with ``prefill``,
    ``frame_size - frame_step`` zeros at the start) and the last frames."""
    get_op(ctx.op.type).shape(ctx)
    x, y = ctx.req_input(0), ctx.output(0)
    size, step = attr(ctx, "frame_size"), attr(ctx, "frame_step")
    length = x.shape[-1]
    rows, frames = x.size // length if length else 0, length // step
    fill = max(0, size - step) if bool(ctx.attrs.get("prefill", False)) else 0
    decls = (_state(f"{p}_held", "int16_t", rows * (size + step), "the samples of unfinished frames")
             + f"static int32_t {p}_count[{max(rows, 1)}] = {{{', '.join([str(fill)] * max(rows, 1))}}};\n"
             + _state(f"{p}_frames", "int16_t", y.size, "the last complete frames")
             + f"static const ec_framer_params {p} = {{.rows = {rows}, .length = {length}, "
               f".frames = {frames}, .size = {size}, .step = {step}}};\n")
    call = (f"ec_signal_framer_s16(&{p}, {ptr(ctx.op.inputs[0])}, {p}_held, {p}_count, {p}_frames, "
            f"{ptr(ctx.op.outputs[0])}, {ptr(ctx.op.outputs[1])});")
    resets = (*_zero(f"{p}_held", f"{p}_frames"), f"for (int i = 0; i < {rows}; ++i) {p}_count[i] = {fill};")
    return OpCode(decls, call, _KERNELS, resets=resets)


def stacker(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalStacker: fewer than ``size + num_channels`` held samples, a count and whether the
    first frame came, and the last stack."""
    get_op(ctx.op.type).shape(ctx)
    ch, left = attr(ctx, "num_channels"), attr(ctx, "stacker_left_context")
    size = ch * (left + attr(ctx, "stacker_right_context") + 1)
    step, outputs = ch * attr(ctx, "stacker_step"), ctx.output(0).size
    decls = (_state(f"{p}_held", "int16_t", size + ch, "the frames of the next stacks")
             + f"static int32_t {p}_count[2];  /* samples held; 1 once the first frame came */\n"
             + _state(f"{p}_stack", "int16_t", outputs, "the last complete stack")
             + f"static const ec_stacker_params {p} = {{.channels = {ch}, .left = {left}, .size = {size}, "
               f".step = {step}, .outputs = {outputs}}};\n")
    call = (f"ec_signal_stacker_s16(&{p}, {ptr(ctx.op.inputs[0])}, {p}_held, {p}_count, {p}_stack, "
            f"{ptr(ctx.op.outputs[0])}, {ptr(ctx.op.outputs[1])});")
    return OpCode(decls, call, _KERNELS, resets=_zero(f"{p}_held", f"{p}_count", f"{p}_stack"))


def overlap_add(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalOverlapAdd int16 (saturating) and float32: one running buffer per row."""
    get_op(ctx.op.type).shape(ctx)
    x = ctx.req_input(0)
    if x.dtype not in ("int16", "float32"):
        raise CodegenError(f"SignalOverlapAdd with {x.dtype} input has no C kernel (int16, float32)")
    size, frames, step = x.shape[-1], x.shape[-2], attr(ctx, "frame_step")
    rows = x.size // (size * frames) if size * frames else 0
    ctype, suffix = ("int16_t", "s16") if x.dtype == "int16" else ("float", "f32")
    decls = _state(f"{p}_sum", ctype, rows * size, "the running sums")
    call = (f"ec_signal_overlap_add_{suffix}({rows}, {frames}, {size}, {step}, {ptr(ctx.op.inputs[0])}, "
            f"{p}_sum, {ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, _KERNELS, resets=_zero(f"{p}_sum"))
