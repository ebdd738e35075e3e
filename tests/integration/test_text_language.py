"""Texts go in the language the person chose on the page (``lang`` of a ticket's notify and
of a booking), before the SMS-history rule; none given, or one the site does not speak: as
before. Over HTTP, with the real notification watcher and a fake SMS gateway (a local
webhook receiver: the one side we do not own)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
from redis.asyncio import Redis

from queueing import keys
from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications
from queueing.booking.notify import WebhookNotifier
from queueing.engine import Actor, Engine
from queueing.model import Channel
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis
from tests.integration.test_notif_webhook import SECRET, Receiver, receiver
from tests.integration.test_public_booking_page import _slot
from tests.integration.test_security_review import demo_server

AGENT = Actor("agent:demo:1", "counter")


def sent(rec: Receiver, kind: str) -> list[dict[str, Any]]:
    out = [msgspec.json.decode(body) for _, body in rec.got]
    return [n for n in out if n["kind"] == kind]


async def until(pred: Callable[[], Any], what: str, timeout_s: float = 20) -> Any:
    for _ in range(int(timeout_s / 0.05)):
        got = pred()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.asynccontextmanager
async def watching(redis: Redis, url: str) -> AsyncIterator[Engine]:
    """The worker's notification watcher, in this process, sending to the fake gateway."""
    engine = Engine(Store(redis), config_ttl_s=0)
    gateway = WebhookNotifier(url, SECRET, timeout_s=5)
    notes = Notifications(redis, redis, engine, gateway, Thresholds(1, 0), refresh_s=0.05)
    notes.start()
    try:
        for _ in range(600):
            if await redis.exists(keys.prefix("demo") + "nt:cursor"):
                break
            await asyncio.sleep(0.05)
        yield engine
    finally:
        await notes.stop()
        await gateway.aclose()


