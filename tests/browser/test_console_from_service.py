"""A patient sent from Room 1 to the lab and back: Room 1's console lists the ticket as
"Transferred from Laboratory" (the service it was last transferred from), live and after a
reload, in a real browser against a real server and Redis."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def test_room_1_sees_a_ticket_back_from_the_lab(browser: Any,
                                                demo_server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US")
    try:
        t = demo_server.take("internal")
        demo_server.counter("1", "call", {"ticket": t["id"]})
        demo_server.counter("1", "transfer", {"service": "lab"})
        console = ctx.new_page()
        console.goto(demo_server.page_url("counter:1", lang="en"))
        console.locator("#queues").wait_for(timeout=WAIT_MS)
        item = console.locator(f".q-item:has-text('{t['number']}')")
        # The lab calls the patient and sends them back: the open console's list says so.
        demo_server.counter("4", "call", {"ticket": t["id"]})
        moved = demo_server.counter("4", "transfer", {"service": "internal"})
        assert moved["from_service"] == "lab"
        item.wait_for(timeout=WAIT_MS)
        info = item.locator(".q-info .muted")
        info.filter(has_text="from Laboratory").wait_for(timeout=WAIT_MS)
        text = info.inner_text()
        assert text.startswith("Transferred from Laboratory") and "waited" in text, text
        # A console opened now (the service topic's snapshot) says it too.
        console.reload()
        item.locator(".q-info .muted", has_text="from Laboratory").wait_for(timeout=WAIT_MS)
    finally:
        ctx.close()
