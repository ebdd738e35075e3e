"""'Screens and kiosks' on the floor overview (/supervise/{site}): each board and kiosk of
the site, online or offline with when it was last seen, offline ones first and marked,
refreshed every 30 s (a hospital IT admin's review: a dark board showed nowhere)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _mint(server: DemoServer, **body: Any) -> dict[str, Any]:
    r = httpx.post(f"{server.base}/v1/tokens", json=body, timeout=10,
                   headers={"Authorization": f"Bearer {server.token('admin')}"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _online(server: DemoServer, subject: str) -> bool:
    r = httpx.get(f"{server.base}/v1/sites/demo/devices", timeout=10,
                  headers={"Authorization": f"Bearer {server.token('supervisor', site='demo')}"})
    assert r.status_code == 200, r.text
    return bool(next(d for d in r.json()["devices"] if d["subject"] == subject)["online"])


def _until(test: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def _rows(page: Any) -> list[dict[str, str]]:
    return list(page.evaluate("""() => [...document.querySelectorAll('#dv-body tr')].map((tr) => ({
      subject: tr.dataset.subject, cls: tr.className,
      state: tr.querySelector('.dv-state').textContent,
      seen: tr.querySelector('.dv-seen').textContent }))"""))


def test_a_board_shows_online_then_offline_once_closed(browser: Any,
                                                       demo_server: DemoServer) -> None:
    board = _mint(demo_server, role="display", site="demo", subject="hall-board")
    _mint(demo_server, role="kiosk", site="demo", subject="kiosk-dark")
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    try:
        tv = ctx.new_page()
        tv.goto(demo_server.base + board["link"])
        _until(lambda: _online(demo_server, "hall-board"))
        page = ctx.new_page()
        page.clock.install()  # the 30-s refresh, run on without waiting for it
        token = demo_server.token("supervisor", site="demo")
        page.goto(f"{demo_server.base}/supervise/demo?token={token}&lang=en")
        page.locator("#devices:not([hidden]) tr[data-subject='hall-board']").wait_for(
            timeout=WAIT_MS)
        assert page.locator("#dv-title").inner_text().lower() == "screens and kiosks"
        rows = _rows(page)
        mine = {r["subject"]: r for r in rows}
        assert mine["hall-board"]["state"] == "Online" and mine["hall-board"]["seen"] == "now"
        assert "dv-row-on" in mine["hall-board"]["cls"]
        assert mine["kiosk-dark"]["state"] == "Offline" and mine["kiosk-dark"]["seen"] == "never"
        assert "dv-row-off" in mine["kiosk-dark"]["cls"]
        # Offline ones first.
        states = [r["state"] for r in rows]
        assert states == sorted(states, key=lambda s: s != "Offline"), rows
        # The board's page closed: offline once the server notices its socket gone and the
        # panel's next refresh (every 30 s) comes.
        tv.close()
        _until(lambda: not _online(demo_server, "hall-board"))
        assert "Online" in page.locator("tr[data-subject='hall-board'] .dv-state").inner_text()
        page.clock.run_for(30_000)
        wait_js(page, "document.querySelector(\"tr[data-subject='hall-board']\")"
                      "?.classList.contains('dv-row-off')")
        seen = page.locator("tr[data-subject='hall-board'] .dv-seen").inner_text()
        assert seen.startswith("today "), seen
        assert "offline" in page.locator("#dv-summary").inner_text()
        # In Chinese.
        page.locator("#lang button", has_text="中文").first.click()
        wait_js(page, "document.getElementById('dv-title').textContent === '屏幕与自助机'")
        assert page.locator("tr[data-subject='hall-board'] .dv-state").inner_text() == "离线"
    finally:
        ctx.close()
