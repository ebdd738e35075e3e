"""Reminders, lapses and notifications with a real arq worker (``switchboard worker`` as a
subprocess) and a real local webhook receiver; the real clock, short offsets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import msgspec
import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.booking.jobs import Jobs
from queueing.booking.model import (
    BookingConfig,
    BookingPolicy,
    ExtraSession,
    Resource,
    ScheduleException,
)
from queueing.booking.notify import verify_signature
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis
from realtime.worker import HEARTBEAT_KEY
from tests.conftest import daytime_zone
from tests.integration.test_booking_support import req, stream_types
from tests.integration.test_notif_webhook import SECRET, Receiver, receiver

pytestmark = pytest.mark.slow
LINK_SECRET = "worker-link-secret-0123456789abcdef0123"
ADMIN = Actor("admin", "test")
AGENT = Actor("agent:demo:1", "counter")


@contextlib.contextmanager
def worker(redis_url: str, hook: str, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    e = {**os.environ, "SWITCHBOARD_NOTIFY_WEBHOOK_URL": hook,
         "SWITCHBOARD_NOTIFY_WEBHOOK_SECRET": SECRET, **env}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "worker", "--redis-url",
                                 redis_url], env=e, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def until(pred: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = pred()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def kinds(rec: Receiver, kind: str) -> list[dict[str, Any]]:
    out = []
    for headers, body in rec.got:
        assert verify_signature(SECRET, headers, body, time.time()), "bad signature"
        n = msgspec.json.decode(body)
        if n["kind"] == kind:
            out.append(n | {"_at": float(headers["x-test-received"])})
    return out


@contextlib.asynccontextmanager
async def stamped_receiver() -> AsyncIterator[Receiver]:
    """The receiver, with the arrival time of each call recorded in its headers."""
    async with receiver() as rec:
        got = rec.got

        class Stamped(list):  # type: ignore[type-arg]
            def append(self, item: Any) -> None:
                headers, body = item
                super().append(({**headers, "x-test-received": str(time.time())}, body))

        rec.got = Stamped(got)
        yield rec


def site_zone() -> ZoneInfo:
    """A zone where the next half hour does not cross local midnight."""
    return daytime_zone()


def next_start(tz: ZoneInfo, lead_s: int = 60) -> datetime:
    """The first whole minute at least ``lead_s`` from now."""
    return (datetime.now(tz) + timedelta(seconds=lead_s + 59)).replace(second=0, microsecond=0)


async def setup(redis: Redis, start: datetime, reminders: list[int], **policy: Any
                ) -> tuple[BookingEngine, list[str]]:
    """The demo clinic in ``start``'s zone with an extra session from ``start``: one-minute
    slots of 3 places with doctors r1 and r2."""
    site = msgspec.structs.replace(demo_site(), timezone=str(start.tzinfo))
    engine = Engine(Store(redis), config_ttl_s=0)
    await engine.put_site("demo", site, ADMIN)
    for c in site.counters:
        await engine.counter_op("demo", c.id, "open", ADMIN)
    end = start + timedelta(minutes=10)
    cfg = BookingConfig(
        resources=[Resource("r1", "Dr One", ["internal"]), Resource("r2", "Dr Two", ["internal"])],
        exceptions=[ScheduleException(start.date().isoformat(), resource=r, sessions=[
            ExtraSession("internal", start.strftime("%H:%M"), end.strftime("%H:%M"), 3, 1)])
            for r in ("r1", "r2")],
        policy=BookingPolicy(reminders_s=reminders, **policy))
    bk = BookingEngine(engine, Jobs(redis))
    await bk.put_config("demo", cfg, ADMIN)
    day = await bk.availability("demo", "internal", start.date(), resource="r1")
    return bk, [r["slot"] for r in day]


async def reminders_recorded(redis: Redis, n: int) -> bool:
    return (await stream_types(redis)).count("booking_reminder") >= n


def for_booking(rec: Receiver, kind: str, booking: str) -> list[dict[str, Any]]:
    return [n for n in kinds(rec, kind) if n.get("booking") == booking]


async def worker_ready(redis: Redis) -> None:
    """The worker takes jobs: its start-up heartbeat job ran (start-up is seconds of imports
    on a loaded machine; that is not lateness)."""
    await until(lambda: redis.exists(HEARTBEAT_KEY), 60, "the worker's start-up")


async def test_reminders_fire_on_time_move_with_changes_and_survive_a_restart(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with stamped_receiver() as rec:
        log = tmp_path / "worker.log"
        with worker(redis_server.url, rec.url, log) as proc:
            # Due times count from a running worker, so what is measured below is how late
            # a running worker sends a reminder, not how long a Python process takes to
            # import on a busy machine (it took 15 s under load, and failed this test).
            await worker_ready(redis)
            start = next_start(site_zone())
            lead = int(start.timestamp() - time.time())
            offsets = [lead - 8, lead - 15]  # due about 8 s and 15 s from now
            bk, slots = await setup(redis, start, offsets)
            kept = (await bk.book("demo", req(slots[0], "ann", notify="+8613800000111"),
                                  ADMIN)).booking
            cancelled = (await bk.book("demo", req(slots[0], "ben", notify="+8613800000222"),
                                       ADMIN)).booking
            moved = (await bk.book("demo", req(slots[1], "cat", notify="+8613800000333"),
                                   ADMIN)).booking
            await bk.cancel(cancelled["id"], ADMIN)
            moved = await bk.reschedule(moved["id"], slots[0], ADMIN)
            due = [start.timestamp() - o for o in offsets]
            assert time.time() < due[0] - 2, "set-up took too long to measure the reminder"
            members = [m.decode() for m in await redis.zrange(keys.prefix("demo") + "bk:due",
                                                              0, -1)]
            assert not [m for m in members if cancelled["id"] in m]
            assert all(m.endswith(str(int(start.timestamp() * 1000))) for m in members
                       if m.startswith("r|"))  # the moved booking's old reminders are gone

            first = await until(lambda: for_booking(rec, "reminder", kept["id"]), 40,
                                "the first reminder")
            assert due[0] - 0.2 <= first[0]["_at"] <= due[0] + 3, first[0]["_at"] - due[0]
            assert first[0]["to"] == "+8613800000111" and first[0]["data"]["before_s"] == offsets[0]
            # Kill the worker before the second reminders, once the first ones are fired
            # (their events written): killed between a send and its fire, a worker leaves
            # the reminder claimed for CLAIM_S and it is sent again (tasks.py), which is not
            # what this test is about.
            await until(lambda: reminders_recorded(redis, 2), 20, "the first reminders fired")
            assert time.time() < due[1] - 1, "the first reminders took too long to fire"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        await asyncio.sleep(max(0.0, due[1] - time.time()) + 1.0)
        assert len(for_booking(rec, "reminder", kept["id"])) == 1
        with worker(redis_server.url, rec.url, log):
            both = await until(lambda: (lambda x: x if len(x) == 2 else None)(
                for_booking(rec, "reminder", kept["id"])), 40, "the missed reminder")
            assert sorted(n["data"]["before_s"] for n in both) == sorted(offsets)
            assert both[1]["_at"] >= due[1]
            await until(lambda: len(for_booking(rec, "reminder", moved["id"])) == 2, 20,
                        "the moved booking's reminders")
            await asyncio.sleep(1.0)
    got = for_booking(rec, "reminder", moved["id"])
    assert {n["data"]["start"] for n in got} == {start.isoformat()}
    assert not for_booking(rec, "reminder", cancelled["id"])
    assert len(kinds(rec, "reminder")) == 4  # each sent once
    assert (await stream_types(redis)).count("booking_reminder") == 4


async def watcher_live(redis: Redis) -> None:
    await until(lambda: redis.exists(keys.prefix("demo") + "nt:cursor"), 30,
                "the worker's notification watcher")


async def test_queue_alerts_almost_your_turn_and_your_turn(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    engine = Engine(Store(redis), config_ttl_s=0)
    await engine.put_site("demo", demo_site(), ADMIN)
    await engine.counter_op("demo", "1", "open", ADMIN)
    async with stamped_receiver() as rec:
        with worker(redis_server.url, rec.url, tmp_path / "worker.log",
                    SWITCHBOARD_ALERT_POSITION="2", SWITCHBOARD_ALERT_WAIT_S="0"):
            await watcher_live(redis)
            tickets = [(await engine.issue("demo", TicketRequest(
                "internal", Channel.KIOSK, notify="+8613800000999" if i in (0, 3) else None),
                ADMIN)).ticket for i in range(4)]
            mine, first = tickets[3], tickets[0]
            # The first ticket joined within the threshold: not "almost", but "your turn".
            await engine.counter_op("demo", "1", "call-next", AGENT)
            turn = await until(lambda: kinds(rec, "turn"), 20, "your turn")
            assert turn[0]["ticket"] == first["id"]
            assert turn[0]["text"]["en"] == "Ticket A001, please go to Room 1"
            assert turn[0]["text"]["zh"] == "请 A001 号到 1号诊室"
            assert turn[0]["data"]["counter"] == "1"
            assert not kinds(rec, "almost")  # mine is third now
            await engine.counter_op("demo", "1", "complete", AGENT)
            await engine.counter_op("demo", "1", "call-next", AGENT)  # mine is second now
            almost = await until(lambda: kinds(rec, "almost"), 20, "almost your turn")
            assert almost[0]["ticket"] == mine["id"] and almost[0]["data"]["position"] == 2
            await engine.counter_op("demo", "1", "complete", AGENT)
            await engine.counter_op("demo", "1", "call-next", AGENT)
            await engine.counter_op("demo", "1", "complete", AGENT)
            await engine.counter_op("demo", "1", "call-next", AGENT)
            await until(lambda: len(kinds(rec, "turn")) == 2, 20, "mine called")
            await engine.counter_op("demo", "1", "recall", AGENT)
            await until(lambda: len(kinds(rec, "turn")) == 3, 20, "mine recalled")
            # First in the lab's line, but no lab counter is open: "almost your turn, come
            # back" would be untrue. It goes when counter 4 opens.
            lab = (await engine.issue("demo", TicketRequest("lab", Channel.KIOSK,
                                                            notify="+8613800000777"), ADMIN)).ticket
            await asyncio.sleep(1.0)
            assert len(kinds(rec, "almost")) == 1
            await engine.counter_op("demo", "4", "open", ADMIN)
            late = await until(lambda: (lambda x: x if len(x) == 2 else None)(
                kinds(rec, "almost")), 20, "almost, once a lab counter opened")
            assert late[1]["ticket"] == lab["id"]
            await asyncio.sleep(0.5)
    assert len(kinds(rec, "almost")) == 2  # once per ticket
    assert [n["ticket"] for n in kinds(rec, "turn")] == [first["id"], mine["id"], mine["id"]]


async def test_lapses_offers_and_suspensions_reach_people(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    start = next_start(site_zone())
    bk, slots = await setup(redis, start, [], hold_ttl_s=2)
    slot = slots[0]
    held = (await bk.book("demo", req(slot, "h1", hold=True), ADMIN)).booking
    for c in ("c1", "c2"):
        await bk.book("demo", req(slot, c), ADMIN)
    waiting = (await bk.book("demo", req(slot, "w1", Channel.PHONE, notify="+8613800000444",
                                         waitlist=True), ADMIN)).booking
    assert waiting["status"] == "waitlisted"
    async with stamped_receiver() as rec:
        # With a public address, texts about a booking carry the short link to its page.
        with worker(redis_server.url, rec.url, tmp_path / "worker.log",
                    SWITCHBOARD_PUBLIC_URL="https://q.example.org/",
                    SWITCHBOARD_SECRET=LINK_SECRET):
            # The hold lapses after 2 s; the job records it and offers the place to w1.
            offer = await until(lambda: for_booking(rec, "offer", waiting["id"]), 30,
                                "the offer")
            assert offer[0]["to"] == "+8613800000444" and "Confirm before" in offer[0]["text"]["en"]
            link = offer[0]["data"]["link"]
            assert link.startswith("https://q.example.org/s/") and len(link) == 35
            assert offer[0]["text"]["en"].endswith(f"Your appointment: {link}")
            assert offer[0]["text"]["zh"].endswith(f"查看或改约：{link}")
            target = (await redis.get(keys.short_link(link.rsplit("/", 1)[1]))).decode()
            assert target.startswith(f"/booking/{waiting['id']}?token=")
            claims = jwt.decode(target.split("token=")[1], LINK_SECRET, algorithms=["HS256"])
            assert (claims["role"], claims["booking"]) == ("booking", waiting["id"])
            types = await stream_types(redis)
            assert types.index("booking_expired") < types.index("booking_offered")
            assert (await bk.get(held["id"]))["status"] == "expired"
            assert (await bk.get(waiting["id"]))["status"] == "offered"
            # A suspension reaches w1 with the reason and alternatives.
            s = (await bk.schedule("demo")).slot(slot)
            result = await bk.suspend("demo", "r1", s.start_ms, s.end_ms + 60_000,
                                      "doctor called away", AGENT)
            assert waiting["id"] in {b["id"] for b in result["affected"]}
            note = await until(lambda: for_booking(rec, "suspended", waiting["id"]), 20,
                               "the suspension notice")
            assert note[0]["data"]["reason"] == "doctor called away"
            assert note[0]["data"]["link"] == link  # one link per booking, in every text
            alts = note[0]["data"]["alternatives"]
            assert alts and alts[0]["resource"] == "r2"
            # One call accepts the alternative.
            done = await bk.reschedule(waiting["id"], alts[0]["slot"], ADMIN)
            assert (done["resource"], done["status"]) == ("r2", "confirmed")
            view = await bk.suspension("demo", result["id"])
            answers = {x["booking"]: x["answer"] for x in view["affected"]}
            assert answers[waiting["id"]] == "rescheduled"
            assert waiting["id"] not in view["unanswered"] and view["unanswered"]


async def test_sms_holders_hear_of_a_move_and_of_a_cancellation_they_did_not_make(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Someone waiting outside with only an SMS: told when reception moves the ticket to
    another queue and when staff or the end of the day cancel it; not when they cancel it
    themselves, and nothing for tickets without a ``notify`` target."""
    engine = Engine(Store(redis), config_ttl_s=0)
    await engine.put_site("demo", demo_site(), ADMIN)

    async def take(notify: str | None) -> dict[str, Any]:
        # Kiosk tickets: one taken on the phone line is texted its number too ("issued").
        return (await engine.issue("demo", TicketRequest("internal", Channel.KIOSK,
                                                         notify=notify), ADMIN)).ticket

    async with stamped_receiver() as rec:
        with worker(redis_server.url, rec.url, tmp_path / "worker.log"):
            await watcher_live(redis)
            moved, staff, mine, late, silent = (
                await take("+8613800000100"), await take("+8613800000200"),
                await take("+8613800000300"), await take("+8613800000400"), await take(None))
            await engine.transfer(moved["id"], "lab", AGENT)
            await engine.transfer(silent["id"], "lab", AGENT)
            note = (await until(lambda: kinds(rec, "moved"), 20, "moved"))[0]
            assert (note["ticket"], note["to"]) == (moved["id"], "+8613800000100")
            assert note["text"]["en"] == (f"Ticket {moved['number']} now waits for Laboratory, "
                                          "in order of your original arrival.")
            assert note["text"]["zh"] == (f"{moved['number']} 号已转到检验科排队，"
                                          "按您原来的取号时间排序。")
            assert note["data"] == {"number": moved["number"], "service": "lab",
                                    "from_service": "internal"}
            await engine.cancel(mine["id"], Actor("ticket", "app"), reason="by_holder")
            await engine.cancel(staff["id"], AGENT, reason="by_staff")
            by_staff = await until(lambda: kinds(rec, "cancelled_by_staff"), 20, "staff")
            assert by_staff[0]["ticket"] == staff["id"] and by_staff[0]["to"] == "+8613800000200"
            await engine.close_day("demo", engine.clock(), ADMIN)
            closed = await until(lambda: (lambda x: x if len(x) == 2 else None)(
                kinds(rec, "cancelled_day_closed")), 20, "day closed, both")
            # Closed: the moved ticket too (still open), the late one; each once.
            assert sorted(n["ticket"] for n in closed) == sorted([late["id"], moved["id"]])
            assert "has closed for today" in closed[0]["text"]["en"]
            await asyncio.sleep(1.0)
    sent = [msgspec.json.decode(body) for _, body in rec.got]
    assert not [n for n in sent if n["ticket"] in (mine["id"], silent["id"])]
    assert len(sent) == 4


