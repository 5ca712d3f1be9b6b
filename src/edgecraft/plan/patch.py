"""Patch-based execution of a residual block: two convolutions and the ADD of their result to
the block's input run together in bands of output rows, so the two convolutions' outputs never
exist whole (as MCUNetV2 computes memory-heavy early layers patch by patch).

The pattern, in consecutive steps of the execution order::

    y = conv_a(x)      CONV_2D or DEPTHWISE_CONV_2D, int8, stride 1, no dilation, same height
    z = conv_b(y)      the same kind of op
    w = ADD(x, z)      int8, no broadcasting (either operand order)

where ``y`` is read by ``conv_b`` alone, ``z`` by the ADD alone, ``x`` by ``conv_a`` and the ADD
alone, and none of ``x``, ``y``, ``z`` is a graph output. The generated C (``codegen/patch_c.py``)
then loops over bands of ``rows`` rows of ``z``: it keeps the rows of ``y`` the band needs in a
buffer of ``y_rows = rows + kh_b - 1`` rows (shifting the rows the next band shares to its start,
computing the new ones from ``x`` with the unchanged ``conv_a`` kernel on a slice of ``x``), runs
``conv_b`` on that buffer into a band buffer of ``rows`` rows of ``z``, and adds the band to the
matching rows of ``x`` into ``w``. The kernels take the slice's height and top padding from a
copy of their parameter block, so every output byte is the one the whole-tensor call computes.

``w`` may be written over ``x`` (the ADD's in-place rule): when the band of rows ``[r0, r1)`` is
added, ``y`` is complete up to row ``r1 - 1 - pad_b + kh_b``, and later rows of ``y`` read rows
of ``x`` from ``r1 - pad_a + (kh_b - 1 - pad_b)`` on; the pattern requires
``kh_b - 1 - pad_b >= pad_a`` (3x3 SAME: 1 >= 1), so no row of ``x`` a later band reads is
overwritten.

A *chain* is the same without the ADD (``z = conv_b(conv_a(x))``, ``x`` read by ``conv_a``
alone, as in DS-CNN's depthwise -> pointwise pairs): ``y`` lives in its row buffer and ``z`` is
written whole, band by band, starting below ``x`` and overlapping the rows of ``x`` no later
band reads (``chain_offset``), so a run of chains drifts down by about one row of ``x`` each
instead of the two overlapping windowed ops' larger drift.

The planner (``patch`` algorithm) plans ``y`` (and a block's ``z``) at band size, keeps the
group's buffers, its ops' one shared scratch buffer and ``w`` alive over all its steps, and
keeps the plan without patches where that is no larger.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import window_geometry
from edgecraft.ops.registry import find_op
from edgecraft.plan.lifetimes import Request, align_up

#: Rows of ``z`` per band (see ``band_rows``): one keeps the least memory; the calls per band
#: cost about 0.2% more instructions on ResNet-8's first block, 0.8% on KWS's four chains.
PATCH_ROWS = 1


@dataclass(frozen=True)
class Patch:
    """One residual block run in bands: operator indices ``a``, ``b``, ``add``; tensors ``x``,
    ``y``, ``z``, ``w``; ``rows`` of ``z`` per band and ``y_rows`` of ``y`` held; ``height`` of
    every tensor; each conv's filter height and top padding."""

    a: int
    b: int
    add: int  # -1: a chain of two convolutions without the ADD (see ``chain_offset``)
    x: int
    y: int
    z: int
    w: int  # -1 without the ADD
    rows: int
    y_rows: int
    height: int
    kh_a: int
    pad_a: int
    kh_b: int
    pad_b: int

    @property
    def ops(self) -> tuple[int, ...]:
        """The operators run together, in order."""
        return (self.a, self.b, self.add) if self.add >= 0 else (self.a, self.b)

    @property
    def banded(self) -> tuple[int, ...]:
        """The tensors held as bands (``y``, and ``z`` when the block ends in the ADD)."""
        return (self.y, self.z) if self.add >= 0 else (self.y,)


