"""The cycle model: every counted class priced for every core with a source, the arithmetic on
hand-computed cases (class prices, branches taken and not, flash wait states per counted cache
miss, energy per day),
and ``profile`` switching from the MAC fit to cycles when instruction classes are given."""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources

import pytest

from edgecraft.emulate.qemu import CACHES
from edgecraft.models.synthetic import tiny_mlp
from edgecraft.targets import get_board, profile
from edgecraft.targets.cycles import (
    MEMORY,
    UNPRICED,
    NoCycleModelError,
    check_error_pct,
    core_model,
    cycle_data,
    cycle_profile_estimate,
    estimate_cycles,
    has_cycle_model,
)


def plugin_classes() -> list[str]:
    source = resources.files("edgecraft.emulate").joinpath("plugin", "ec_insn_count.c").read_text()
    block = re.search(r"CLASS_NAMES\[N_COUNTERS\] = \{(.*?)\};", source, re.S)
    assert block is not None
    return re.findall(r'"(\w+)"', block.group(1))


def test_every_core_prices_every_counted_class_with_a_source() -> None:
    classes = [c for c in plugin_classes() if c not in UNPRICED and c not in MEMORY]
    assert set(MEMORY) <= set(plugin_classes())
    assert {"load_pipelined", "branch_taken", "branch_not_taken", "mac", "mve"} <= set(classes)
    for name, entry in cycle_data()["cores"].items():
        assert sorted(entry["cycles"]) == sorted(classes), name
        assert entry["sources"]["default"], name
        assert all(v >= 0 for v in entry["cycles"].values())
    for slug, entry in cycle_data()["flash"]["boards"].items():
        board = get_board(slug)
        assert has_cycle_model(board) and entry["source"] and entry["wait_states"] >= 0
        assert entry["cache"] in cycle_data()["flash"]["counted_caches"]
    # the geometry the runner asks the plugin for is the one cycles.json says was counted
    assert cycle_data()["flash"]["counted_caches"]["small"] == {"data": CACHES[0], "instruction": CACHES[1]}


def test_m55_vector_overlap_by_hand() -> None:
    # two beats per vector instruction, one when it starts beside a vector load/store's second beat
    classes = {"mve": 2, "mve_ldst": 2, "mve_overlapped": 2, "total": 6}
    m55 = estimate_cycles(classes, get_board("qemu-m55"))
    assert m55.core_cycles == 2 * 2 + 2 * 2 + 2 * 1
    assert "ARMScheduleM55.td" in core_model("cortex-m55").source("mve_overlapped")


def test_m4_arithmetic_by_hand() -> None:
    classes = {"alu": 10, "load": 4, "load_pipelined": 2, "branch_cond": 4, "branch_taken": 3,
               "branch_not_taken": 1, "load_multiple": 1, "load_multiple_regs": 3, "mac": 5, "total": 26}
    # Cortex-M4: ALU 1, LDR 2, pipelined LDR 1, taken branch 1 + P = 3, not taken 1, LDM 1 + N, SMLAD 1
    core = 10 + 4 * 2 + 2 + 3 * 3 + 1 + (1 + 3) + 5
    qemu = estimate_cycles(classes, get_board("qemu-m4"))  # zero-wait-state SSRAM at 25 MHz
    assert qemu.cycles == qemu.core_cycles == core and qemu.flash_cycles == 0
    assert qemu.latency_ms == pytest.approx(core / 25e3)
    assert qemu.energy_uj is None  # an emulated board has no power figure
    l4 = get_board("stm32l4r5-nucleo")
    unmeasured = estimate_cycles(classes, l4)  # no memory counters: no flash stalls, and it says so
    assert unmeasured.flash_cycles == 0 and "no memory counts" in unmeasured.basis
    # 7 data-cache and 2 instruction-cache misses of the ART-sized caches, 5 wait states each;
    # the 8 KB caches' misses and the access counts are not what this board pays
    memory = {"flash_load": 40, "ram_load": 9, "ram_store": 3, "flash_load_miss": 7, "fetch_lines": 30,
              "fetch_miss": 2, "flash_load_miss_big": 1, "fetch_miss_big": 1}
    est = estimate_cycles(classes | memory, l4)
    assert est.core_cycles == core and est.flash_cycles == (7 + 2) * 5
    assert est.latency_ms == pytest.approx((core + 45) / 120e3)
    assert est.energy_uj == pytest.approx(est.latency_ms * l4.active_mw, rel=1e-3)
    u5 = estimate_cycles(classes | memory, get_board("stm32u575-nucleo"))  # 8 KB ICACHE, 4 wait states
    assert u5.flash_cycles == (1 + 1) * 4
    row = {"wait_states": 3, "cache": "small", "source": "a row's board"}  # a board outside the catalog
    assert estimate_cycles(classes | memory, l4, row).flash_cycles == 9 * 3


def test_cores_differ_where_their_manuals_do() -> None:
    branchy = {"branch_taken": 100, "call": 10, "load_pipelined": 50, "mul_long": 20}
    m0, m0plus, m3, m4 = (core_model(c) for c in ("cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4f"))
    cost = {m.core: sum(n * m.cycles[c] for c, n in branchy.items()) for m in (m0, m0plus, m3, m4)}
    assert cost["cortex-m0"] - cost["cortex-m0plus"] == 100 + 10  # taken branch 3 vs 2, BL 4 vs 3
    assert cost["cortex-m3"] - cost["cortex-m4f"] == 20 * 3  # long multiply 4 vs 1
    assert m4.machine == "qemu-m4" and m0plus.machine == "qemu-m0"
    with pytest.raises(NoCycleModelError, match="xtensa-lx6"):
        core_model("xtensa-lx6")