async def test_a_number_typed_after_the_ticket_came_out_gets_the_alerts(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """At the kiosk, after the ticket is printed: "text me when it's nearly my turn". The
    number set with the ticket's own token arms "almost your turn" from where the ticket is;
    a number taken back (null) gets nothing more."""
    engine = Engine(Store(redis), config_ttl_s=0)
    await engine.put_site("demo", demo_site(), ADMIN)
    await engine.counter_op("demo", "1", "open", ADMIN)
    holder = Actor("ticket", "kiosk")
    async with stamped_receiver() as rec:
        with worker(redis_server.url, rec.url, tmp_path / "worker.log",
                    SWITCHBOARD_ALERT_POSITION="2", SWITCHBOARD_ALERT_WAIT_S="0"):
            await watcher_live(redis)
            tickets = [(await engine.issue("demo", TicketRequest("internal", Channel.KIOSK),
                                           ADMIN)).ticket for _ in range(5)]
            mine, withdrawn = tickets[3], tickets[4]
            assert (await engine.set_notify(mine["id"], "+8613800000001", holder))["id"] \
                == mine["id"]
            await engine.set_notify(withdrawn["id"], "+8613800000002", holder)
            await engine.set_notify(withdrawn["id"], None, holder)
            for _ in range(2):  # mine is second now
                await engine.counter_op("demo", "1", "call-next", AGENT)
                await engine.counter_op("demo", "1", "complete", AGENT)
            almost = await until(lambda: kinds(rec, "almost"), 20, "almost your turn")
            assert (almost[0]["ticket"], almost[0]["to"]) == (mine["id"], "+8613800000001")
            for _ in range(3):  # mine, then the withdrawn one, are called
                await engine.counter_op("demo", "1", "call-next", AGENT)
                await engine.counter_op("demo", "1", "complete", AGENT)
            turn = await until(lambda: kinds(rec, "turn"), 20, "your turn")
            await asyncio.sleep(1.0)
    assert [n["ticket"] for n in kinds(rec, "turn")] == [mine["id"]]
    assert turn[0]["to"] == "+8613800000001"
    assert len(kinds(rec, "almost")) == 1


async def test_almost_your_turn_comes_again_after_a_move_to_the_back(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Warned "almost your turn" in internal medicine, then sent to the lab where four people
    came earlier: warned again when near the front there."""
    engine = Engine(Store(redis), config_ttl_s=0)
    await engine.put_site("demo", demo_site(), ADMIN)
    for c in ("1", "4"):
        await engine.counter_op("demo", c, "open", ADMIN)
    lab = Actor("agent:demo:4", "counter")
    async with stamped_receiver() as rec:
        with worker(redis_server.url, rec.url, tmp_path / "worker.log",
                    SWITCHBOARD_ALERT_POSITION="2", SWITCHBOARD_ALERT_WAIT_S="0"):
            await watcher_live(redis)
            for _ in range(4):
                await engine.issue("demo", TicketRequest("lab", Channel.KIOSK), ADMIN)
            first = await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), ADMIN)
            await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), ADMIN)
            mine = (await engine.issue("demo", TicketRequest(
                "internal", Channel.KIOSK, notify="+8613800000009"), ADMIN)).ticket
            assert not kinds(rec, "almost")
            await engine.counter_op("demo", "1", "call", AGENT, ticket=first.ticket["id"])
            await until(lambda: kinds(rec, "almost"), 20, "almost, in internal medicine")
            await engine.transfer(mine["id"], "lab", ADMIN)  # fifth in the lab
            await until(lambda: kinds(rec, "moved"), 20, "moved")
            for _ in range(3):  # second in the lab now
                await engine.counter_op("demo", "4", "call-next", lab)
                await engine.counter_op("demo", "4", "complete", lab)
            again = await until(lambda: (lambda x: x if len(x) == 2 else None)(
                kinds(rec, "almost")), 20, "almost again, in the lab")
            assert again[1]["ticket"] == mine["id"] and again[1]["data"]["position"] == 2


async def test_a_booking_made_for_a_caller_is_confirmed_by_text(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Booked by the phone line (or at the desk, or on the site's own pages) with a number:
    a text says so at once, with the code and the link to the person's page. Booked by an
    app or a partner's site: no text (they tell their users themselves)."""
    start = next_start(site_zone()) + timedelta(days=1)
    bk, slots = await setup(redis, start, [])
    async with stamped_receiver() as rec:
        with worker(redis_server.url, rec.url, tmp_path / "worker.log",
                    SWITCHBOARD_PUBLIC_URL="https://q.example.org",
                    SWITCHBOARD_SECRET=LINK_SECRET):
            await watcher_live(redis)
            by_phone = (await bk.book("demo", req(slots[0], "MRN-1", Channel.PHONE,
                                                  notify="+8613800138000"), AGENT)).booking
            by_app = (await bk.book("demo", req(slots[1], "app-user", notify="+8613800138001"),
                                    ADMIN)).booking
            note = (await until(lambda: for_booking(rec, "booked", by_phone["id"]), 20,
                                "the booking's text"))[0]
            assert note["to"] == "+8613800138000"
            # Where and with whom: the site's name and the booking's doctor.
            assert note["text"]["en"].startswith(
                "Booked at Demo Community Clinic: Internal medicine with Dr One, ")
            assert f"Code {by_phone['code']}." in note["text"]["en"]
            assert note["text"]["en"].endswith(f"Your appointment: {note['data']['link']}")
            assert f"预约码 {by_phone['code']}。" in note["text"]["zh"]
            await asyncio.sleep(1.0)
            assert not for_booking(rec, "booked", by_app["id"])


async def test_a_booking_moved_or_cancelled_by_staff_is_texted_to_the_person(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """The hospital moves or cancels an appointment (a call to the desk, a doctor away): the
    person hears of it by text — the new time, the old one, the code and a fresh link; or
    that it was cancelled. A move the person made on a channel we confirm by text is texted
    too; what a person or a partner did on an app or a partner's site is theirs to tell."""
    start = next_start(site_zone()) + timedelta(days=1)
    bk, slots = await setup(redis, start, [])
    staff = Actor("agent:demo:1", "staff")  # as realtime/booking_api.py records them
    holder, partner = Actor("booking:demo", "holder"), Actor("partner:demo", "partner")
    async with stamped_receiver() as rec:
        with worker(redis_server.url, rec.url, tmp_path / "worker.log",
                    SWITCHBOARD_PUBLIC_URL="https://q.example.org",
                    SWITCHBOARD_SECRET=LINK_SECRET):
            await watcher_live(redis)
            app = (await bk.book("demo", req(slots[0], "app-1", notify="+8613800138101"),
                                 ADMIN)).booking
            app2 = (await bk.book("demo", req(slots[0], "app-2", notify="+8613800138102"),
                                  ADMIN)).booking
            phone = (await bk.book("demo", req(slots[1], "MRN-3", Channel.PHONE,
                                               notify="+8613800138103"), AGENT)).booking
            await until(lambda: for_booking(rec, "booked", phone["id"]), 20, "booked")
            await bk.reschedule(app["id"], slots[3], staff)
            note = (await until(lambda: for_booking(rec, "rebooked", app["id"]), 20,
                                "the staff's move, texted"))[0]
            assert note["to"] == "+8613800138101"
            assert "has moved to " in note["text"]["en"] and "(it was " in note["text"]["en"]
            assert f"Booking code {app['code']}." in note["text"]["en"]
            assert note["text"]["en"].endswith(f"Your appointment: {note['data']['link']}")
            assert "已改到" in note["text"]["zh"] and note["data"]["from_slot"] == slots[0]
            await bk.reschedule(phone["id"], slots[4], holder)  # the caller moved it online
            await until(lambda: for_booking(rec, "rebooked", phone["id"]), 20,
                        "a phone booking's own move, confirmed")
            await bk.reschedule(app2["id"], slots[5], partner)  # the app moved it: it tells
            await bk.cancel(app["id"], holder)  # the person cancelled: they know
            await bk.cancel(phone["id"], staff)
            gone = (await until(lambda: for_booking(rec, "booking_cancelled", phone["id"]), 20,
                                "the staff's cancellation, texted"))[0]
            assert gone["to"] == "+8613800138103"
            assert "was cancelled by " in gone["text"]["en"] and "已被" in gone["text"]["zh"]
            await asyncio.sleep(1.0)
            assert not for_booking(rec, "rebooked", app2["id"])
            assert not for_booking(rec, "booking_cancelled", app["id"])
