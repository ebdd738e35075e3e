"""SMS alerts of a queue ticket (an SMS-only holder's review): "almost your turn" is not
spent on one short visit, goes when the server's estimate (the SMS desk's STATUS) says the
wait is within the window, counters closing for the night are texted, the day's close is
not texted at night, and a call names the counter in the text's language. Real Redis, the
watcher driven event by event (as its tail does), a settable clock."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from redis.asyncio import Redis

from queueing import keys, sms
from queueing.booking import alerts, delivery
from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications, SiteWatcher
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from realtime.estimates import LiveEstimator
from realtime.hub.entry import decode_entry
from realtime.hub.feed import SiteFeed
from realtime.hub.hub import Hub
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from realtime.worker import ServerEstimates
from tests.integration.conftest import Clock
from tests.integration.test_booking_quiet import Recorder

ADMIN = Actor("admin", "test")
AGENT = Actor("agent:demo:4", "counter")
KIOSK = Actor("kiosk:demo:1", "kiosk")
PHONE = "+8613800000008"


def kinds(rec: Recorder) -> list[str]:
    return [n.kind for n in rec.sent]


async def watcher(demo: Engine, redis: Redis, clock: Clock, rec: Recorder) -> SiteWatcher:
    w = SiteWatcher(Notifications(redis, redis, demo, rec, Thresholds(3, 300), clock=clock),
                    "demo")
    await w._load()
    return w


async def pump(w: SiteWatcher, redis: Redis) -> None:
    """The stream's new events into the watcher, as ``_tail`` gives them."""
    for eid, f in await redis.xrange(keys.events("demo"), "(" + w.offset, "+"):
        kind, data = f[b"t"].decode(), msgspec.json.decode(f[b"d"])
        change = w.view.apply(kind, data)
        w.offset = eid.decode()
        await w._on(kind, data, change, w.offset, f.get(b"ch", b"").decode())


async def issue(demo: Engine, service: str, notify: str | None = None,
                lang: str | None = None) -> dict[str, Any]:
    got = await demo.issue("demo", TicketRequest(service=service, channel=Channel.KIOSK,
                                                 notify=notify), KIOSK, lang=lang)
    return got.ticket


