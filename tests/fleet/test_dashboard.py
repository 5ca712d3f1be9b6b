"""The dashboard in real headless Chromium, against a server with simulated devices."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fleet_support import ARTIFACTS, wait_for

from edgecraft.fleet.sim import classifier_model, task_weights

pytestmark = [pytest.mark.browser, pytest.mark.broker]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_dashboard_shows_the_fleet(fleet_factory) -> None:  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    w = task_weights()
    fleet = fleet_factory(
        12, models={"1.0.0": classifier_model(w), "1.1.0": classifier_model(w[[1, 0, 3, 2]])}, glitch=0.02
    )
    r = fleet.client.deploy("1.1.0", "all", "25%", "100", "accuracy_drop<0.03")
    fleet.wait_rollout(r["id"])
    wait_for(lambda: len(fleet.client.dashboard()["series"]) >= 2, 20, "two telemetry buckets")
    token = (fleet.server.state_dir / "admin.token").read_text().strip()

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(f"{fleet.server.url}/#token={token}")
        page.wait_for_selector("body[data-loaded='1']", timeout=60000)
        assert token not in page.url  # the token leaves the address bar at once

        rows = page.locator("#fleet-table tbody tr")
        assert rows.count() == 12
        assert rows.first.locator("td").nth(3).inner_text() == "1.0.0"  # everyone back on the good model
        assert page.locator("#fleet-table td.health-ok").count() == 12

        rollout = page.locator(f".rollout[data-id='{r['id']}']")
        assert rollout.get_attribute("data-state") == "rolled_back"
        assert "accuracy_drop" in rollout.locator(".reason").inner_text()
        stages = rollout.locator(".stage")
        assert stages.count() == 2
        assert stages.nth(0).get_attribute("data-state") == "active"
        assert "rolled_back 3" in stages.nth(0).inner_text()
        assert stages.nth(1).get_attribute("data-state") == "waiting"

        for plot in ("latency", "confidence", "anomaly"):
            n = page.locator(f"#plot-{plot} polyline").get_attribute("data-n")
            assert n is not None and int(n) >= 2, plot
        assert page.locator("#anomalies li.anomaly").count() > 0
        assert "sensor_saturated" in page.locator("#anomalies").inner_text()
        assert page.locator(".card[data-key='devices'] b").inner_text() == "12"
        assert page.locator(".card[data-key='broker']").get_attribute("data-state") == "up"

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "fleet-dashboard.png"), full_page=True)

        page.goto(f"{fleet.server.url}/#token=wrong")  # a bad token gets the sign-in form, not data
        page.wait_for_selector("#login:not([hidden])", timeout=60000)
        browser.close()
    assert (ARTIFACTS / "fleet-dashboard.png").stat().st_size > 10_000