def _conv_rows(graph: Graph, j: int) -> tuple[int, int] | None:
    """(filter height, top padding) of an int8 stride-1 undilated convolution keeping the height
    of a batch-1 NHWC input, else None."""
    op = graph.operators[j]
    opdef = find_op(op.type)
    if opdef is None or opdef.window is None or opdef.work_class not in ("conv", "depthwise"):
        return None
    if len(op.inputs) < 2 or len(op.outputs) != 1 or op.inputs[0] < 0:
        return None
    x, w, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    if x.dtype != "int8" or y.dtype != "int8" or w.dtype != "int8" or x.is_constant:
        return None
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or x.shape[1] != y.shape[1]:
        return None
    a = op.attrs
    if int(a.get("stride_h", 1)) != 1 or int(a.get("dilation_h_factor", 1)) != 1:
        return None
    kh = int(w.shape[1])
    _, _, top, _ = window_geometry(OpContext(op, graph), x.shape[1], x.shape[2], kh, int(w.shape[2]))
    return kh, top


def find_patches(graph: Graph, order: list[int], rows: int = PATCH_ROWS, from_end: bool = False
                 ) -> list[Patch]:
    """Every residual block of the pattern (see the module docstring) whose three ops run in
    consecutive steps of ``order``, and every chain of two such convolutions (``y`` read by
    ``conv_b`` alone, ``x`` by ``conv_a`` alone) in two consecutive steps outside them; where
    candidates share an op, the first one met scanning ``order`` (from its end with
    ``from_end``) wins."""
    readers: dict[int, list[int]] = {}
    for j, op in enumerate(graph.operators):
        for k in set(op.inputs):
            if k >= 0:
                readers.setdefault(k, []).append(j)
    outputs = set(graph.outputs)
    found: list[Patch] = []
    used: set[int] = set()
    starts = range(len(order) - 1)
    for s in reversed(starts) if from_end else starts:
        if order[s] in used or order[s + 1] in used:
            continue
        free = s + 2 < len(order) and order[s + 2] not in used
        p = _block(graph, order[s:s + 3], readers, outputs, rows) if free else None
        p = p or _chain(graph, order[s], order[s + 1], readers, outputs, rows)
        if p is not None:
            found.append(p)
            used.update(p.ops)
    return sorted(found, key=lambda p: order.index(p.a))


def _chain(graph: Graph, a: int, b: int, readers: dict[int, list[int]], outputs: set[int], rows: int
           ) -> Patch | None:
    """``z = conv_b(conv_a(x))`` with ``y`` and ``x`` read by nothing else, or None."""
    ra, rb = _conv_rows(graph, a), _conv_rows(graph, b)
    if ra is None or rb is None:
        return None
    x, y = graph.operators[a].inputs[0], graph.operators[a].outputs[0]
    z = graph.operators[b].outputs[0]
    if graph.operators[b].inputs[0] != y or readers.get(y) != [b] or readers.get(x) != [a]:
        return None
    if outputs & {x, y}:
        return None
    (kh_a, pad_a), (kh_b, pad_b) = ra, rb
    height = graph.tensors[x].shape[1]
    band = band_rows(graph, z, rows)
    if band + kh_b - 1 >= height:
        return None
    return Patch(a, b, -1, x, y, z, -1, band, band + kh_b - 1, height, kh_a, pad_a, kh_b, pad_b)


def chain_offset(graph: Graph, p: Patch) -> int:
    """For a chain (no ADD): the largest D such that ``z`` may start D bytes from ``x``'s start
    and overlap it. After the band of rows ``[r0, r1)`` of ``z`` is written, ``y`` is complete up
    to row ``hi = r1 - 1 - pad_b + kh_b`` and later bands read ``x`` from row ``hi - pad_a`` on,
    so ``D + r1 * row(z) <= (hi - pad_a) * row(x)`` for every band with ``hi`` inside ``y``."""
    rx, rz = band_bytes(graph, p.x, 1), band_bytes(graph, p.z, 1)
    best = graph.tensors[p.x].nbytes
    for r0 in range(0, p.height, p.rows):
        r1 = min(r0 + p.rows, p.height)
        hi = r1 - 1 - p.pad_b + p.kh_b
        if hi < p.height:
            best = min(best, max(hi - p.pad_a, 0) * rx - r1 * rz)
    return best


