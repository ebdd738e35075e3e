"""The wait an early check-in is told in the check-in's own answer counts its pending
promotion (appointment − ``appointment_early_s``: the appointment's place, ahead of the
walk-ins its class outranks), as the ticket topic's first frame does.

The hub tails the site's stream a few milliseconds behind the check-in script; the answer
was computed before it had the ticket, so it said the wait of a walk-in from now (the lab's
whole queue) and the lower one only came with the queue's next change.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
import websockets

from queueing.booking.schedule import slot_id
from realtime.hub.entry import Entry
from realtime.hub.feed import SiteFeed
from tests.integration.conftest import Server
from tests.integration.test_booking_http import TZ, bserver  # noqa: F401 (a fixture)
from tests.integration.test_protocol_conformance import JSON, ask, ws_url


def early_lab_slot() -> str:
    """The lab's half-hour slot that starts 25 to 55 minutes from now: check-in is open (an
    hour early) and more than ``appointment_early_s`` (10 min) early."""
    at = datetime.now(TZ) + timedelta(minutes=25)
    start = at.replace(minute=at.minute // 30 * 30, second=0, microsecond=0) + timedelta(
        minutes=30)
    return slot_id("lab1", "lab", int(start.timestamp() * 1000))


LAG_S = 0.1


@pytest.fixture
def lagging_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub applies an early check-in's entry ``LAG_S`` after reading it, as a hub
    busy with other sites may: whether the answer waits for it is then not left to which
    of two Redis replies the event loop happens to read first."""
    apply = SiteFeed._apply

    def late(self: SiteFeed, entry: Entry) -> None:
        t = entry.data.get("ticket")
        if entry.type != "issued" or not isinstance(t, dict) or not t.get("promote_at_ms"):
            apply(self, entry)
            return
        self.offset = entry.id  # read: the next read goes on after it
        asyncio.get_running_loop().call_later(LAG_S, apply, self, entry)

    monkeypatch.setattr(SiteFeed, "_apply", late)


async def _post(s: Server, path: str, headers: dict[str, str],
                body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await s.client.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


async def test_an_early_check_in_is_told_the_wait_its_promotion_gives(
        bserver: Server, lagging_hub: None) -> None:  # noqa: F811
    s = bserver
    kiosk = s.auth("kiosk", site="demo")
    agent = s.auth("agent", site="demo", counter="4")
    await _post(s, "/v1/sites/demo/counters/4/open", agent)
    for _ in range(12):  # a long walk-in queue at the lab's one counter
        await _post(s, "/v1/sites/demo/tickets", kiosk, {"service": "lab", "channel": "kiosk"})
    await _post(s, "/v1/sites/demo/counters/4/call-next", agent)
    b = await _post(s, "/v1/sites/demo/bookings", kiosk,
                    {"slot": early_lab_slot(), "customer": "ivy", "channel": "kiosk"})
    t = await _post(s, "/v1/sites/demo/check-in", kiosk, {"code": b["code"]})
    assert t["priority"] == "walk_in" and t["promote_at"] and t["position"] == 12
    told = t["estimate"]
    await asyncio.sleep(2 * LAG_S)  # the hub has it now, however late
    async with websockets.connect(ws_url(s, t["token"]), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": f"ticket:{t['id']}", "id": 1})
    first = snap["data"]["estimate"]
    assert snap["data"]["position"] == 12 and first is not None
    # The same wait as the first frame (seconds apart: the promotion is that much nearer),
    # not a walk-in's at the end of the queue.
    assert abs(told["wait_s"] - first["wait_s"]) <= 5, (told, first)
    assert abs(told["high_s"] - first["high_s"]) <= 5, (told, first)
    # A walk-in taken now, one place behind it, waits longer: the promotion is counted.
    w = await _post(s, "/v1/sites/demo/tickets", kiosk, {"service": "lab", "channel": "kiosk"})
    assert w["estimate"]["wait_s"] > told["wait_s"] + 60, (w["estimate"], told)
