"""The booking side of the arq worker: due side effects and the sweep.

``booking_due(site, at_ms)`` is the job ``queueing.booking.jobs`` schedules at each due time
of a site: it fires every entry of the site due by then (``fire_due``). ``booking_sweep``
(a cron job, also run at start-up) does the same for every site, for entries whose job did
not run (lost between a script and its scheduling, or due while no worker ran). Firing is
idempotent: the script that removes the entry from its booking is the one that acts.

A reminder is sent *before* its entry is fired, under a short claim, so a worker dying
between the two sends it again rather than never (the notification id is stable; gateways
can drop the duplicate); its ``booking_reminder`` event is appended exactly once. A
reminder the gateway refuses is tried again every ``RETRY_S``; refused for good (4xx) for
``GIVE_UP_S``, it is given up (its entry dropped, no event). Each outcome is kept on the
booking (``delivery.booking_state``: the view's ``notify_state``).

In the site's quiet hours (``quiet_hours``, queueing/booking/quiet.py) a reminder that falls
due waits for their end (its entry deferred to then, with a job at that time), if that is
still before the appointment; otherwise, or when a later reminder of the same booking
will also wait for that morning (one text says it), it is dropped unsent (``quiet``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from queueing import keys, optout, sms_desk
from queueing.booking import delivery, quiet, texts
from queueing.booking.consumer import RETRY_S as CONSUMER_RETRY_S
from queueing.booking.consumer import (
    BookingLink,
    Notifications,
    linked,
    local_text,
    text_lang,
)
from queueing.booking.engine import BookingEngine
from queueing.booking.fresh import valid_until_ms
from queueing.booking.notify import Notification, Notifier, NotifyFailed, local_iso
from queueing.errors import BookingNotConfigured, SwitchboardError, UnknownSite

log = logging.getLogger("switchboard.booking")
CTX_KEY = "booking"
CLAIM_S = 120
RETRY_S = 30
# A reminder the gateway refuses for good (4xx: NotifyFailed.permanent) is given up once it
# has been refused this long, as long as the worker's other texts are tried (consumer.py).
GIVE_UP_S = sum(CONSUMER_RETRY_S)


@dataclass
class Services:
    """What the worker's booking tasks use (kept in the arq ``ctx`` under ``booking``)."""

    redis: Redis
    booking: BookingEngine
    notifier: Notifier
    notifications: Notifications | None = None
    links: BookingLink | None = None  # the booking page's short link in reminders


async def fire(svc: Services, site: str, member: str) -> str:
    """Fire one due entry; returns what happened (for logs and tests)."""
    if not member.startswith("r|"):
        r = await svc.booking.fire(site, member)
        return "fired" if r.get("fired") else "stale"
    claim = keys.prefix(site) + "bk:claim:" + member
    if not await svc.redis.set(claim, 1, nx=True, ex=CLAIM_S):
        return "claimed"
    try:
        peek = await svc.booking.fire(site, member, "peek")
        if peek.get("gone"):
            # A reminder the gateway refused before, and its booking went meanwhile.
            await delivery.stale(svc.redis, _reminder_id(site, member), "reminder", "gone",
                                 only_if_pending=True)
            return "stale"
        if peek.get("at") is not None:
            await svc.redis.delete(claim)
            return "early"
        if peek.get("valid") and peek["booking"].get("notify"):
            b = peek["booking"]
            held = await _quiet(svc, site, member, b)
            if held is not None:
                await svc.redis.delete(claim)
                return held
            note = await linked(await reminder(svc, site, member, b), {**b, "site": site},
                                svc.links, svc.booking.now())
            if await optout.blocked(svc.redis, site, note.to):
                # The number texted STOP (queueing/optout.py): removed unsent, no event.
                await delivery.stale(svc.redis, note.id, note.kind, "opted_out")
                await svc.redis.delete(claim)
                await svc.booking.fire(site, member, "drop")
                return "opted_out"
            try:
                await svc.notifier.send(note)
            except NotifyFailed as exc:
                now = svc.booking.now()
                await delivery.failed(svc.redis, note.id, note.kind, now)
                first = await delivery.first_failed_ms(svc.redis, note.id)
                if exc.permanent and now - (first or now) >= GIVE_UP_S * 1000:
                    # The gateway refuses this number or message and has for ~9 minutes, as
                    # the other texts are tried: given up (not every RETRY_S for hours).
                    await delivery.given_up(svc.redis, note.id, note.kind)
                    await delivery.booking_state(svc.redis, site, b["id"], "given_up",
                                                 note.kind, now, exc.status)
                    await svc.redis.delete(claim)
                    await svc.booking.fire(site, member, "drop")
                    log.error("reminder %s of %s given up: %s", member, site, exc)
                    return "given_up"
                await delivery.booking_state(svc.redis, site, b["id"], "failed", note.kind,
                                             now, exc.status)
                raise
            await delivery.sent(svc.redis, note.id, note.kind)
            await delivery.booking_state(svc.redis, site, b["id"], "ok", note.kind,
                                         svc.booking.now())
    except NotifyFailed as exc:
        # The entry stays due, behind everything else due now (so one dead gateway holds up
        # no lapse and no other reminder), and is tried again RETRY_S from now.
        await svc.redis.delete(claim)
        await svc.booking.fire(site, member, "defer", RETRY_S)
        log.warning("reminder %s of %s not sent (%s); again in %d s", member, site, exc,
                    RETRY_S)
        return "deferred"
    r = await svc.booking.fire(site, member)
    return "fired" if r.get("fired") else "stale"