async def test_one_short_visit_does_not_spend_the_almost_alert(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    """Six lab tickets, then one to text with 6 ahead; the first visit lasts 3 s: "almost"
    must not go (the honest wait is ~20+ min); it goes when the ticket is 2 from the front."""
    for c in ("1", "2", "3", "5", "6"):  # only the lab's counter 4 stays open
        await demo.counter_op("demo", c, "close", ADMIN)
    rec = Recorder()
    w = await watcher(demo, redis, clock, rec)
    for _ in range(6):
        await issue(demo, "lab")
    await issue(demo, "lab", notify=PHONE)
    await pump(w, redis)
    await demo.counter_op("demo", "4", "call-next", AGENT)
    clock.advance(3)
    await demo.counter_op("demo", "4", "complete", AGENT)
    await pump(w, redis)
    assert "almost" not in kinds(rec), rec.sent
    assert w.lengths.get("lab") > 200  # one 3-second visit is blended with the prior
    # The real one still comes: at the alert position (3rd, 2 ahead), once.
    for _ in range(5):
        await demo.counter_op("demo", "4", "call-next", AGENT)
        clock.advance(240)
        await demo.counter_op("demo", "4", "complete", AGENT)
        await pump(w, redis)
    [n] = [n for n in rec.sent if n.kind == "almost"]
    assert n.data["position"] == 3 and "前面还有 2 人" in n.text["zh"]


def test_call_lengths_shrink_toward_the_prior() -> None:
    cl = alerts.CallLengths()
    cl.observe("completed", {"ticket": {"service": "lab", "called_ms": 0, "ended_ms": 3_000}})
    assert 240 < cl.get("lab") < 260  # (5 × 300 + 3) / 6
    for _ in range(60):
        cl.observe("completed", {"ticket": {"service": "lab", "called_ms": 0,
                                            "ended_ms": 60_000}})
    assert 59 < cl.get("lab") < 65  # enough calls: the measured length


def test_the_wait_rule_uses_the_likely_longest_wait() -> None:
    th = Thresholds(position=1, wait_s=300)
    # 6 ahead at a 3-second mean was "due"; its P90 with the prior is not.
    assert alerts.almost_due(7, alerts.rough_wait_s(7, 1, 3.0), th)
    assert not alerts.almost_due(7, alerts.wait_p90_s(7, 1, 250.0), th)
    assert alerts.wait_p90_s(1, 1, 300) == 0
    # 2 ahead with 60 s calls: P90 ≈ 3.9 × 60 = 233 s, within 5 minutes.
    assert alerts.almost_due(3, alerts.wait_p90_s(3, 1, 60.0), th)
    assert alerts.wait_p90_s(5, 2, 100) > alerts.rough_wait_s(5, 2, 100)


def local_ms(day: int, hhmm: str) -> int:
    h, m = map(int, hhmm.split(":"))
    return int(datetime(2026, 11, day, h, m, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
               * 1000)


async def test_a_call_names_the_counter_in_the_text_s_language(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    rec = Recorder()
    w = await watcher(demo, redis, clock, rec)
    await issue(demo, "lab", notify=PHONE, lang="en")
    await issue(demo, "lab", notify="+8613800000009")  # no language chosen
    await pump(w, redis)
    for _ in range(2):
        await demo.counter_op("demo", "4", "call-next", AGENT)
        await pump(w, redis)
        await demo.counter_op("demo", "4", "complete", AGENT)
    en, first = [n for n in rec.sent if n.kind == "turn"]
    assert en.lang == "en" and en.data["counter_name"] == "Counter 4"
    assert "Counter 4" in en.text["en"]
    assert first.lang is None and first.data["counter_name"] == "4号窗口"  # the site's first


async def test_the_last_counter_closing_texts_those_waiting_once(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    clock.now = local_ms(20, "16:30")
    rec = Recorder()
    w = await watcher(demo, redis, clock, rec)
    a = await issue(demo, "lab", notify=PHONE, lang="en")
    await issue(demo, "lab")  # no number: nobody to tell
    b = await issue(demo, "pharmacy", notify="+8613800000010")
    await demo.counter_op("demo", "5", "close", ADMIN)  # counter 6 still serves pharmacy
    await demo.counter_op("demo", "4", "close", ADMIN)  # the lab's only counter
    await pump(w, redis)
    [n] = [n for n in rec.sent if n.kind == "no_counter"]
    assert n.ticket == a["id"] and n.lang == "en"
    assert n.text["en"].startswith("All counters for Laboratory have closed for now. Ticket "
                                   f"{a['number']} stays in the queue")
    assert "检验科的窗口现已全部关闭" in n.text["zh"]
    # Opened and closed again: not told twice; its call is still texted.
    await demo.counter_op("demo", "4", "open", ADMIN)
    await demo.counter_op("demo", "4", "close", ADMIN)
    await demo.counter_op("demo", "6", "close", ADMIN)  # pharmacy's last
    await pump(w, redis)
    assert [(n.kind, n.ticket) for n in rec.sent] == [("no_counter", a["id"]),
                                                      ("no_counter", b["id"])]


async def test_no_day_close_or_closing_texts_at_night(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    clock.now = local_ms(20, "18:00")
    rec = Recorder()
    w = await watcher(demo, redis, clock, rec)
    late = await issue(demo, "lab", notify=PHONE)
    await pump(w, redis)
    clock.now = local_ms(20, "23:00")  # the lab's counter closes late: told in the morning?
    await demo.counter_op("demo", "4", "close", ADMIN)  # no: nothing at night
    await pump(w, redis)
    clock.now = local_ms(21, "03:00")  # the day's close, as the demo's policy runs it
    result = await demo.close_day("demo", clock.now, ADMIN)
    assert [c["id"] for c in result["closed"]] == [late["id"]]
    await pump(w, redis)
    assert rec.sent == []
    stats = await redis.hgetall(delivery.STATS)  # type: ignore[misc]
    assert stats[b"stale:cancelled_day_closed:night"] == b"1"
    # In the evening it goes (an early close by staff).
    clock.now = local_ms(21, "18:00")
    evening = await issue(demo, "lab", notify=PHONE)
    clock.advance(1)
    await demo.close_day("demo", clock.now, ADMIN)  # tickets first, then the counters
    await pump(w, redis)
    assert [(n.kind, n.ticket) for n in rec.sent] == [("cancelled_day_closed", evening["id"])]


async def test_almost_goes_when_status_says_the_wait_is_within_the_window(
        demo: Engine, redis: Redis, clock: Clock, redis_server: EmbeddedRedis) -> None:
    """Counter 6 alone serves the pharmacy and the cashier, and 40 cashier tickets wait.
    The pharmacy's calls are short, so by the old rule (its own queue, the mean call length)
    3 ahead was "almost" while STATUS said "about 41 min". With the server's estimator the
    text goes at the very event after which STATUS's range ends within the 5 minutes."""
    hub = Hub(Settings(redis_url=redis_server.url, secret="x" * 32), redis, demo)
    hub.estimator = LiveEstimator(demo)  # what the SMS desk's STATUS asks (sms_api._status)
    feed = SiteFeed(hub, "demo")
    await feed._load()
    for c in ("1", "2", "3", "4", "5"):
        await demo.counter_op("demo", c, "close", ADMIN)
    th = Thresholds(1, 300)
    rec = Recorder()
    est = ServerEstimates(demo)
    w = SiteWatcher(Notifications(redis, redis, demo, rec, th, clock=clock, estimates=est),
                    "demo")
    await w._load()

    async def step() -> None:  # the new events into the hub's feed and the watcher
        rows = await redis.xrange(keys.events("demo"), "(" + feed.offset, "+")
        for eid, f in rows:
            feed._apply(decode_entry(eid, f))
        await pump(w, redis)
        await asyncio.gather(*hub.estimator._tasks, *est.live._tasks)  # warmed

    def status() -> dict[str, int]:
        hub.estimator.sites["demo"].sent.clear()  # as first asked (not held at a last one)
        got = hub.estimate_ticket(feed, me["id"])
        assert got is not None
        return dict(got)

    for _ in range(20):  # 30-second pharmacy visits
        await issue(demo, "pharmacy")
        await demo.counter_op("demo", "6", "call-next", AGENT)
        clock.advance(30)
        await demo.counter_op("demo", "6", "complete", AGENT)
        await step()
    cashier = [await issue(demo, "cashier") for _ in range(40)]
    ahead = [await issue(demo, "pharmacy") for _ in range(6)]
    me = await issue(demo, "pharmacy", notify=PHONE)
    await step()
    assert me["id"] in w.armed
    for t in ahead[:3]:
        await demo.counter_op("demo", "6", "call", AGENT, ticket=t["id"])
        clock.advance(30)
        await demo.counter_op("demo", "6", "complete", AGENT)
        await step()
    assert w.view.position(me["id"]) == 4
    # The old rule says "almost" here; STATUS says 20 minutes or more: no text.
    assert alerts.almost_due(4, alerts.wait_p90_s(4, 1, w.lengths.get("pharmacy")), th)
    assert status()["wait_s"] >= 20 * 60, status()
    assert "3 people ahead, about 4" in sms.wait_text("en", 3, status())  # 40-odd min
    assert "almost" not in kinds(rec)
    # The cashier queue empties; the text goes exactly when STATUS's P90 comes within 5 min.
    sent_at = said_at = None
    for i, t in enumerate(cashier):
        await demo.cancel(t["id"], ADMIN)
        await step()
        if said_at is None and status()["high_s"] <= th.wait_s:
            said_at = i
        if sent_at is None and "almost" in kinds(rec):
            sent_at = i
        assert (sent_at is None) == (said_at is None), (i, status(), rec.sent)
    assert sent_at is not None and 30 < sent_at < 39
    [n] = [n for n in rec.sent if n.kind == "almost"]
    assert n.data["position"] == 4
