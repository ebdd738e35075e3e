# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""The dispatcher console's utilisation tile is live: utilisation moves with time alone (a
technician on a job adds on-job time every second), and the tile used to change only with
the console's KPI read once a minute. The region topic now sends the terms it runs on with
the tiles; the page recomputes the tile every 5 s and reads no KPIs over HTTP. Real browser,
server, worker and Redis."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import DispatchDemo
from tests.browser.test_dispatch_console import (  # noqa: F401  (desk: the fixture)
    INSIDE,
    REGION,
    desk,
    new_job,
    wait_status,
)

pytestmark = pytest.mark.browser
WAIT_MS = 30000


def test_utilisation_from_its_terms(browser: Any, desk: DispatchDemo) -> None:  # noqa: F811
    """dispatch-console-state.js ``utilisationAt``, as dispatch/kpi.py ``utilisation_at``:
    the same figures as tests/unit/dispatch/test_dispatch_utilisation_live.py."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{desk.base}/static/js/dispatch-console-state.js")
        r = page.evaluate("""async () => {
          const m = await import('/static/js/dispatch-console-state.js');
          const u = { at: 600000, on_ms: 300000, on_n: 1, on_later: [900000], online_ms: 1200000, online_n: 2, online_later: [] };
          const tiles = (now) => Object.fromEntries(m.kpiTiles({ utilisation: 0.25, utilisation_live: u }, (n) => `${n}m`, now).map(([id, , v]) => [id, v]));
          return { at: [600000, 900000, 1000000].map((t) => m.utilisationAt(u, t)), nobody: m.utilisationAt({ ...u, online_ms: 0, online_n: 0 }, 700000),
                   tile: [tiles(600000).util, tiles(1000000).util], plain: m.kpiTiles({ utilisation: 0.5 }, String)[4][2] };
        }""")
    finally:
        ctx.close()
    assert r["at"] == [0.25, 600 / 1800, 0.4]
    assert r["nobody"] is None
    assert r["tile"] == ["25 %", "40 %"] and r["plain"] == "50 %"


@pytest.mark.timeout(180)
def test_the_utilisation_tile_moves_with_no_event_and_no_read(browser: Any,
                                                              desk: DispatchDemo) -> None:  # noqa: F811
    job = new_job(desk, INSIDE, "Chen")
    tech = wait_status(desk, job["id"], "offered")["technician"]
    desk.actions(tech, ("accept", job["id"]), ("depart", job["id"]), ("arrive", job["id"]))
    assert wait_status(desk, job["id"], "on_site")["status"] == "on_site"
    token = desk.server.token("dispatcher", region=REGION)
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        reads: list[str] = []
        page.on("request", lambda r: reads.append(r.url) if "/kpis" in r.url else None)
        page.goto(f"{desk.base}/dispatch/{REGION}?token={token}&lang=en")
        wait_js(page, "document.body.dataset.conn === 'online'")
        tile = page.locator("#kpis [data-kpi='util'] .dc-kpi-n")
        tile.wait_for()
        first = tile.inner_text()
        # One technician on site of two online: utilisation climbs by the second. The tile
        # follows within its 5 s tick, with nothing happening in the region.
        wait_js(page, f"document.querySelector(\"#kpis [data-kpi='util'] .dc-kpi-n\").textContent !== {first!r}",
                timeout_s=20)
        assert int(tile.inner_text().split()[0]) > int(first.split()[0]), (first, tile.inner_text())
        assert "Figures as of" in page.locator("#kpi-at").inner_text()
        assert reads == []
    finally:
        ctx.close()
