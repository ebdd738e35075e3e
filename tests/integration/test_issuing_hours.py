"""Issuing hours (policy.hours) against real Redis: a self-service ticket outside them is
refused with when the site opens next and nothing changes; staff issue anyway; a text asking
for a ticket is answered with when it can take one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.errors import ServiceClosed, SiteClosed
from queueing.model import Channel, SiteConfig, TicketRequest
from tests.integration.conftest import ADMIN, Clock, Server

KIOSK = Actor("kiosk-1", "kiosk")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo site's


def with_hours(**policy_hours: Any) -> SiteConfig:
    raw = msgspec.to_builtins(demo_site())
    raw["policy"] = {"hours": policy_hours}
    return msgspec.convert(raw, SiteConfig)


def local_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).date()


async def _site_state(redis: Redis) -> dict[bytes, Any]:
    """Every key of the demo site with its type and value (a refusal must change none)."""
    out: dict[bytes, Any] = {}
    async for k in redis.scan_iter(match=keys.prefix("demo") + "*"):
        kind = (await redis.type(k)).decode()
        if kind == "string":
            out[k] = await redis.get(k)
        elif kind == "hash":
            out[k] = await redis.hgetall(k)  # type: ignore[misc]
        elif kind == "zset":
            out[k] = await redis.zrange(k, 0, -1, withscores=True)
        elif kind == "stream":
            out[k] = await redis.xlen(k)
        else:
            out[k] = kind
    return out


@pytest.fixture
async def closed_today(engine: Engine, clock: Clock) -> Engine:
    """The demo site on a closed date (today, named); it opens tomorrow at 08:00."""
    today = local_day(clock())
    week = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    cfg = with_hours(week=week, closed=[{"date": today.isoformat(),
                                         "name": {"en": "Spring Festival", "zh": "春节"}}])
    await engine.put_site("demo", cfg, ADMIN)
    for c in cfg.counters:
        await engine.counter_op("demo", c.id, "open", ADMIN)
    return engine


async def test_kiosk_refused_nothing_changes_then_staff_issue(
        closed_today: Engine, clock: Clock, redis: Redis) -> None:
    engine = closed_today
    before = await _site_state(redis)
    req = TicketRequest(service="internal", channel=Channel.KIOSK)
    with pytest.raises(SiteClosed) as e:
        await engine.issue("demo", req, KIOSK, idempotency_key="k1")
    tomorrow = local_day(clock()) + timedelta(days=1)
    assert e.value.code == "site_closed" and e.value.status == 409
    assert e.value.details["next_open"] == f"{tomorrow.isoformat()}T08:00:00+08:00"
    assert e.value.details["closed_note"] == {"en": "Spring Festival", "zh": "春节"}
    assert await _site_state(redis) == before  # no number used, no event, no idempotency key
    for channel in (Channel.APP, Channel.WEB, Channel.SMS, Channel.PHONE, Channel.PARTNER):
        with pytest.raises(SiteClosed):
            await engine.issue("demo", TicketRequest(service="lab", channel=channel), KIOSK)
    assert await _site_state(redis) == before
    # Staff: the window channel, or an agent or admin token (``staff``) on any channel.
    desk = await engine.issue("demo", TicketRequest(service="internal", channel=Channel.WINDOW),
                              Actor("agent-1", "window"))
    assert desk.ticket["number"] == "A001"  # the refusals used none
    phoned = await engine.issue("demo", TicketRequest(service="lab", channel=Channel.PHONE),
                                Actor("agent-1", "phone"), staff=True)
    assert phoned.ticket["status"] == "waiting"


async def test_open_hours_issue_and_a_retry_after_closing_is_answered(
        engine: Engine, clock: Clock) -> None:
    now = datetime.fromtimestamp(clock() / 1000, SHANGHAI)
    until = (now + timedelta(minutes=30)).strftime("%H:%M")
    start = (now - timedelta(minutes=30)).strftime("%H:%M")
    wd = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    await engine.put_site("demo", with_hours(week={wd: [[start, until]]}), ADMIN)
    await engine.counter_op("demo", "1", "open", ADMIN)
    req = TicketRequest(service="internal", channel=Channel.KIOSK)
    first = await engine.issue("demo", req, KIOSK, idempotency_key="retry-me")
    assert first.ticket["number"] == "A001" and not first.replay
    clock.advance(31 * 60)  # closed now
    with pytest.raises(SiteClosed) as e:
        await engine.issue("demo", req, KIOSK, idempotency_key="another")
    assert e.value.details["next_open_local"]["time"] == start
    # The kiosk's retry of the ticket it took while open gets that ticket.
    again = await engine.issue("demo", req, KIOSK, idempotency_key="retry-me")
    assert again.replay and again.ticket["id"] == first.ticket["id"]


async def test_service_closed_while_the_site_is_open(engine: Engine, clock: Clock) -> None:
    wd = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
        datetime.fromtimestamp(clock() / 1000, SHANGHAI).weekday()]
    cfg = with_hours(services={"pharmacy": {wd: [["00:00", "00:01"]]}})
    await engine.put_site("demo", cfg, ADMIN)
    clock.now = int(datetime.combine(local_day(clock()), datetime.min.time(), SHANGHAI)
                    .timestamp() * 1000) + 12 * 3600_000  # noon
    for c in cfg.counters:
        await engine.counter_op("demo", c.id, "open", ADMIN)
    with pytest.raises(ServiceClosed) as e:
        await engine.issue("demo", TicketRequest(service="pharmacy", channel=Channel.KIOSK),
                           KIOSK)
    assert e.value.details["service"] == "pharmacy"
    assert e.value.details["next_open_local"]["time"] == "00:00"
    ok = await engine.issue("demo", TicketRequest(service="cashier", channel=Channel.KIOSK),
                            KIOSK)
    assert ok.ticket["service"] == "cashier"


async def _closed_now(s: Server) -> str:
    """Put the demo site on a closed date today (its zone's); the next day's date."""
    today = datetime.now(SHANGHAI).date()
    doc = msgspec.to_builtins(with_hours(closed=[{"date": today.isoformat(),
                                                  "name": {"en": "Spring Festival",
                                                           "zh": "春节"}}]))
    r = await s.client.put("/v1/sites/demo", json=doc, headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    got = (await s.client.get("/v1/sites/demo", headers=s.auth("admin"))).json()
    assert got["policy"]["hours"]["closed"][0]["date"] == today.isoformat()
    return (today + timedelta(days=1)).isoformat()


async def test_http_kiosk_refused_agent_window_issues(server: Server) -> None:
    s = server
    tomorrow = await _closed_now(s)
    kiosk = s.auth("kiosk", site="demo")
    r = await s.client.post("/v1/sites/demo/tickets", headers=kiosk,
                            json={"service": "internal", "channel": "kiosk"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "site_closed"
    assert body["details"]["next_open"] == f"{tomorrow}T00:00:00+08:00"
    assert body["details"]["next_open_local"] == {
        "date": tomorrow, "weekday": ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
            date.fromisoformat(tomorrow).weekday()], "time": "00:00"}
    agent = s.auth("agent", site="demo", counter="1")
    r = await s.client.post("/v1/sites/demo/tickets", headers=agent,
                            json={"service": "internal", "channel": "window"})
    assert r.status_code == 201, r.text
    # An agent or admin token is staff on any channel (a clerk takes a phone caller's
    # ticket after hours); the kiosk stays refused.
    r = await s.client.post("/v1/sites/demo/tickets", headers=agent,
                            json={"service": "internal", "channel": "phone"})
    assert r.status_code == 201, r.text
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("admin"),
                            json={"service": "internal", "channel": "app"})
    assert r.status_code == 201, r.text
    r = await s.client.post("/v1/sites/demo/tickets", headers=kiosk,
                            json={"service": "internal", "channel": "kiosk"})
    assert r.status_code == 409 and r.json()["code"] == "site_closed"


async def test_sms_join_when_closed_says_when_it_opens(server: Server, redis: Redis) -> None:
    from tests.integration.test_sms_join import _tickets, text
    s = server
    tomorrow = date.fromisoformat(await _closed_now(s))
    before = await _tickets(redis)
    zh = await text(s, "A")  # a +86 number: Chinese
    wd_zh = "一二三四五六日"[tomorrow.weekday()]
    assert zh["ticket"] is None and zh["kind"] == "site_closed"
    assert zh["reply"] == (f"示范社区诊所现在不取号（春节）。请于{tomorrow.month}月{tomorrow.day}日"
                           f"（周{wd_zh}）00:00后再发短信取号。")
    en = await text(s, "join internal medicine", sender="+447700900123")
    wd_en = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[tomorrow.weekday()]
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    assert en["reply"] == (f"Demo Community Clinic is closed now (Spring Festival): no ticket "
                           f"can be taken. Text again from {wd_en} {tomorrow.day} "
                           f"{months[tomorrow.month - 1]} 00:00.")
    assert en["closed"]["next_open"] == f"{tomorrow.isoformat()}T00:00:00+08:00"
    assert await _tickets(redis) == before
