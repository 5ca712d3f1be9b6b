"""Power and battery model: hand-checked numbers, battery text, board figures, timeline, PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgecraft.device import power
from edgecraft.device.power import (
    Battery,
    BoardPower,
    PowerError,
    board_power,
    estimate,
    parse_battery,
    plot_power,
    power_timeline,
)
from edgecraft.models.synthetic import small_cnn


def test_parse_battery() -> None:
    assert parse_battery("220mAh@3.0V") == Battery(220.0, 3.0)
    assert parse_battery(" 2 Ah @ 3.7 v ") == Battery(2000.0, 3.7)
    assert parse_battery("220mAh@3.0V").mwh == pytest.approx(660.0)
    for bad in ("220mAh", "3V@220mAh", "0mAh@3V", "abc"):
        with pytest.raises(PowerError, match=r"220mAh@3\.0V|positive"):
            parse_battery(bad)


def test_estimate_hand_checked() -> None:
    board = BoardPower("demo", active_mw=10.0, sleep_mw=0.01, latency_ms=50.0, source="test")
    # 2 inferences/s of 50 ms: duty 10 %; 10 * 0.1 + 0.01 * 0.9 = 1.009 mW
    out = estimate(board, 2.0, Battery(220, 3.0), events_per_hour=36.0, event_mj=10.0)
    # events: 36 / h * 10 mJ = 360 mJ / 3600 s = 0.1 mW
    assert out["duty_cycle"] == pytest.approx(0.1)
    assert out["average_mw"] == pytest.approx(1.109)
    assert out["energy_per_day_j"] == pytest.approx(1.109 * 86.4, rel=1e-3)
    assert out["battery_life_h"] == pytest.approx(660 / 1.109, rel=1e-3)
    assert out["energy_per_inference_uj"] == pytest.approx(500.0)
    assert estimate(board, 2.0, always_on_mw=0.5)["average_mw"] == pytest.approx(1.509)
    with_front_end = estimate(board, 2.0, feature_ms=25.0)  # 75 ms busy per inference: duty 15 %
    assert with_front_end["duty_cycle"] == pytest.approx(0.15) and with_front_end["feature_ms"] == 25.0
    busy = estimate(board, 100.0)  # more work than time: the core never sleeps
    assert busy["duty_cycle"] == 1.0 and busy["average_mw"] == pytest.approx(10.0)
    assert out["keeps_up"] and not busy["keeps_up"]


def test_board_power_comes_from_the_catalog_and_profile() -> None:
    from edgecraft.targets import get_board, profile

    bp = board_power(small_cnn(), "nano33ble")
    board = get_board("nano33ble")
    assert (bp.active_mw, bp.sleep_mw) == (board.active_mw, board.sleep_mw)
    assert bp.latency_ms == profile(small_cnn(), "nano33ble")["latency_ms"]
    assert "nRF52840" in bp.source
    with pytest.raises(PowerError, match="no-such-board"):
        board_power(small_cnn(), "no-such-board")
    with pytest.raises(PowerError, match="emulated"):
        board_power(small_cnn(), "qemu-m4")


def test_board_power_takes_counted_cycles() -> None:
    counted = board_power(small_cnn(), "nano33ble", classes={"alu": 640_000, "load": 320_000})
    assert counted.latency_ms == pytest.approx((640_000 + 2 * 320_000) / 64e3)  # M4: LDR 2 cycles, 64 MHz
    assert "cycle model" in counted.source


@pytest.mark.toolchain
def test_board_power_counts_cycles_on_the_boards_core() -> None:
    from edgecraft.device.power import counted_classes
    from edgecraft.targets import get_board
    from edgecraft.targets.cycles import estimate_cycles

    graph = small_cnn()
    classes = counted_classes(graph, "stm32f746-disco")  # a Cortex-M7: counted on qemu-m7
    bp = board_power(graph, "stm32f746-disco", count_cycles=True)
    assert bp.latency_ms == pytest.approx(estimate_cycles(classes, get_board("stm32f746-disco")).latency_ms)
    assert classes["total"] > 100_000 and "qemu-m7" in bp.source
    with pytest.raises(PowerError, match="no cycle model"):
        board_power(graph, "esp32", count_cycles=True)


def test_every_physical_board_prices_with_the_catalog_figures() -> None:
    """The catalog is the one board table: each physical board's power figures and clock come
    from it, and the estimate uses them."""
    from edgecraft.ir import GraphBuilder, qparams
    from edgecraft.targets import boards

    b = GraphBuilder("tiny")
    x, y = (b.tensor(name, (1, 8), "int8", qparams(0.05)) for name in ("x", "y"))
    b.op("RELU", [x], [y])
    graph = b.build([x], [y])
    priced = [board for board in boards().values()
              if board.active_mw is not None and board.sleep_mw is not None]
    assert len(priced) >= 5
    for board in priced:
        bp = board_power(graph, board.slug)
        assert (bp.active_mw, bp.sleep_mw, bp.clock_mhz) == (board.active_mw, board.sleep_mw, board.clock_mhz)
        out = estimate(bp, 1.0)
        assert (out["active_mw"], out["sleep_mw"]) == (board.active_mw, board.sleep_mw)
    for board in boards().values():
        if board not in priced:
            with pytest.raises(PowerError, match="emulated" if board.emulated else "no sleep power"):
                board_power(graph, board.slug)


def test_power_follows_a_changed_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """No second table hides behind the catalog: change the catalog's figures and the power
    model changes with them."""
    import dataclasses

    from edgecraft.targets import catalog

    real = catalog.boards()
    changed = dict(real, nano33ble=dataclasses.replace(real["nano33ble"], active_mw=12.5, sleep_mw=0.25))
    monkeypatch.setattr(catalog, "boards", lambda: changed)
    bp = board_power(small_cnn(), "nano33ble")
    assert (bp.active_mw, bp.sleep_mw) == (12.5, 0.25)
    assert not any(isinstance(v, dict) and "nano33ble" in v for v in vars(power).values())


def test_timeline_and_plot(tmp_path: Path) -> None:
    board = BoardPower("demo", active_mw=10.0, sleep_mw=0.01, latency_ms=100.0, source="test")
    assert np.count_nonzero(power_timeline([0.5], 2.0, board, step_ms=10.0, busy_ms=200.0)[1] == 10.0) == 20
    t, p = power_timeline([0.5, 1.5], 2.0, board, step_ms=10.0)
    assert len(t) == 200
    assert np.count_nonzero(p == 10.0) == 20  # 2 x 100 ms at 10 ms steps
    assert np.mean(p) == pytest.approx((10.0 * 0.2 + 0.01 * 1.8) / 2.0)
    png = plot_power(tmp_path / "power.png", t, p, estimate(board, 1.0))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
