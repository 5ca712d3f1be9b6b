"""`edgecraft profile MODEL --target all --emulate`: every catalog board with a Cortex-M core gets
its latency from counted cycles (flash stalls from counted cache misses included) and its energy
per inference and per day from that latency and the board's active and sleep power; the others
keep the MAC fit."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from edgecraft.cli.app import main
from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import tiny_mlp
from edgecraft.targets import board_slugs, get_board
from edgecraft.targets.cycles import SECONDS_PER_DAY, cycle_data, has_cycle_model

pytestmark = pytest.mark.toolchain


def test_every_board_gets_cycles_and_energy_from_them(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "mlp.tflite"
    model.write_bytes(write_tflite(tiny_mlp(seed=0)))
    monkeypatch.setattr(sys, "argv", ["edgecraft", "profile", str(model), "--target", "all", "--emulate",
                                      "--runtime", "edgecraft", "--format", "json"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    profiles = {p["board"]: p for p in json.loads(capsys.readouterr().out)["profiles"]}
    assert sorted(profiles) == sorted(board_slugs())
    cortex_m = [s for s in board_slugs() if has_cycle_model(get_board(s))]
    assert len(cortex_m) >= 12
    for slug, p in profiles.items():
        b, est = get_board(slug), p["estimates"]
        if slug not in cortex_m:
            assert est["cycle_model"] is None and not est["basis"].startswith("cycle model")
            continue
        cyc = est["cycle_model"]
        assert cyc is not None and est["basis"].startswith("cycle model"), slug
        assert cyc["cycles"] == cyc["core_cycles"] + cyc["flash_cycles"] == est["cycles"] > 0
        assert p["latency_ms"] == pytest.approx(est["cycles"] / (b.clock_mhz * 1e3), rel=1e-3)
        flash = cycle_data()["flash"]["boards"].get(slug)
        if flash is None:
            assert cyc["flash_cycles"] == 0  # emulated boards: zero-wait-state memory
        else:  # the counted misses of the board's kind of cache, each at the board's wait states
            found = re.search(r"(\d[\d,]*) data-cache misses .*?(\d[\d,]*) instruction-cache misses",
                              cyc["basis"])
            assert found is not None, slug
            misses = sum(int(g.replace(",", "")) for g in found.groups())
            assert misses > 0 and cyc["flash_cycles"] == misses * flash["wait_states"], slug
        if b.active_mw is None:
            assert p["energy_uj"] is None and p["energy_per_day_j"] is None
            continue
        assert p["energy_uj"] == pytest.approx(p["latency_ms"] * b.active_mw, rel=1e-3)
        busy = SECONDS_PER_DAY * p["latency_ms"] / 1e3  # one inference a second
        day = (b.active_mw * busy + b.sleep_mw * (SECONDS_PER_DAY - busy)) / 1e3
        assert p["energy_per_day_j"] == pytest.approx(day, rel=1e-3), slug
    # the board with the slow flash and the small caches pays for misses
    assert profiles["stm32l4r5-nucleo"]["estimates"]["cycle_model"]["flash_cycles"] > 0