def test_energy_per_day_adds_sleep_between_inferences() -> None:
    board = replace(get_board("stm32l4r5-nucleo"), active_mw=10.0, sleep_mw=0.01)
    est = estimate_cycles({"alu": 1_200_000}, board)  # 10 ms at 120 MHz
    assert est.latency_ms == pytest.approx(10.0)
    # 86,400 inferences of 10 ms: 864 s at 10 mW, the rest asleep at 0.01 mW
    assert est.energy_per_day_j(86_400, 10.0, 0.01) == pytest.approx((864 * 10 + 85_536 * 0.01) / 1e3)
    assert est.energy_per_day_j(1e9, 10.0, 0.01) == pytest.approx(864.0)  # busy the whole day
    assert est.energy_per_day_j(1, None, 0.01) is None


def test_profile_uses_cycles_when_classes_are_given() -> None:
    graph = tiny_mlp(seed=0)
    fitted = profile(graph, "nano33ble")
    counted = profile(graph, "nano33ble", classes={"alu": 64_000, "load": 32_000, "total": 96_000})
    cycles = 64_000 + 32_000 * 2
    assert counted["estimates"]["cycles"] == cycles
    assert counted["latency_ms"] == pytest.approx(cycles / 64e3)
    assert counted["energy_uj"] == pytest.approx(counted["latency_ms"] * 9.9, rel=1e-3)
    assert counted["energy_per_day_j"] > 0 and fitted["energy_per_day_j"] is None
    assert "cycle model" in counted["estimates"]["basis"]
    assert "cycle model" not in fitted["estimates"]["basis"]


def test_check_rows_have_sources_and_the_stated_error_covers_only_checked_cores() -> None:
    check = cycle_data()["check"]
    kinds = [r["kind"] for r in check["rows"]]
    assert kinds.count("reference") >= 2 and set(kinds) <= {"reference", "context", "ratio"}
    for row in check["rows"]:
        assert set(row["latency_ms"]) == {"kws", "vww", "ic", "ad"} and "tiny_results_v" in row["source"]
        assert (row["board"] is None) == ("flash" in row), row["id"]  # off-catalog boards bring their flash
        assert row["mapping"] in ("tflm", "microtvm")  # how benchmarks/cycles.py maps its layers
        if row["kind"] == "reference":
            assert cycle_data()["aliases"].get(row["core"], row["core"]) in check["cores"]
        elif row["kind"] == "ratio":  # the same engine on a board whose core the reference rows check
            base = row["base"]
            assert base["board"] == "stm32l4r5-nucleo" and base["core"] in check["cores"] + ["cortex-m4f"]
            assert set(base["latency_ms"]) == set(row["latency_ms"]) and "tiny_results_v" in base["source"]
            assert base["source"].split()[0] == row["source"].split()[0]  # one round, one engine
            assert get_board(row["board"]).clock_mhz == row["clock_mhz"]
        else:
            assert row["why_context"]
    # every published core with a Cortex-M table has a row: M4 and M33 directly, M7 by ratio, the
    # Helium kernels (on a Cortex-M85) as context for the M55 table
    cores = {r["core"] for r in check["rows"]}
    assert {"cortex-m4f", "cortex-m33", "cortex-m7", "cortex-m55"} <= cores
    assert check_error_pct("cortex-m4f") == check_error_pct("cortex-m33") == check["latency_error_pct"] <= 20
    assert check_error_pct("cortex-m0plus") == check_error_pct("cortex-m55") == check["unchecked_error_pct"]
    # the M7 is checked by cycle ratio to the M4 (three engines on DISCO-F746NG and NUCLEO-L4R5ZI)
    assert check["latency_error_pct"] < check_error_pct("cortex-m7") < check["unchecked_error_pct"]
    m7 = cycle_profile_estimate({"alu": 1000, "total": 1000}, get_board("stm32f746-disco"))
    assert m7["latency_error_pct"] == check["ratio_error_pct"]["cortex-m7"]
    assert "checked by ratio to the Cortex-M4" in m7["basis"]
    m0 = cycle_profile_estimate({"alu": 1000, "total": 1000}, get_board("pico"))
    assert m0["latency_error_pct"] == check["unchecked_error_pct"]
    assert "not covered by the check" in m0["basis"]
    m4 = cycle_profile_estimate({"alu": 1000, "total": 1000}, get_board("nano33ble"))
    assert m4["latency_error_pct"] == check["latency_error_pct"] and "benchmarks/cycles.py" in m4["basis"]
    # energy: the latency's error plus how far a board's power moves with its firmware (the same
    # NUCLEO-L4R5ZI drew 33.4 mW in ST's runs and 52 mW in microTVM's, both published)
    l4r5 = next(r for r in check["rows"] if r["id"] == "l4r5-microtvm-cmsis")
    power = [l4r5["energy_uj"][k] / l4r5["latency_ms"][k] for k in l4r5["latency_ms"]]
    spread = max(power) / get_board("stm32l4r5-nucleo").active_mw - 1
    assert 0.5 < spread <= check["energy_power_spread_pct"] / 100
    assert m4["energy_error_pct"] == check["latency_error_pct"] + check["energy_power_spread_pct"]