def _block(graph: Graph, ops: list[int], readers: dict[int, list[int]], outputs: set[int], rows: int
           ) -> Patch | None:
    """The residual block ``ops`` (three operator indices) form, or None."""
    a, b, c = ops
    ra, rb = _conv_rows(graph, a), _conv_rows(graph, b)
    add = graph.operators[c]
    if ra is None or rb is None or add.type != "ADD" or len(add.inputs) != 2 or len(add.outputs) != 1:
        return None
    x, y = graph.operators[a].inputs[0], graph.operators[a].outputs[0]
    z, w = graph.operators[b].outputs[0], add.outputs[0]
    if graph.operators[b].inputs[0] != y or sorted(add.inputs) != sorted((x, z)) or x == z:
        return None
    shapes = {tuple(graph.tensors[k].shape) for k in (x, z, w)}
    if len(shapes) != 1 or graph.tensors[z].dtype != "int8" or graph.tensors[w].dtype != "int8":
        return None
    if readers.get(y) != [b] or readers.get(z) != [c] or sorted(readers.get(x, [])) != sorted((a, c)):
        return None
    if outputs & {x, y, z}:
        return None
    (kh_a, pad_a), (kh_b, pad_b) = ra, rb
    if kh_b - 1 - pad_b < pad_a:  # w over x would overwrite rows conv_a still reads
        return None
    height = graph.tensors[x].shape[1]
    band = band_rows(graph, z, rows)
    if band + kh_b - 1 >= height:  # y's buffer would hold all of y: nothing to gain
        return None
    return Patch(a, b, c, x, y, z, w, band, band + kh_b - 1, height, kh_a, pad_a, kh_b, pad_b)


def band_rows(graph: Graph, z: int, rows: int) -> int:
    """Rows of ``z`` per band: ``rows``, one more when that leaves an odd number of pixels (the
    DSP convolution computes pixels in pairs and takes a slow path for a lone last one), at most
    the height."""
    _, height, width, _ = graph.tensors[z].shape
    return min(rows + (rows * width) % 2, height)


def band_sizes(graph: Graph, patches: list[Patch]) -> dict[int, int]:
    """Tensor -> bytes of its band buffer, for every ``y`` and ``z`` of ``patches``."""
    out = {}
    for p in patches:
        out[p.y] = band_bytes(graph, p.y, p.y_rows)
        if p.add >= 0:
            out[p.z] = band_bytes(graph, p.z, p.rows)
    return out


def patch_requests(graph: Graph, reqs: list[Request], patches: list[Patch], order: list[int],
                   alignment: int) -> list[Request]:
    """``reqs`` with each patch's ``y`` and ``z`` at their band sizes, and ``y``, ``z``, ``w`` and
    the three ops' scratch alive over the patch's three steps."""
    step = {j: s for s, j in enumerate(order)}
    span: dict[tuple[str, int], tuple[int, int, int | None]] = {}
    for p in patches:
        first, last = step[p.a], step[p.ops[-1]]
        span["tensor", p.y] = (first, last, band_bytes(graph, p.y, p.y_rows))
        span["tensor", p.z] = (first, last, band_bytes(graph, p.z, p.rows) if p.add >= 0 else None)
        if p.add >= 0:
            span["tensor", p.w] = (first, last, None)
        for j in p.ops:
            span["scratch", j] = (first, last, None)
    out = []
    for r in reqs:
        if (r.kind, r.index) not in span:
            out.append(r)
            continue
        first, last, size = span[r.kind, r.index]
        new_size = align_up(size, alignment) if size is not None else r.size
        out.append(Request(r.kind, r.index, new_size, min(r.first, first), max(r.last, last)))
    return out


def band_bytes(graph: Graph, k: int, rows: int) -> int:
    """Bytes of ``rows`` rows of NHWC tensor ``k``."""
    t = graph.tensors[k]
    return rows * t.shape[2] * t.shape[3] * t.np_dtype.itemsize