async def test_a_booking_s_texts_go_in_the_page_s_language(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with receiver() as rec, demo_server(
            redis_server, tmp_path, booking=True, notify_webhook_url=rec.url,
            notify_webhook_secret=SECRET, web_booking_verify=False) as s, \
            watching(redis, rec.url):
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        ids = {}
        for i, (number, lang) in enumerate((("+447700900555", "en"), ("+447700900556", None),
                                            ("+447700900557", "fr"))):
            body = {"slot": _slot(i), "customer": number, "channel": "web", "notify": number}
            r = await s.client.post("/v1/sites/demo/bookings", headers=web,
                                    json=body if lang is None else {**body, "lang": lang})
            assert r.status_code == 201, r.text
            assert "lang" not in r.json()  # the answer is as before
            ids[number] = r.json()["id"]
        booked = await until(lambda: (lambda x: x if len(x) == 3 else None)(
            sent(rec, "booked")), "three booked texts")
        by = {n["booking"]: n for n in booked}
        assert by[ids["+447700900555"]]["lang"] == "en"
        # None given, or one the site does not speak (fr): the gateway's default, as before.
        assert "lang" not in by[ids["+447700900556"]]
        assert "lang" not in by[ids["+447700900557"]]
        r = await s.client.post("/v1/sites/demo/bookings", headers=web, json={
            "slot": _slot(4), "customer": "+447700900558", "channel": "web", "lang": "English"})
        assert r.status_code == 400 and r.json()["details"]["field"] == "lang", r.text


async def test_text_me_before_my_turn_in_the_kiosk_s_language(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with receiver() as rec, demo_server(
            redis_server, tmp_path, notify_webhook_url=rec.url,
            notify_webhook_secret=SECRET) as s, watching(redis, rec.url) as engine:
        await engine.counter_op("demo", "1", "open", AGENT)
        kiosk = s.auth("kiosk", site="demo")
        cases = [("+447700900777", "en"), ("+447700900778", None), ("+447700900779", "fr"),
                 ("+8613800138779", "en")]
        tickets = []
        for number, lang in cases:
            t = (await s.client.post("/v1/sites/demo/tickets", headers=kiosk, json={
                "service": "internal", "channel": "kiosk"})).json()
            own = {"Authorization": f"Bearer {t['token']}"}
            body: dict[str, Any] = {"to": number} if lang is None else {"to": number,
                                                                        "lang": lang}
            r = await s.client.post(f"/v1/tickets/{t['id']}/notify", headers=own, json=body)
            assert r.status_code == 200, r.text
            tickets.append(t["id"])
        # The SMS-history rule still holds where no language was given, and the page's
        # choice wins over it: both numbers wrote in Chinese before.
        for number in ("+447700900778", "+8613800138779"):
            await redis.hset(keys.sms_number("demo", number), "lang", "zh")  # type: ignore[misc]
        r = await s.client.post(f"/v1/tickets/{tickets[0]}/notify", json={
            "to": "+447700900777", "lang": "en-GB!"}, headers=s.auth("admin"))
        assert r.status_code == 400 and r.json()["details"]["field"] == "lang", r.text
        for _ in tickets:
            await engine.counter_op("demo", "1", "call-next", AGENT)
            await engine.counter_op("demo", "1", "complete", AGENT)
        turns = await until(lambda: (lambda x: x if len(x) == 4 else None)(
            sent(rec, "turn")), "four turn texts")
        lang = {n["ticket"]: n.get("lang") for n in turns}
        assert [lang[t] for t in tickets] == ["en", "zh", None, "en"]
        assert turns[0]["text"]["en"].startswith("Ticket A")


async def test_a_booking_s_language_goes_on_to_its_reminders_and_its_ticket(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Booked in English, reminded in English; checked in, called in English."""
    from queueing.booking.tasks import Services, reminder
    from tests.integration.test_booking_support import req
    from tests.integration.test_booking_worker import next_start, setup, site_zone

    start = next_start(site_zone())
    bk, slots = await setup(redis, start, [])
    async with receiver() as rec, watching(redis, rec.url) as engine:
        b = (await bk.book("demo", req(slots[0], "+447700900555", Channel.PHONE,
                                       notify="+447700900555", lang="en"), AGENT)).booking
        raw = await bk.store.run("get", "demo", bk.now(), "", "", b["id"], "")
        svc = Services(redis, bk, WebhookNotifier(rec.url, SECRET, timeout_s=5))
        note = await reminder(svc, "demo", f"r|{b['id']}|7200|{raw['booking']['start_ms']}",
                              raw["booking"])
        await svc.notifier.aclose()
        assert note.lang == "en"
        ticket = (await bk.check_in("demo", b["code"], "kiosk", AGENT)).ticket
        await engine.counter_op("demo", "1", "call", AGENT, ticket=ticket["id"])
        turn = await until(lambda: sent(rec, "turn"), "the checked-in ticket's call")
        assert (turn[0]["ticket"], turn[0].get("lang")) == (ticket["id"], "en")


async def test_the_booking_page_s_code_goes_in_its_language(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """The code that proves the number was the one text still in the site's first language."""
    from queueing.phone import normalise
    async with demo_server(redis_server, tmp_path, booking=True, demo=True) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        for number, lang, want in (("13800138124", "en", "en"), ("13800138125", None, None),
                                   ("13800138126", "fr", None)):
            body = {"phone": number} if lang is None else {"phone": number, "lang": lang}
            r = await s.client.post("/v1/sites/demo/verify", headers=web, json=body)
            assert r.status_code == 202, r.text
            raw = await redis.lrange(keys.sms_outbox("demo", normalise(number, "CN")), -1, -1)
            note = msgspec.json.decode(raw[0])
            assert note["kind"] == "verify" and note.get("lang") == want, (lang, note)
        r = await s.client.post("/v1/sites/demo/verify", headers=web,
                                json={"phone": "13800138127", "lang": "English"})
        assert r.status_code == 400 and r.json()["details"]["field"] == "lang", r.text
