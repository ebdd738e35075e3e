"""Erasing one person at a site (``POST /v1/sites/{site}/erase``) against a real server and
Redis: their number leaves every key, other people's data stays, the answer counts, a
second call finds nothing, only admins may, bad input changes nothing, and the audit entry
holds no number."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
from redis.asyncio import Redis

from clients.client import Client, Position
from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.booking.notify import Notification
from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.erase import Eraser, Request, _Retry
from queueing.model import Channel, TicketRequest
from queueing.personal import alias
from queueing.store import Store
from queueing.view import SiteView
from realtime.stats import StatsRecorder
from tests.integration.conftest import ADMIN, Server
from tests.integration.test_booking_http import bserver, next_lab_slot, slot  # noqa: F401
from tests.integration.test_hub import ws_url

PHONE, BARE = "+8613800138000", "8613800138000"
OTHER = "+447700900123"
_ids = itertools.count(1)


async def _text(s: Server, body: str, sender: str) -> dict[str, Any]:
    gateway = s.auth("partner", site="demo", subject="sms-gateway", channels=["sms"])  # type: ignore[arg-type]
    r = await s.client.post("/v1/sites/demo/sms", headers=gateway,
                            json={"id": f"e{next(_ids)}", "from": sender, "text": body})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _ticket(s: Server, **body: str) -> dict[str, Any]:
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("admin"),
                            json={"service": "internal", "channel": "kiosk", **body})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _booking(s: Server, days: int, customer: str, notify: str) -> dict[str, Any]:
    r = await s.client.post("/v1/sites/demo/bookings", headers=s.auth("partner", site="demo"),
                            json={"slot": slot("r1", days, "09:00"), "customer": customer,
                                  "channel": "app", "notify": notify})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _erase(s: Server, body: dict[str, Any], status: int = 200,
                 token: dict[str, str] | None = None, site: str = "demo") -> dict[str, Any]:
    r = await s.client.post(f"/v1/sites/{site}/erase", json=body,
                            headers=token or s.auth("admin"))
    assert r.status_code == status, r.text
    out: dict[str, Any] = r.json()
    return out


async def dump(redis: Redis) -> dict[bytes, Any]:
    """Every key's value, whatever its type (to search for a number, or to compare)."""
    out: dict[bytes, Any] = {}
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            out[key] = await redis.get(key)
        elif kind == "hash":
            out[key] = sorted((await redis.hgetall(key)).items())  # type: ignore[misc]
        elif kind == "list":
            out[key] = await redis.lrange(key, 0, -1)  # type: ignore[misc]
        elif kind == "set":
            out[key] = sorted(await redis.smembers(key))  # type: ignore[misc]
        elif kind == "zset":
            out[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            out[key] = await redis.xrange(key)
    return out


def holding(data: dict[bytes, Any], needle: str) -> list[bytes]:
    """The keys whose name or value holds ``needle``."""
    n = needle.encode()
    return [k for k, v in data.items() if n in k or n in repr(v).encode()]


async def _retry(redis: Redis, to: str, nid: str) -> None:
    n = Notification(id=nid, kind="turn", site="demo", to=to, text={"en": "your turn"},
                     at="2026-12-06T08:00:00+00:00")
    await redis.zadd(keys.NOTIFY_RETRY, {msgspec.json.encode(_Retry(n, 1)): 1})


async def _people(s: Server, redis: Redis) -> dict[str, Any]:
    """The person to erase (five ways their number is held) and another one."""
    mine = {"sms": (await _text(s, "A", PHONE))["ticket"],
            "kiosk": await _ticket(s, notify=BARE, customer="Wang Fang"),
            "closed": await _ticket(s, notify=PHONE),
            "booked": await _booking(s, 1, PHONE, PHONE),
            "by_id": await _booking(s, 2, "P-1001", BARE)}
    r = await s.client.post(f"/v1/tickets/{mine['closed']['id']}/cancel",
                            headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    # Written before numbers were normalised (queueing/phone.py): in national form.
    mine["legacy"] = await _ticket(s)
    await redis.hset(keys.ticket("demo", mine["legacy"]["id"]), "notify", "138 0013 8000")  # type: ignore[misc]
    theirs = {"sms": (await _text(s, "A", OTHER))["ticket"],
              "booked": await _booking(s, 1, OTHER, OTHER)}
    p = keys.prefix("demo")
    await redis.rpush(keys.sms_outbox("demo", PHONE), b'{"text": "demo text"}')  # type: ignore[misc]
    await redis.rpush(keys.sms_outbox("demo", OTHER), b'{"text": "demo text"}')  # type: ignore[misc]
    await redis.hset(p + f"vf:{BARE}", mapping={"h": "x", "tries": 0})  # type: ignore[misc]
    await redis.set(p + f"vf:{BARE}:day", 1)
    await redis.set(keys.short_link("bklink"), f"/booking/{mine['booked']['id']}?token=t")
    await _retry(redis, PHONE, "n-mine")
    await _retry(redis, OTHER, "n-theirs")
    return {"mine": mine, "theirs": theirs}


async def test_erasing_a_number_leaves_it_nowhere(bserver: Server, redis: Redis) -> None:  # noqa: F811
    s = bserver
    people = await _people(s, redis)
    mine, theirs = people["mine"], people["theirs"]
    before = await dump(redis)
    assert holding(before, BARE) and holding(before, "Wang Fang")
    assert holding(before, "138 0013 8000")

    out = await _erase(s, {"phone": PHONE})
    erased = out["erased"]
    assert (erased["tickets"], erased["bookings"]) == (4, 2)
    assert (erased["sms_numbers"], erased["outbox"], erased["codes"]) == (1, 1, 2)
    assert erased["links"] == 2 and erased["retries"] == 1  # the ticket's and the booking's
    assert erased["events"] >= 5 and out["cancelled"] == {"tickets": 0, "bookings": 0,
                                                           "at_counter": 0}
    assert len(out["reference"]) == 16 and out["aof_rewrite"] == "skipped"  # a shared Redis

    after = await dump(redis)
    assert holding(after, BARE) == [] and holding(after, "Wang Fang") == []
    assert holding(after, "138 0013 8000") == [] and holding(after, "13800138000") == []
    # Open ones stay open, with nothing left to text.
    t = (await s.client.get(f"/v1/tickets/{mine['kiosk']['id']}", headers=s.auth("admin"))).json()
    assert t["status"] == "waiting" and not t.get("notify") and not t.get("customer")
    b = (await s.client.get(f"/v1/bookings/{mine['booked']['id']}",
                            headers=s.auth("admin"))).json()
    assert b["status"] == "confirmed" and b["customer"] == alias(mine["booked"]["id"])
    b2 = (await s.client.get(f"/v1/bookings/{mine['by_id']['id']}",
                             headers=s.auth("admin"))).json()
    assert b2["customer"] == "P-1001" and not b2.get("notify")  # a patient id is no number
    # The other person: untouched.
    theirs_before = sorted(holding(before, OTHER.lstrip("+")))
    assert theirs_before and sorted(holding(after, OTHER.lstrip("+"))) == theirs_before
    notify = await redis.hget(keys.ticket("demo", theirs["sms"]["id"]), "notify")  # type: ignore[misc]
    assert notify == OTHER.encode()

    # The audit entry: what was done, by whom, without the number.
    entries = await redis.xrevrange(keys.events("demo"), count=5)
    audit = next(f for _, f in entries if f[b"t"] == b"erased")
    assert audit[b"a"] == b"admin" and BARE.encode() not in audit[b"d"]
    data = msgspec.json.decode(audit[b"d"])
    assert data["counts"]["tickets"] == 4 and data["reference"] == out["reference"]

    again = await _erase(s, {"phone": "138 0013 8000"})  # as the person says it: the same
    assert set(again["erased"].values()) == {0} and again["reference"] == out["reference"]
    # Text to join no longer knows the number (the hubs' views dropped it): a STATUS finds
    # no ticket. (Texting again, the person is remembered again, as anyone who texts.)
    status = await _text(s, "STATUS", PHONE)
    assert status["ticket"] is None


async def test_named_records_and_cancelling_open_ones(bserver: Server, redis: Redis) -> None:  # noqa: F811
    s = bserver
    t = await _ticket(s, customer="Li Lei", notify="https://push.example/abc")
    b = await _booking(s, 1, "P-2002", OTHER)
    out = await _erase(s, {"ticket": t["id"], "booking": b["id"], "cancel_open": True,
                           "rewrite_aof": True})
    assert out["erased"]["tickets"] == 1 and out["erased"]["bookings"] == 1
    assert out["cancelled"] == {"tickets": 1, "bookings": 1, "at_counter": 0}
    assert out["reference"] is None
    assert out["aof_rewrite"] == "started" or out["aof_rewrite"].startswith("declined")
    after = await dump(redis)
    assert holding(after, "Li Lei") == [] and holding(after, "P-2002") == []
    assert holding(after, "push.example") == []
    ticket = await redis.hgetall(keys.ticket("demo", t["id"]))  # type: ignore[misc]
    assert ticket[b"status"] == b"cancelled" and ticket[b"cancel_reason"] == b"by_staff"
    again = await _erase(s, {"ticket": t["id"], "booking": b["id"], "cancel_open": True})
    assert set(again["erased"].values()) == {0}
    assert again["cancelled"] == {"tickets": 0, "bookings": 0, "at_counter": 0}


async def test_refused_and_bad_input_change_nothing(bserver: Server, redis: Redis) -> None:  # noqa: F811
    s = bserver
    await _people(s, redis)
    before = await dump(redis)
    for token in (s.auth("agent", site="demo", counter="1"), s.auth("partner", site="demo"),
                  s.auth("kiosk", site="demo"), s.auth("supervisor", site="demo")):
        r = await _erase(s, {"phone": PHONE}, 403, token)
        assert r["code"] == "forbidden"
    for body, code in (({}, "bad_request"), ({"phone": "12ab"}, "bad_request"),
                       ({"phone": "+86 123"}, "bad_request"),  # written as one, but none
                       ({"phone": PHONE, "name": "x"}, "unknown_field"),
                       ({"ticket": "demo.000000000000"}, "unknown_ticket"),
                       ({"ticket": "other.000000000000"}, "unknown_ticket"),
                       ({"booking": "demo.000000000000", "phone": PHONE}, "unknown_booking")):
        r = await _erase(s, body, 404 if code.startswith("unknown_t") or code == "unknown_booking"
                         else 400)
        assert r["code"] == code, r
    r = await _erase(s, {"phone": PHONE}, 404, site="nowhere")
    assert r["code"] == "unknown_site"
    after = await dump(redis)
    assert after == before


async def test_the_scripts_run_as_scripts_too(demo: Engine, redis: Redis) -> None:
    """Redis 6.2 has no functions: the erasure's scripts run with EVALSHA there."""
    eraser = Eraser(demo, BookingEngine(demo), "test-secret", mode="eval")
    kept = (await demo.issue("demo", TicketRequest(service="internal", channel=Channel.KIOSK,
                                                   notify=OTHER), ADMIN)).ticket
    mine = (await demo.issue("demo", TicketRequest(service="internal", channel=Channel.KIOSK,
                                                   notify=BARE, customer="Wang Fang"),
                             ADMIN)).ticket
    out = await eraser.erase(Request("demo", PHONE), ADMIN)
    assert out["erased"]["tickets"] == 1 and out["erased"]["events"] == 1
    assert not eraser.store.scripts.uses_functions
    assert holding(await dump(redis), BARE) == []
    assert await redis.hget(keys.ticket("demo", kept["id"]), "notify") == OTHER.encode()  # type: ignore[misc]
    assert await redis.hget(keys.ticket("demo", mine["id"]), "status") == b"waiting"  # type: ignore[misc]


async def _board_then_erase(server: Server, token: str) -> Position:
    """Where a board stood, then a ticket for PHONE taken and erased after it."""
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo")
        snap = await board.next(5)
    await _ticket(server, notify=PHONE)
    await _erase(server, {"phone": PHONE})
    return Position(snap["epoch"], snap["offset"])


async def test_a_screen_resuming_from_before_erased_entries_resyncs(server: Server) -> None:
    """Deleted entries leave no silent hole: a board that last saw the stream before them
    gets a fresh snapshot; one that saw it after them resumes as usual."""
    token = server.token("display", site="demo")
    before = await _board_then_erase(server, token)
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo", since=before)
        msg = await board.next(5)
        assert msg["op"] == "snapshot" and msg["resync"] is True
        assert msg["data"]["services"][0]["waiting"] == 1  # the ticket stays, numberless
        after = Position(msg["epoch"], msg["offset"])
    await _ticket(server)
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo", since=after)
        msg = await board.next(5)
        assert msg.get("op") != "snapshot"  # resumed: the history after it is whole


async def test_steps_just_taken_stay_in_the_day_log_and_the_trail(demo: Engine,
                                                                   redis: Redis) -> None:
    """Erased a moment after the person's ticket was issued and called, before the recorder's
    next round: the steps are recorded first (the entries that carried the number are then
    deleted), so the day's figures and the audit trail keep them — without the number."""
    recorder = StatsRecorder(demo)  # not started: only the eraser makes it record
    eraser = Eraser(demo, BookingEngine(demo), "test-secret", record=recorder.record_site)
    await demo.counter_op("demo", "1", "open", ADMIN)
    mine = (await demo.issue("demo", TicketRequest(service="internal", channel=Channel.KIOSK,
                                                   notify=BARE), ADMIN)).ticket
    await demo.counter_op("demo", "1", "call", ADMIN, ticket=mine["id"])
    out = await eraser.erase(Request("demo", PHONE), ADMIN)
    assert out["erased"]["tickets"] == 1 and out["erased"]["events"] >= 2
    await recorder.run_once()  # the erasure's own entry
    trail = [msgspec.json.decode(r) for k in await redis.keys(keys.prefix("demo") + "audit:*")
             for r in await redis.zrange(k, 0, -1)]
    steps = [r["k"] for r in trail if r.get("id") == mine["id"]]
    assert "issued" in steps and "called" in steps and "erased" in [r["k"] for r in trail]
    logged = [r for k in await redis.keys(keys.prefix("demo") + "daylog:*")
              for r in await redis.lrange(k, 0, -1)]  # type: ignore[misc]
    assert len(logged) >= 2  # issued and called
    assert holding(await dump(redis), BARE) == []


def test_the_erasure_entry_is_not_read_as_a_ticket() -> None:
    """Screens, the notification watcher and the board apply every entry to their view:
    the erasure's names what was asked for by id, never as a ticket or booking record."""
    view = SiteView("demo", demo_site(), {}, {}, {}, [])
    change = view.apply("erased", {"counts": {"tickets": 1}, "reference": "k1:x",
                                   "erased_ticket": "demo.abc", "erased_booking": None})
    assert change.ticket is None and not view.tickets


async def test_a_national_number_that_is_also_one_of_another_country(demo: Engine,
                                                                     redis: Redis) -> None:
    """"13312345678", stored before numbers were normalised, is +86 133 1234 5678 at a
    Chinese site and, read as international, +1 331 234 5678 (valid): erasing the Chinese
    number finds it (it was read as the American one only, and kept)."""
    eraser = Eraser(demo, BookingEngine(demo), "s")
    t = (await demo.issue("demo", TicketRequest(service="internal", channel=Channel.KIOSK),
                          ADMIN)).ticket
    await redis.hset(keys.ticket("demo", t["id"]), mapping={  # type: ignore[misc]
        "notify": "13312345678", "customer": "Wang Fang"})
    out = await eraser.erase(Request("demo", "+8613312345678"), ADMIN)
    left = await redis.hgetall(keys.ticket("demo", t["id"]))  # type: ignore[misc]
    assert out["erased"]["tickets"] == 1, out
    assert left[b"notify"] == b"" and left[b"customer"] == b""


async def _checked_in(s: Server, who: dict[str, str]) -> dict[str, Any]:
    """A kiosk booking of the lab's next half-hour slot (the lab draws blood around the
    clock), checked in: the ticket's answer."""
    kiosk = s.auth("kiosk", site="demo")
    b = (await s.client.post("/v1/sites/demo/bookings", headers=kiosk,
                             json={"slot": next_lab_slot(), "channel": "kiosk", **who})).json()
    r = await s.client.post("/v1/sites/demo/check-in", json={"code": b["code"]},
                            headers=kiosk)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_checked_in_ticket_whose_customer_is_the_number(bserver: Server,  # noqa: F811
                                                                redis: Redis) -> None:
    """The public page books with the mobile as the customer and no other notify; the
    check-in copies it to the ticket's customer. Erasing the number erases that ticket."""
    tid = (await _checked_in(bserver, {"customer": PHONE}))["id"]
    assert await redis.hget(keys.ticket("demo", tid), "customer") == PHONE.encode()  # type: ignore[misc]
    out = await _erase(bserver, {"phone": PHONE})
    assert out["erased"]["tickets"] == 1 and out["erased"]["bookings"] == 1, out
    assert holding(await dump(redis), BARE) == []


async def test_erasing_by_id_takes_the_number_s_own_keys(bserver: Server,  # noqa: F811
                                                         redis: Redis) -> None:
    """Named by its id, a ticket taken by text takes its number's keys with it (text to
    join's memory of the number holds the erased ticket's id), as a booking named by id
    does its notify's; a named ticket brings the booking it was checked in from."""
    t = (await _text(bserver, "A", "+8613912345678"))["ticket"]
    assert await redis.exists(keys.sms_number("demo", "+8613912345678"))
    out = await _erase(bserver, {"ticket": t["id"]})
    assert out["erased"]["sms_numbers"] >= 1, out
    assert holding(await dump(redis), "8613912345678") == []
    b = await _booking(bserver, 1, "P-3003", "+8613712345678")
    await redis.rpush(keys.sms_outbox("demo", "+8613712345678"), b'{"text": "demo"}')  # type: ignore[misc]
    out = await _erase(bserver, {"booking": b["id"]})
    assert out["erased"]["bookings"] == 1 and out["erased"]["outbox"] == 1, out
    assert holding(await dump(redis), "8613712345678") == []


async def test_a_named_check_in_ticket_brings_its_booking(bserver: Server,  # noqa: F811
                                                          redis: Redis) -> None:
    t = await _checked_in(bserver, {"customer": "P-4004", "notify": "+8613612345678"})
    out = await _erase(bserver, {"ticket": t["id"]})
    assert out["erased"]["tickets"] == 1 and out["erased"]["bookings"] == 1, out
    after = await dump(redis)
    assert holding(after, "8613612345678") == [] and holding(after, "P-4004") == []


async def test_a_trim_after_an_erasure_does_not_lower_the_mark(server: Server,
                                                               redis: Redis) -> None:
    """The erasure moves the trim mark past the entries it deleted; the hub's next trim
    (of older entries) must not move it back, or a screen resuming from before the deleted
    entries replays a history with a hole instead of resyncing."""
    token = server.token("display", site="demo")
    for _ in range(3):
        await _ticket(server)
    before = await _board_then_erase(server, token)
    mark = await redis.get(keys.prefix("demo") + "trimmed")
    after = len(await redis.xrange(keys.events("demo"), "(" + before.offset, "+"))
    trim = await Engine(Store(redis)).trim("demo", 0, after + 1)
    assert trim["trimmed"] >= 1 and trim["upto"] == mark.decode()
    assert await redis.get(keys.prefix("demo") + "trimmed") == mark
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo", since=before)
        msg = await board.next(5)
        assert msg["op"] == "snapshot" and msg["resync"] is True


async def test_cancel_open_leaves_a_called_ticket_to_its_counter(server: Server,
                                                                 redis: Redis) -> None:
    called = await _ticket(server, notify=PHONE)
    waiting = await _ticket(server, notify=PHONE)
    r = await server.client.post("/v1/sites/demo/counters/1/call-next",
                                 headers=server.auth("agent", site="demo", counter="1"))
    assert r.status_code == 200 and r.json()["id"] == called["id"], r.text
    out = await _erase(server, {"phone": PHONE, "cancel_open": True})
    assert out["cancelled"] == {"tickets": 1, "bookings": 0, "at_counter": 1}, out
    status = {t["id"]: await redis.hget(keys.ticket("demo", t["id"]), "status")  # type: ignore[misc]
              for t in (waiting, called)}
    assert status == {waiting["id"]: b"cancelled", called["id"]: b"called"}
