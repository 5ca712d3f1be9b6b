"""FULLY_CONNECTED requantization tables (issue 14, point 6): a layer whose units share one
multiplier and shift (a per-tensor filter) stores one entry of each (``per_channel = 0``, the
kernels read entry 0 for every unit), a per-channel layer one per unit; the generated C,
compiled for this machine with the portable and the DSP kernels (both DSP entries), equals TFLM
exactly, as do int16 FULLY_CONNECTED and BATCH_MATMUL, which share the parameter block."""

from __future__ import annotations

import re

import numpy as np
from cases import batch_matmul, fc_shift_chain, fc_tables_chain, random_inputs

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.formats import write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.reference import TflmRunner
from int16_cases import fully_connected as fc16
from oracle import check_tensor


def _tables(source: str) -> dict[str, tuple[int, int, int]]:
    """Per FULLY_CONNECTED block: (multiplier entries, shift entries, per_channel)."""
    out = {}
    for p, flag in re.findall(r"static const ec_fc_params (\w+) = \{.*?\.per_channel = (\d)", source, re.S):
        m = re.search(rf"int32_t {p}_multiplier\[(\d+)\]", source)
        s = re.search(rf"int32_t {p}_shift\[(\d+)\]", source)
        assert m and s, p
        out[p] = (int(m.group(1)), int(s.group(1)), int(flag))
    return out


def _exact(graph: Graph, n: int, **kw: bool) -> dict[str, tuple[int, int, int]]:
    """The host build's outputs == TFLM's on ``n`` random inputs; its table sizes."""
    model = generate(graph, "fct", **kw)
    batches = random_inputs(graph, n, seed=2)
    got = HostModel(model).run_batch(batches)
    tflm = TflmRunner(write_tflite(graph))
    for b in range(n):
        check_tensor(got[0][b], tflm.run([x[b] for x in batches])[0], f"{graph.name} input {b} {kw}")
    return _tables("".join(model.files.values()))


def test_per_tensor_fc_stores_one_multiplier_and_matches_tflm() -> None:
    graph = fc_tables_chain(seed=4)
    for kw in ({"dsp": False}, {"dsp": True}):
        tables = _exact(graph, 40, **kw)
        assert sorted(tables.values()) == [(1, 1, 0)] * 4 + [(7, 7, 1)], (kw, tables)
    source = "".join(generate(graph, "fct", dsp=True).files.values())
    # the filter with a zero point takes the entry without scratch, the others the SMLAD one
    assert "ec_fully_connected_dsp_direct_s8(" in source and "ec_fully_connected_dsp_s8(" in source



def test_per_tensor_fc_with_left_shifts_matches_tflm() -> None:
    # shifts +1, 0, +2 (the DSP kernels' per-tensor loop shifts left before SRDHM), both entries
    graph = fc_shift_chain(seed=2)
    for kw in ({"dsp": False}, {"dsp": True}):
        assert sorted(_exact(graph, 40, **kw).values()) == [(1, 1, 0)] * 3, kw

def test_int16_fc_and_batch_matmul_tables_follow_the_filter() -> None:
    seen = set()
    for seed in range(12):
        rng = np.random.default_rng(seed)
        graph = fc16(rng, "int32")
        w = graph.tensors[graph.operators[0].inputs[1]]
        per_channel = bool(w.quant is not None and w.quant.per_channel)
        units = w.shape[0]
        (entries,) = _exact(graph, 8, dsp=True).values()
        assert entries == ((units, units, 1) if per_channel else (1, 1, 0)), (seed, entries)
        seen.add(per_channel)
    assert seen == {False, True}
    graph = batch_matmul(np.random.default_rng(3))
    assert set(_exact(graph, 8, dsp=True).values()) == {(1, 1, 0)}
