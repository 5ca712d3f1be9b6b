"""Board catalog: every board the design names, every figure with a source."""

from __future__ import annotations

import pytest

from edgecraft.targets import UnknownBoardError, board_slugs, boards, get_board

DESIGN_SLUGS = ["nano33ble", "esp32", "esp32s3", "pico", "sparkfun-edge", "stm32f746-disco",
                "stm32l4r5-nucleo", "stm32u575-nucleo", "rpi4", "coral-devboard", "jetson-nano",
                "qemu-m0", "qemu-m3", "qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55"]
FIGURES = ["chip", "core", "clock_mhz", "sram_bytes", "flash_bytes", "fpu", "dsp", "simd", "active_mw",
           "sleep_mw"]


def test_every_design_board_is_listed_in_order():
    assert board_slugs() == DESIGN_SLUGS


@pytest.mark.parametrize("slug", DESIGN_SLUGS)
def test_every_figure_has_a_source(slug):
    b = get_board(slug)
    for f in FIGURES:
        assert len(b.sources.get(f, "")) > 10, f"{slug}: no source for {f}"
    assert b.clock_mhz > 0 and b.sram_bytes >= 16 * 1024 and b.flash_bytes >= 256 * 1024
    if b.emulated:
        assert b.qemu_machine and b.active_mw is None
    else:
        assert b.active_mw is not None and b.active_mw > 0


def test_known_figures():
    # Spot checks against the datasheets cited and ../shared/TOOLCHAIN.md.
    assert get_board("stm32l4r5-nucleo").clock_mhz == 120 and get_board("stm32f746-disco").clock_mhz == 216
    assert get_board("stm32u575-nucleo").core == "cortex-m33"
    assert get_board("qemu-m0").sram_bytes == 16 * 1024 and get_board("qemu-m0").qemu_machine == "microbit"
    assert get_board("qemu-m4").qemu_machine == "mps2-an386"
    assert get_board("qemu-m55").qemu_machine == "mps3-an547"
    assert get_board("pico").fpu is False and get_board("nano33ble").dsp is True


def test_unknown_board_lists_the_valid_ones():
    with pytest.raises(UnknownBoardError, match="unknown board 'uno'; choose one of: nano33ble, esp32,"):
        get_board("uno")


def test_records_are_json_ready():
    d = boards()["esp32"].to_dict()
    assert d["slug"] == "esp32" and isinstance(d["sources"], dict)
