"""A hub that loads a site (a restart, a resync) knows since when an open counter has stood
free: the scripts that release a counter's ticket keep ``free_ms`` (ticket_op.lua,
ticket_self.lua) and ``SiteView.from_snapshot`` reads it. Before, a counter nobody had been
at for an hour counted as free only from the restart, and the estimate for the head of its
queue said "any minute now" again. On a real Redis."""

from __future__ import annotations

from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.view import SiteView
from tests.integration.conftest import ADMIN, Clock

AGENT = Actor("agent:demo:1", "counter")


async def _view(demo: Engine, clock: Clock) -> SiteView:
    return SiteView.from_snapshot("demo", await demo.snapshot("demo"), clock.now)


async def test_free_since_survives_loading_the_site(demo: Engine, clock: Clock) -> None:
    for _ in range(3):
        await demo.issue("demo", TicketRequest(service="internal", channel=Channel.KIOSK),
                         ADMIN)
    await demo.counter_op("demo", "1", "open", AGENT)
    opened = clock.now
    clock.advance(30)
    assert (await _view(demo, clock)).counters["1"]["free_since"] == opened  # opened, free
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "start", AGENT)
    clock.advance(240)
    assert "free_since" not in (await _view(demo, clock)).counters["1"]  # busy
    await demo.counter_op("demo", "1", "complete", AGENT, outcome="ok")
    freed = clock.now
    clock.advance(3600)  # nobody comes back to it for an hour; the server restarts
    assert (await _view(demo, clock)).counters["1"]["free_since"] == freed
    # A no-show frees it too; closing and opening again starts afresh.
    await demo.counter_op("demo", "1", "call-next", AGENT)
    clock.advance(60)
    await demo.counter_op("demo", "1", "no-show", AGENT)
    assert (await _view(demo, clock)).counters["1"]["free_since"] == clock.now
    clock.advance(60)
    await demo.counter_op("demo", "1", "close", AGENT)
    clock.advance(60)
    await demo.counter_op("demo", "1", "open", AGENT)
    reopened = clock.now
    clock.advance(60)
    assert (await _view(demo, clock)).counters["1"]["free_since"] == reopened
