"""'Ticket history' answers "someone after me went first" and shows an undo: each ticket's
class (and a booking's time) on its first step, an undone completion in plain words, and
the number found as reception hears it ("C1" for C001). Real Chromium, real server."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def test_class_and_undo_in_the_history(browser: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("lab")
    demo_server.counter("4", "open")
    demo_server.counter("4", "call", {"ticket": t["id"]})
    demo_server.counter("4", "complete")
    undone = demo_server.counter("4", "undo")
    assert undone["undone"] == "completed" and undone["status"] == "called"
    demo_server.counter("4", "complete")
    sup = {"Authorization": f"Bearer {demo_server.token('supervisor', site='demo')}"}
    for _ in range(100):  # the recorder runs every second
        r = httpx.get(f"{demo_server.base}/v1/sites/demo/audit", headers=sup, timeout=10,
                      params={"number": t["number"]})
        if len(r.json()["records"]) == 5:
            break
        time.sleep(0.1)
    short = t["number"][0].lower() + str(int(t["number"][1:]))  # "c1"
    ctx = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(f"{demo_server.base}/supervise/demo?"
                  f"token={demo_server.token('supervisor', site='demo')}&lang=en")
        page.locator("#audit:not([hidden])").wait_for(timeout=WAIT_MS)
        page.locator("#au-number").fill(short)
        page.locator("#audit button[type=submit]").click()
        steps = page.locator("#au-list li")
        steps.nth(4).wait_for(timeout=WAIT_MS)
        assert [steps.nth(i).get_attribute("data-event") for i in range(5)] == [
            "issued", "called", "completed", "undone", "completed"]
        assert "class: Walk-in" in steps.nth(0).inner_text()
        assert "Undo at" in steps.nth(3).inner_text()
        booked = page.evaluate("""async () => {
          const m = await import('/static/js/supervise-audit.js');
          const tr = (k, v) => (v ? `${k}:${JSON.stringify(v)}` : k);
          const names = { service: (id) => id, counter: (id) => id, priority: (id) => `P(${id})`,
                          time: (ms) => `T(${ms})` };
          return m.describe({ event: 'issued', service: 'lab', channel: 'kiosk',
                              priority: 'walk_in', appointment_ms: 5 }, tr, names).text;
        }""")
        assert 'au_class:{"priority":"P(walk_in)"}' in booked
        assert 'au_appointment:{"time":"T(5)"}' in booked
    finally:
        ctx.close()
