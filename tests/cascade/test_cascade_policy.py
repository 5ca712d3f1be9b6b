"""The device side of the cascade: confidence measures, the sweep's arithmetic, budgets, the
link model and the embedding cut, on small hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgecraft.device.cascade import (
    CascadeError,
    Costs,
    Policy,
    choose,
    confidence,
    embedding_graph,
    parse_budget,
    score_confidence,
    sweep,
    thresholds_for,
)
from edgecraft.fleet.sim import classifier_model, task_weights
from edgecraft.formats import read_tflite_bytes
from edgecraft.ir.graph import Graph
from edgecraft.runtime import Interpreter
from edgecraft.targets.links import UnknownLinkError, get_link, links


def test_confidence_measures_by_hand() -> None:
    p = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    assert confidence(p, "top").tolist() == pytest.approx([0.7, 1 / 3, 1.0])
    assert confidence(p, "margin").tolist() == pytest.approx([0.5, 0.0, 1.0])
    h = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))
    assert confidence(p, "entropy").tolist() == pytest.approx([1 - h / math.log(3), 0.0, 1.0], abs=1e-9)
    assert score_confidence(np.array([1.0, 2.0, 4.0]), 2.0).tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert Policy(0.45, "margin").escalate(p).tolist() == [False, True, False]
    with pytest.raises(CascadeError, match="confidence"):
        confidence(p, "vibes")


def test_sweep_arithmetic_by_hand() -> None:
    edge = np.array([0, 1, 1, 0])
    cloud = np.array([0, 0, 1, 1])
    labels = np.array([0, 0, 1, 1])
    conf = np.array([0.9, 0.2, 0.8, 0.4])
    link = get_link("ble")
    costs = Costs(device_ms=10.0, device_mj=0.5, payload_bytes=490, server_ms=2.0, link=link, rate_per_s=2.0)
    pts = sweep(edge, cloud, labels, conf, costs, [0.0, 0.3, 0.5, 1.0])
    assert [p["escalated"] for p in pts] == [0.0, 0.25, 0.5, 1.0]
    assert [p["accuracy"] for p in pts] == [0.5, 0.75, 1.0, 1.0]
    assert [p["relative_to_cloud"] for p in pts] == [0.5, 0.75, 1.0, 1.0]
    # 490 bytes in ceil(490 / 244) = 3 BLE frames of 17 header bytes; 7200 inferences an hour
    assert link.wire_bytes(490) == 490 + 3 * 17
    assert pts[1]["bytes_per_hour"] == pytest.approx(7200 * 0.25 * 541, abs=0.1)
    ex = link.exchange(490, 16)
    up = 8000 * 541 / link.uplink_bps
    down = 8000 * (16 + 17) / link.downlink_bps
    assert ex["latency_ms"] == pytest.approx(up + link.rtt_ms + down)
    assert ex["radio_mj"] == pytest.approx(
        (link.tx_mw * up + link.rx_mw * (link.rtt_ms + down)) / 1000 + link.per_message_mj
    )
    assert pts[2]["latency_ms"] == pytest.approx(10.0 + 0.5 * (ex["latency_ms"] + 2.0), abs=1e-3)
    assert pts[3]["energy_mj"] == pytest.approx(0.5 + ex["radio_mj"], abs=1e-6)
    assert choose(pts, {"accuracy": 0.9})["escalated"] == 0.5  # the cheapest meeting it
    assert choose(pts, {"bandwidth": pts[1]["bytes_per_hour"]})["accuracy"] == 0.75
    assert choose(pts, {"energy": 0.4}) is None


def test_thresholds_span_every_escalation_fraction() -> None:
    conf = np.random.default_rng(0).random(200)
    ts = thresholds_for(conf, 10)
    fracs = [float(np.mean(conf < t)) for t in ts]
    assert fracs == [i / 10 for i in range(11)]


def test_lora_duty_cycle_and_frames() -> None:
    lora = get_link("lora")
    assert lora.frames(490) == 3 and lora.frames(0) == 1
    costs = Costs(1.0, 0.1, 490, 1.0, lora, rate_per_s=1.0)
    pts = sweep(np.zeros(10), np.zeros(10), np.zeros(10), np.linspace(0, 1, 10), costs, [0.0, 1.5])
    assert pts[0]["duty_cycle_ok"] and not pts[1]["duty_cycle_ok"]  # 3 frames a second is far over 1%
    assert choose(pts, {"accuracy": 0.5})["escalated"] == 0.0


def test_every_link_has_a_source_for_every_figure() -> None:
    fields = (
        "uplink_bps",
        "downlink_bps",
        "rtt_ms",
        "max_payload_bytes",
        "header_bytes",
        "tx_mw",
        "rx_mw",
        "per_message_mj",
        "frame_overhead_ms",
    )
    assert list(links()) == ["ble", "wifi", "lte-m", "lora"]
    for lk in links().values():
        assert all(lk.sources.get(f) for f in fields), lk.slug
    with pytest.raises(UnknownLinkError, match="ble, wifi, lte-m, lora"):
        get_link("wimax")


def test_budget_text() -> None:
    assert parse_budget("bandwidth=2e4, accuracy=0.9") == {"bandwidth": 20000.0, "accuracy": 0.9}
    for bad in ("speed=1", "energy=-1", "accuracy=nan", "bandwidth", ""):
        with pytest.raises(CascadeError):
            parse_budget(bad)


def test_embedding_is_what_the_last_layer_reads() -> None:
    """The cut graph's output, fed to the last FULLY_CONNECTED alone, gives the full model's
    output exactly."""
    graph = read_tflite_bytes(classifier_model(task_weights(), batch=4, hidden=24))
    cut, k = embedding_graph(graph)
    assert graph.tensors[k].dtype == "int8" and list(graph.tensors[k].shape) == [4, 24]
    last = graph.operators[-1]
    head = Graph(list(graph.tensors), [last], [k], list(graph.outputs))
    x = np.random.default_rng(1).integers(-127, 128, (4, 16)).astype(np.int8)
    e = Interpreter(cut).run([x])[0]
    assert np.array_equal(Interpreter(head).run([e])[0], Interpreter(graph).run([x])[0])
    with pytest.raises(CascadeError, match="not an int8 activation"):
        embedding_graph(read_tflite_bytes(classifier_model(task_weights(), batch=4)))
