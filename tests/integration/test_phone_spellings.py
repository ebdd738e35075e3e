"""One spelling per phone number (queueing/phone.py), on a real server and Redis: the
spellings "+8613800138000", "8613800138000", "13800138000" and "138 0013 8000" were four
people to the texted code's daily cap, to a customer's open bookings, and to text to
join's "which ticket is this number's"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from realtime.redisproc import EmbeddedRedis
from tests.integration.test_public_booking_page import _code, _slot
from tests.integration.test_security_review import demo_server

NUMBER = "+8613800138000"
SPELLINGS = ["+8613800138000", "8613800138000", "13800138000", "138 0013 8000"]


async def _demo_keys(redis: Redis) -> set[bytes]:
    return set(await redis.keys(keys.prefix("demo") + "*"))


async def test_the_spellings_of_a_number_share_its_ten_codes_a_day(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path, monkeypatch: Any) -> None:
    from realtime import verify
    monkeypatch.setattr(verify, "CODES_BURST", 20)  # the day's cap, not the minute's
    async with demo_server(redis_server, tmp_path, booking=True, demo=True,
                           kiosk_rate_per_min=0) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        answers = [await s.client.post("/v1/sites/demo/verify", headers=web,
                                       json={"phone": SPELLINGS[i % 4]}) for i in range(11)]
        assert [r.status_code for r in answers] == [202] * 10 + [429], answers[-1].text
        assert answers[-1].json()["code"] == "rate_limited"
        codes = {k for k in await _demo_keys(redis) if b":vf:" in k}
        assert codes == {(keys.prefix("demo") + f"vf:{NUMBER}{end}").encode()
                         for end in ("", ":day")} | {(keys.prefix("demo") + "vf:day").encode()}
        # The last code, asked for as "138 0013 8000", books for "13800138000", and the
        # booking's customer and notify are the number in one spelling.
        code = await _code(redis, "13800138000")
        r = await s.client.post("/v1/sites/demo/bookings", headers={
            **web, "Verification-Code": code}, json={
            "slot": _slot(3), "customer": "13800138000", "notify": "138 0013 8000",
            "channel": "web"})
        assert r.status_code == 201, r.text
        assert (r.json()["customer"], r.json().get("notify", NUMBER)) == (NUMBER, NUMBER)


async def test_the_spellings_of_a_number_are_one_customer(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """At most max_open_bookings (3 here) open bookings per person, and none overlapping:
    a fourth spelling was a fourth person with three more."""
    async with demo_server(redis_server, tmp_path, booking=True) as s:
        agent = s.auth("agent", site="demo", counter="1")

        async def book(i: int, customer: str) -> Any:
            return await s.client.post("/v1/sites/demo/bookings", headers=agent, json={
                "slot": _slot(i), "customer": customer, "channel": "window"})

        made = [await book(i, who) for i, who in enumerate(SPELLINGS[:3])]
        assert [r.status_code for r in made] == [201] * 3, [r.text for r in made]
        assert {r.json()["customer"] for r in made} == {NUMBER}
        again = await book(0, "138 0013 8000")  # the first one's time
        assert (again.status_code, again.json()["code"]) == (409, "overlap")
        more = await book(5, "138 0013 8000")
        assert (more.status_code, more.json()["code"]) == (409, "too_many_bookings")
        # A customer that is no phone number (a patient number) is kept as it is.
        other = await book(5, "100234")
        assert (other.status_code, other.json()["customer"]) == (201, "100234")
        assert await redis.zcard(keys.prefix("demo") + f"bk:cu:{NUMBER}") == 3


async def _site(s: Any, site: str, **changes: Any) -> None:
    cfg = msgspec.structs.replace(demo_site(), **changes)
    r = await s.client.put(f"/v1/sites/{site}", content=msgspec.json.encode(cfg),
                           headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    for c in cfg.counters:
        await s.client.post(f"/v1/sites/{site}/counters/{c.id}/open",
                            headers=s.auth("agent", site=site, counter=c.id))


async def _notify_of(redis: Redis, site: str, ticket: dict[str, Any]) -> str:
    raw = await redis.hget(keys.ticket(site, ticket["id"]), "notify")
    assert raw is not None
    return raw.decode()


async def test_a_national_number_at_a_chinese_and_at_a_british_site(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """The site's country comes from its time zone (Asia/Shanghai: CN, Europe/London: GB)
    or its own ``country``; a national number is read there."""
    async with demo_server(redis_server, tmp_path) as s:
        await _site(s, "gb", timezone="Europe/London")
        await _site(s, "hk", country="HK")  # in Asia/Shanghai, but says where it is
        cases = [("demo", "138 0013 8000", NUMBER), ("gb", "07911 123456", "+447911123456"),
                 ("gb", "+86 138 0013 8000", NUMBER), ("hk", "9123 4567", "+85291234567")]
        for site, written, want in cases:
            r = await s.client.post(f"/v1/sites/{site}/tickets", headers=s.auth(
                "agent", site=site, counter="1"), json={
                "service": "internal", "channel": "window", "notify": written})
            assert r.status_code == 201, r.text
            assert await _notify_of(redis, site, r.json()) == want, (site, written)
            # Changed afterwards by the holder (the kiosk's "text me"): read the same way.
            tok = {"Authorization": f"Bearer {r.json()['token']}"}
            r2 = await s.client.post(f"/v1/tickets/{r.json()['id']}/notify", headers=tok,
                                     json={"to": written})
            assert r2.status_code == 200, r2.text
            assert await _notify_of(redis, site, r.json()) == want


async def test_text_to_join_finds_the_ticket_a_kiosk_took_for_the_national_number(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """A number typed at the kiosk in national form names the ticket for alerts; a text from
    that phone (the gateway sends it with +86) is answered about that ticket, and gets no
    second one."""
    async with demo_server(redis_server, tmp_path) as s:
        for c in demo_site().counters:
            await s.client.post(f"/v1/sites/demo/counters/{c.id}/open",
                                headers=s.auth("agent", site="demo", counter=c.id))
        r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("kiosk", site="demo"),
                                json={"service": "internal", "channel": "kiosk",
                                      "notify": "138 0013 8000"})
        assert r.status_code == 201, r.text
        gateway = s.auth("partner", site="demo", channels=["sms"])  # type: ignore[arg-type]
        answer = await s.client.post("/v1/sites/demo/sms", headers=gateway, json={
            "id": "m1", "from": "8613800138000", "text": "STATUS"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["ticket"]["id"] == r.json()["id"]
        answer = await s.client.post("/v1/sites/demo/sms", headers=gateway, json={
            "id": "m2", "from": "+86 138 0013 8000", "text": "A"})
        assert answer.json()["ticket"]["id"] == r.json()["id"], answer.text
        assert await redis.exists(keys.sms_number("demo", NUMBER))


async def test_a_malformed_number_is_refused_and_nothing_is_stored(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, booking=True, demo=True,
                           kiosk_rate_per_min=0) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        agent = s.auth("agent", site="demo", counter="1")
        gateway = s.auth("partner", site="demo", channels=["sms"])  # type: ignore[arg-type]
        before = await _demo_keys(redis)
        bad = "+86 123 45"  # written as a number, too short for one
        tries = [
            ("/v1/sites/demo/verify", web, {"phone": bad}, "phone"),
            ("/v1/sites/demo/bookings", {**web, "Verification-Code": "123456"},
             {"slot": _slot(1), "customer": bad, "channel": "web"}, "customer"),
            ("/v1/sites/demo/bookings", agent,
             {"slot": _slot(1), "customer": "Mrs Li", "channel": "window", "notify": bad},
             "notify"),
            ("/v1/sites/demo/tickets", agent,
             {"service": "internal", "channel": "window", "notify": bad}, "notify"),
            ("/v1/sites/demo/sms", gateway, {"id": "m1", "from": bad, "text": "A"}, "from"),
        ]
        for path, headers, body, field in tries:
            r = await s.client.post(path, headers=headers, json=body)
            assert r.status_code == 400, (path, r.text)
            err = r.json()
            assert err["code"] == "bad_request", err
            assert err["details"] == {"field": field, "reason": "invalid_phone_number"}, err
        r = await s.client.get("/v1/sites/demo/sms/outbox", headers=gateway,
                               params={"number": bad})
        assert (r.status_code, r.json()["details"]["field"]) == (400, "number")
        assert await _demo_keys(redis) == before


async def test_a_site_of_no_country_takes_international_numbers_only(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path) as s:
        await _site(s, "utc", timezone="UTC")
        agent = s.auth("agent", site="utc", counter="1")
        r = await s.client.post("/v1/sites/utc/tickets", headers=agent, json={
            "service": "internal", "channel": "window", "notify": "13800138000"})
        assert r.status_code == 400
        assert r.json()["details"] == {"field": "notify", "reason": "needs_country_code"}
        assert "+" in r.json()["message"]
        r = await s.client.post("/v1/sites/utc/tickets", headers=agent, json={
            "service": "internal", "channel": "window", "notify": "+86 138 0013 8000"})
        assert r.status_code == 201, r.text
        assert await _notify_of(redis, "utc", r.json()) == NUMBER