async def _quiet(svc: Services, site: str, member: str, b: dict[str, Any]) -> str | None:
    """In quiet hours: the reminder ``member`` waits for their end ("quiet") or is dropped
    ("quiet_dropped"); None: it goes now."""
    s = await svc.booking.schedule(site)
    now = svc.booking.now()
    end = quiet.quiet_end(now, s.tz, s.policy.quiet_hours)
    if end is None:
        return None
    offset = int(member.split("|")[2])
    # A nearer reminder due before the end waits for the same morning and says the same.
    later = any(m.startswith("r|") and m != member and int(m.split("|")[2]) < offset
                and int(at or 0) < end
                for m, _, at in (e.partition("@") for e in str(b.get("due") or "").split(",")))
    if later or end >= int(b["start_ms"]):
        await svc.booking.fire(site, member, "drop")
        await delivery.stale(svc.redis, _reminder_id(site, member), "reminder", "quiet",
                             only_if_pending=True)
        log.info("reminder %s of %s dropped in quiet hours", member, site)
        return "quiet_dropped"
    wait_s = -(-(end - now) // 1000)  # whole seconds, rounded up: due at the end, not before
    await svc.booking.fire(site, member, "defer", wait_s)
    if svc.booking.jobs is not None:
        svc.booking.jobs.apply(site, [(member, now + wait_s * 1000)], now)
    return "quiet"


async def reminder(svc: Services, site: str, member: str, b: dict[str, Any]) -> Notification:
    cfg = await svc.booking.engine.config(site)
    tz = ZoneInfo(cfg.timezone)
    svc_cfg = cfg.service(b["service"])
    before_s = int(member.split("|")[2])
    # Where, with whom, and (where the number can answer by text, the SMS desk's) the words
    # to cancel and to check in; else the link after it says how.
    res = (await svc.booking.schedule(site)).config.resource(str(b.get("resource") or ""))
    text = texts.render("reminder", cfg.languages, time=local_text(b["start_ms"], tz),
                        code=b["code"], service=texts.names(
                            svc_cfg.name if svc_cfg else None, cfg.languages, b["service"]),
                        site=texts.names(cfg.name, cfg.languages, site),
                        resource=texts.names(res.name, cfg.languages, res.id) if res else None,
                        replies=await sms_desk.answers(svc.redis, site, str(b["notify"])))
    now = svc.booking.now()
    return Notification(
        id=f"{site}:reminder:{b['id']}:{before_s}:{b['start_ms']}", kind="reminder", site=site,
        to=b["notify"], booking=b["id"], text=text, lang=text_lang(b.get("lang"), text),
        at=local_iso(now, tz),
        valid_until=local_iso(valid_until_ms("reminder", now, int(b.get("end_ms") or
                                                                   b["start_ms"])), tz),
        data={"before_s": before_s, "slot": b["slot"], "code": b["code"],
              "start": datetime.fromtimestamp(b["start_ms"] / 1000, tz).isoformat()})


def _reminder_id(site: str, member: str) -> str:
    """A reminder's notification id from its entry ``r|booking|before_s|start_ms``."""
    _, bid, before_s, start_ms = member.split("|")[:4]
    return f"{site}:reminder:{bid}:{before_s}:{start_ms}"


async def fire_due(svc: Services, site: str, limit: int = 500, rounds: int = 20,
                   parallel: int = 16) -> int:
    """Fire every entry of ``site`` due now; returns how many fired. Firing an entry can
    make the booking's next one due (a reminder missed while no worker ran): rounds repeat
    until nothing new is due. Reminders go out ``parallel`` at a time (a webhook per
    person); one the notifier could not send is deferred (``fire``), one that failed
    otherwise is logged and stays due for the sweep: neither stops the others."""
    seen: set[str] = set()
    gate = asyncio.Semaphore(parallel)
    fired = 0

    async def one(member: str) -> str:
        async with gate:
            return await fire(svc, site, member)

    for _ in range(rounds):
        members = [m for m in await svc.booking.due(site, limit) if m not in seen]
        if not members:
            break
        seen.update(members)
        for member, outcome in zip(members, await asyncio.gather(
                *(one(m) for m in members), return_exceptions=True), strict=True):
            if outcome == "fired":
                fired += 1
            elif isinstance(outcome, Exception):
                log.error("due entry %s of %s failed: %r", member, site, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
    return fired


async def sweep(svc: Services, limit: int = 500) -> int:
    """Fire every entry due now at every site; returns how many fired."""
    fired = 0
    for raw in await svc.redis.smembers(keys.SITES):  # type: ignore[misc]
        site = raw.decode()
        try:
            fired += await fire_due(svc, site, limit)
        except (BookingNotConfigured, UnknownSite):
            continue
        except SwitchboardError as exc:
            log.warning("sweep of %s: %s", site, exc)
    return fired
