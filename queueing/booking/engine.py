"""The booking executor: HTTP routes, websocket topics and arq tasks all call these methods.

Each method reads the site's schedule (cached, versioned), asks the pure policy what the
request means (which slot, which quota group, arrival rule, alternatives), then runs one
store script that checks everything against Redis and makes the change with its event. A
script refuses a request decided on an older schedule or booking version
(``schedule_changed``); the method then decides again on fresh data, a few times at most.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from redis.exceptions import RedisError

from queueing import keys, phone, served
from queueing.booking import langs, quiet, quota, rules, views
from queueing.booking.jobs import Jobs
from queueing.booking.model import (
    BookingConfig,
    BookingPolicy,
    BookingRequest,
    BookingStatus,
    validate_booking,
)
from queueing.booking.schedule import Slot, day_slots, local_date, parse_slot_id, slots_between
from queueing.booking.store import BookingStore
from queueing.engine import Actor, Engine
from queueing.errors import (
    BadRequest,
    BookingNotConfigured,
    Forbidden,
    InvalidTransition,
    ScheduleChanged,
    SlotClosed,
    TooEarly,
    TooLate,
    Unavailable,
    UnknownBooking,
    UnknownResource,
    UnknownService,
    UnknownSlot,
)
from queueing.numbering import local_day
from queueing.policy import keeps_appointment, promote_at
from queueing.store import journal
from queueing.tickets import iso, public

T = TypeVar("T")
ATTEMPTS = 3
MAX_SUSPENSION_DAYS = 31
ALTERNATIVE_DAYS = 7  # alternatives are looked for up to this many days after the booking
MIGRATE_BATCH = 200  # suspensions spmigrate.lua moves per call


@dataclass(slots=True)
class Schedule:
    config: BookingConfig
    version: str
    tz: ZoneInfo
    at: float
    days: dict[date, dict[str, Slot]] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)  # looked-up slots by id
    _args: str = ""

    @property
    def policy(self) -> BookingPolicy:
        return self.config.policy

    def day(self, day: date) -> dict[str, Slot]:
        hit = self.days.get(day)
        if hit is None:
            if len(self.days) > 400:
                self.days.clear()
                self.slots.clear()
            hit = self.days[day] = {s.id: s for s in day_slots(self.config, day, self.tz)}
        return hit

    def slot(self, slot_id: str) -> Slot:
        hit = self.slots.get(slot_id)
        if hit is not None:
            return hit
        parsed = parse_slot_id(slot_id)
        found = parsed and self.day(local_date(parsed[2], self.tz)).get(slot_id)
        if not found:
            raise UnknownSlot(f"unknown slot {slot_id}", slot=slot_id)
        self.slots[slot_id] = found
        return found

    def offer_arg(self, now_ms: int) -> str:
        """``offer_ms`` for the scripts that may offer a freed place, with ``@from_ms`` when
        ``now_ms`` is in the site's quiet hours: the offer is texted when they end and its
        time to answer counts from then (prelude.lua ``bk_offer_ms``)."""
        ms = self.policy.offer_ttl_s * 1000
        end = quiet.quiet_end(now_ms, self.tz, self.policy.quiet_hours)
        return f"{ms}@{end}" if end is not None else str(ms)

    @property
    def args(self) -> str:
        """The policy numbers every booking script reads, as one argument."""
        if not self._args:
            p = self.policy
            self._args = (f"{p.hold_ttl_s * 1000}|{p.max_open_bookings}|{p.grace_s * 1000}|"
                          f"{p.offer_ttl_s * 1000}|{','.join(map(str, p.reminders_s))}")
        return self._args


@dataclass(frozen=True, slots=True)
class Booked:
    booking: dict[str, Any]
    replay: bool


@dataclass(frozen=True, slots=True)
class CheckedIn:
    ticket: dict[str, Any]
    booking: dict[str, Any]
    replay: bool


@dataclass(frozen=True, slots=True)
class Counts:
    taken: dict[str, int]
    waitlist: list[str]  # the groups of the people waiting, in order
    suspended: bool


def quota_spec(slot: Slot) -> str:
    return ";".join(f"{q.group}:{q.reserved}:{q.release_ms}" for q in slot.quotas)


def slot_spec(slot: Slot) -> str:
    """A slot as the scripts take it: ``service|resource|start|end|capacity|quotas``."""
    return (f"{slot.service}|{slot.resource}|{slot.start_ms}|{slot.end_ms}|{slot.capacity}|"
            f"{quota_spec(slot)}")


def site_of_booking(booking_id: str) -> str:
    site = keys.site_of_ticket(booking_id)  # the same SITE.RANDOM shape as ticket ids
    if not site:
        raise UnknownBooking(f"unknown booking {booking_id}")
    return site


class BookingEngine:
    """Appointments for every site in one Redis, on top of the queue engine."""

    def __init__(self, engine: Engine, jobs: Jobs | None = None,
                 config_ttl_s: float | None = None) -> None:
        self.engine = engine
        self.store = BookingStore(engine.store.redis)
        self.jobs = jobs
        self.config_ttl_s = engine.config_ttl_s if config_ttl_s is None else config_ttl_s
        self._schedules: dict[str, Schedule] = {}
        self._migrated: set[str] = set()  # sites whose old suspensions are indexed

    def now(self) -> int:
        return self.engine.clock()

    def cached_grace_s(self, site: str) -> int | None:
        """The site's grace period if its schedule is cached (for synchronous callers)."""
        hit = self._schedules.get(site)
        return hit.policy.grace_s if hit else None

    # -- schedule ---------------------------------------------------------------------------

    async def put_config(self, site: str, cfg: BookingConfig, actor: Actor) -> dict[str, Any]:
        validate_booking(cfg, await self.engine.config(site))
        r = await self.store.run("put_config", site, self.now(), actor.subject, actor.via,
                                 msgspec.json.encode(cfg).decode())
        self._schedules.pop(site, None)
        return {"version": int(r["version"]), "changed": r["changed"]}

    async def schedule(self, site: str, fresh: bool = False) -> Schedule:
        hit = self._schedules.get(site)
        if hit and not fresh and time.monotonic() - hit.at < self.config_ttl_s:
            return hit
        site_cfg = await self.engine.config(site)
        p = keys.prefix(site)
        raw, ver = await self.store.redis.mget(p + "bk:config", p + "bk:ver")
        if raw is None:
            raise BookingNotConfigured(f"site {site} takes no bookings (no schedule)")
        version = ver.decode() if ver else ""
        if hit and hit.version == version:
            hit.at = time.monotonic()
            return hit
        cfg = msgspec.json.decode(raw, type=BookingConfig)
        s = Schedule(cfg, version, ZoneInfo(site_cfg.timezone), time.monotonic())
        self._schedules[site] = s
        await self._migrate(site)
        return s

    async def _migrate(self, site: str) -> None:
        """Suspensions made before the site's list had its index (bk:spu) get it and their
        lifetime (spmigrate.lua), in batches, once per site and process (after that a run
        reads an empty key). A store refusing writes (a replica) leaves it for a later
        load: the list still shows those that stand (suspensions.lua)."""
        if site in self._migrated:
            return
        token = journal.set(None)  # not a change the request being made made
        try:
            while int((await self.store.run("spmigrate", site, self.now(), "", "",
                                            MIGRATE_BATCH))["left"]):
                pass
        except (RedisError, Unavailable):
            return
        finally:
            journal.reset(token)
        self._migrated.add(site)

    async def _retrying(self, site: str, step: Callable[[Schedule], Awaitable[T]]) -> T:
        """Decide on the schedule and run the script; on ``schedule_changed`` decide again."""
        for attempt in range(ATTEMPTS):
            s = await self.schedule(site, fresh=attempt > 0)
            try:
                return await step(s)
            except ScheduleChanged:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _run(self, script: str, site: str, now: int, actor: Actor | None,
                   *args: str | int | float) -> dict[str, Any]:
        who = actor or Actor("", "")
        r = await self.store.run(script, site, now, who.subject, who.via, *args)
        if self.jobs is not None and r.get("due"):
            self.jobs.apply(site, _pairs(r.get("due")), now)
        return r

    def _view(self, s: Schedule, raw: dict[str, Any], now: int,
              extra: dict[str, Any] | None = None, notify: bool = False) -> dict[str, Any]:
        return views.booking(raw, s.tz, now, s.policy.grace_s, extra,
                             s.policy.appointment_early_s, notify)

    # -- availability -----------------------------------------------------------------------

    async def availability(self, site: str, service: str, day: date, channel: str | None = None,
                           resource: str | None = None) -> list[dict[str, Any]]:
        """Bookable slots of ``service`` on local date ``day`` with the places a newcomer
        (from ``channel``, or any channel) could take: the one answer every channel gets."""
        s = await self.schedule(site)
        site_cfg = await self.engine.config(site)
        if site_cfg.service(service) is None:
            raise UnknownService(f"unknown service {service}")
        if resource is not None and s.config.resource(resource) is None:
            raise UnknownResource(f"unknown resource {resource}")
        now = self.now()
        slots = [x for x in s.day(day).values() if x.service == service
                 and (resource is None or x.resource == resource) and _open(x, now, s.policy)]
        counts = await self.counts(site, slots, now)
        return [views.slot(x, 0 if c.suspended else
                           quota.remaining(x, channel, c.taken, c.waitlist, now), s.tz)
                for x, c in zip(slots, counts, strict=True)]

    async def day_list(self, site: str, day: date, resource: str | None = None,
                       service: str | None = None, notify: bool = False) -> dict[str, Any]:
        """The appointments of local date ``day``: every booking placed or waitlisted in a
        slot starting that day (held, confirmed, offered, waitlisted, checked in — with its
        ticket's number and status —, no-show; not cancelled or lapsed ones), by start time.
        Slots are found by the index of slots holding bookings and by the schedule, so a
        booking whose session a later schedule dropped is still listed."""
        s = await self.schedule(site)
        # A resource a later schedule removed still has the bookings made before: it is
        # unknown only if the schedule lacks it and no booking of the day names it.
        known = resource is None or s.config.resource(resource) is not None
        now = self.now()
        start = datetime.combine(day, dtime(0), s.tz)
        end = datetime.combine(day + timedelta(days=1), dtime(0), s.tz)
        from_ms, until_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        utc_days = sorted({datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d")
                           for ms in (from_ms, until_ms - 1)})
        named = ",".join(x.id for x in s.day(day).values()
                         if (resource is None or x.resource == resource)
                         and (service is None or x.service == service))
        r = await self.store.run("day", site, now, "", "", from_ms, until_ms, ",".join(utc_days),
                                 named)
        found = r.get("suspensions")
        susp: dict[str, Any] = found if isinstance(found, dict) else {}
        out, shown = [], []
        for b in _list(r["bookings"]):
            known = known or b["resource"] == resource
            if (resource is not None and b["resource"] != resource) or (
                    service is not None and b["service"] != service):
                continue
            sp = susp.get(b.get("susp") or "")
            v = self._view(s, b, now, {"suspension": sp} if sp else None, notify=notify)
            if v["status"] in ("cancelled", "expired"):
                continue
            if b.get("ticket_number"):
                v |= {"ticket_number": b["ticket_number"], "ticket_status": b["ticket_status"]}
            out.append((int(b["start_ms"]), int(b.get("created_ms") or 0), v))
            shown.append((b, v, sp))
        if not known:
            raise UnknownResource(f"unknown resource {resource}")
        await self._fresh_alternatives(site, s, shown, now)
        out.sort(key=lambda x: (x[0], x[1]))
        return {"date": day.isoformat(), "bookings": [v for *_, v in out]}

    async def counts(self, site: str, slots: list[Slot], now: int) -> list[Counts]:
        out: list[Counts] = []
        for i in range(0, len(slots), 500):
            chunk = slots[i:i + 500]
            if not chunk:
                break
            args = [f"{x.id}|{x.resource}|{x.start_ms}|{x.end_ms}|{','.join(x.groups)}"
                    for x in chunk]
            r = await self.store.run("avail", site, now, "", "", *args)
            for row in _list(r["slots"]):
                out.append(Counts({k: int(v) for k, v in (row["taken"] or {}).items()},
                                  [str(g) for g in _list(row.get("waitlist"))],
                                  bool(row["suspended"])))
        return out

    # -- booking ----------------------------------------------------------------------------

    async def book(self, site: str, req: BookingRequest, actor: Actor,
                   idempotency_key: str | None = None) -> Booked:
        req = await self.with_numbers(site, req)
        fp = hashlib.sha256(msgspec.json.encode(req)).hexdigest()[:16]
        # A key is its caller's (the token's subject), as for tickets: another partner or
        # kiosk sending the same key and body gets a booking of its own, never this one (and
        # its token). The subject's length keeps 'a:b' + 'c' apart from 'a' + 'b:c'.
        if idempotency_key:
            idempotency_key = f"{len(actor.subject)}:{actor.subject}:{idempotency_key}"

        async def step(s: Schedule) -> Booked:
            now = self.now()
            try:
                slot = s.slot(req.slot)
                rules.check_bookable(slot, now, s.policy)
            except (UnknownSlot, SlotClosed):
                replay = await self._replay(site, s, idempotency_key, fp, now)
                if replay is not None:
                    return replay
                raise
            if slot.service not in served.served(await self.engine.config(site)):
                # As for a ticket (queueing/served.py): no counter lists the service, so
                # nobody would call the person who comes, whatever the day — counters list
                # services for every day, and a roster only says when they are on. Refused
                # before the place is taken (a retry of one booked before is answered
                # still). Read here, not in the script, from the cached site document: a
                # booking is not the queue, and the check-in admits one all the same.
                replay = await self._replay(site, s, idempotency_key, fp, now)
                if replay is not None:
                    return replay
                raise served.refusal(slot.service)
            r = await self._run(
                "book", site, now, actor, f"{site}.{secrets.token_hex(6)}",
                ",".join(rules.new_codes(3)), slot.id, slot_spec(slot),
                slot.group_of(req.channel.value), req.customer, req.channel.value,
                req.notify or "", f"{int(req.hold)}{int(req.waitlist)}", s.args,
                idempotency_key or "", fp, self.engine.idempotency_ttl_s, s.version, site,
                req.lang or "")
            return Booked(self._view(s, r["booking"], now, r), bool(r.get("replay")))

        return await self._retrying(site, step)

    async def with_numbers(self, site: str, req: BookingRequest,
                           mobile: bool = False) -> BookingRequest:
        """``req`` with one spelling per phone number (queueing/phone.py): a customer who is
        a number is one person (one list of bookings, ``bk:cu:+86…``) however it is typed,
        and ``notify`` a number in E.164 (``InvalidPhoneNumber``: not one). ``mobile``: the
        customer must be a number (the public booking page books for one). ``lang`` as
        one of the site's tags, or None where the site does not speak it (``langs``)."""
        cfg = await self.engine.config(site)
        region = cfg.phone_region()
        who = (phone.normalise(req.customer, region, field="customer") if mobile
               else phone.customer(req.customer, region))
        notify = None if req.notify is None else phone.target(req.notify, region)
        return msgspec.structs.replace(req, customer=who, notify=notify,
                                       lang=langs.pick(req.lang, cfg.languages))

    async def _replay(self, site: str, s: Schedule, key: str | None, fp: str,
                      now: int) -> Booked | None:
        """A retried request whose slot has closed since still gets its first answer."""
        if not key:
            return None
        prior = await self.store.redis.get(keys.prefix(site) + "bk:idem:" + key)
        if prior is None:
            return None
        bid, _, prior_fp = prior.decode().partition("|")
        if prior_fp != fp:
            return None
        r = await self.store.run("get", site, now, "", "", bid, "")
        return Booked(self._view(s, r["booking"], now, r), True)

    async def get(self, booking_id: str, notify: bool = False) -> dict[str, Any]:
        """The booking; ``notify``: with the number its texts go to (staff)."""
        site = site_of_booking(booking_id)
        s = await self.schedule(site)
        now = self.now()
        r = await self.store.run("get", site, now, "", "", booking_id, "")
        view = self._view(s, r["booking"], now, r, notify)
        await self._fresh_alternatives(site, s, [(r["booking"], view, r.get("suspension"))],
                                       now)
        return view

    async def _fresh_alternatives(self, site: str, s: Schedule,
                                  rows: list[tuple[dict[str, Any], dict[str, Any], Any]],
                                  now: int) -> None:
        """The alternatives in each view (of a booking ``raw``, under suspension ``susp``:
        the stored hash) as they are now, where its person may still answer: a time listed
        when the suspension came may have been taken since (by another person it reached,
        or a newcomer). One read of the candidates' places per suspension; none when no
        view waits for an answer."""
        waiting: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        found: dict[str, dict[str, Any]] = {}
        for raw, view, susp in rows:
            shown = view.get("suspension")
            if shown and not shown["answered"] and isinstance(susp, dict) and (
                    view["status"] in _ANSWERABLE):
                waiting.setdefault(shown["id"], []).append((raw, shown))
                found[shown["id"]] = susp
        for sid, group in waiting.items():
            try:
                period = (int(found[sid]["from_ms"]), int(found[sid]["until_ms"]))
                resource = str(found[sid]["resource"])
            except (KeyError, TypeError, ValueError):  # its record is gone
                alts: dict[str, list[dict[str, Any]]] = {}
            else:
                alts = await self._alternatives(site, s, [raw for raw, _ in group], resource,
                                                period, now)
            for raw, shown in group:
                shown["alternatives"] = alts.get(raw["id"], [])

    async def set_notify(self, booking_id: str, to: str | None,
                         actor: Actor) -> dict[str, Any]:
        """Where the booking's texts go from now (``None``: nowhere): a number typed wrong
        at booking is corrected before the reminders go to a stranger or nowhere."""
        site = site_of_booking(booking_id)
        s = await self.schedule(site)
        target = "" if to is None else phone.target(
            to, (await self.engine.config(site)).phone_region())
        now = self.now()
        r = await self._run("set_notify", site, now, actor, booking_id, target,
                            s.policy.grace_s * 1000)
        return self._view(s, r["booking"], now, None, True) | {"changed": bool(r["changed"])}

    async def raw(self, booking_id: str) -> dict[str, Any]:
        """The stored booking (for scope checks and tasks)."""
        site = site_of_booking(booking_id)
        r = await self.store.run("get", site, self.now(), "", "", booking_id, "")
        raw: dict[str, Any] = r["booking"]
        return raw

    async def confirm(self, booking_id: str, actor: Actor) -> dict[str, Any]:
        site = site_of_booking(booking_id)
        s = await self.schedule(site)
        p, now = s.policy, self.now()
        r = await self._run("confirm", site, now, actor, booking_id, p.grace_s * 1000,
                            p.max_open_bookings, ",".join(map(str, p.reminders_s)))
        return self._view(s, r["booking"], now)

    async def cancel(self, booking_id: str, actor: Actor) -> dict[str, Any]:
        site = site_of_booking(booking_id)
        s = await self.schedule(site)
        p, now = s.policy, self.now()
        r = await self._run("cancel", site, now, actor, booking_id, p.grace_s * 1000,
                            s.offer_arg(now))
        return self._view(s, r["booking"], now)

    async def reschedule(self, booking_id: str, slot_id: str, actor: Actor) -> dict[str, Any]:
        """Move the booking to ``slot_id`` (same service): the new place is taken before the
        old is released, in one script, or nothing changes."""
        site = site_of_booking(booking_id)
        current = await self.raw(booking_id)

        async def step(s: Schedule) -> dict[str, Any]:
            now = self.now()
            slot = s.slot(slot_id)
            if slot.service != current["service"]:
                raise BadRequest(f"{slot_id} is not a slot of {current['service']}",
                                 field="slot")
            rules.check_bookable(slot, now, s.policy)
            p = s.policy
            r = await self._run(
                "reschedule", site, now, actor, booking_id, slot.id, slot.resource,
                slot.start_ms, slot.end_ms, slot.capacity, quota_spec(slot),
                slot.group_of(current["channel"]), s.version, p.grace_s * 1000,
                p.max_open_bookings, ",".join(map(str, p.reminders_s)), s.offer_arg(now),
                int(p.keep_place))
            return self._view(s, r["booking"], now)

        return await self._retrying(site, step)

    # -- check-in ---------------------------------------------------------------------------

    async def check_in(self, site: str, code: str, channel: str, actor: Actor,
                       only_booking: str | None = None) -> CheckedIn:
        """Turn the booking with ``code`` (or QR payload) into a ticket, atomically.

        Early and late rules (``rules.arrival``) are decided here on the booking as read;
        the script refuses if the booking changed since (its version), and the decision is
        made again. A repeated check-in returns the ticket the first one made.
        """
        parsed = rules.parse_code(code)
        if parsed is None:
            raise BadRequest("not a booking code or QR payload", field="code")
        bid, short = parsed
        if bid is not None and site_of_booking(bid) != site:
            raise UnknownBooking(f"booking {bid} is not at site {site}")
        site_cfg = await self.engine.config(site)

        async def step(s: Schedule) -> CheckedIn:
            now = self.now()
            r = await self.store.run("get", site, now, "", "", bid or "", short)
            b = r["booking"]
            if b["code"] != short:
                raise UnknownBooking("the code does not match the booking")
            if only_booking is not None and b["id"] != only_booking:
                raise Forbidden("this token is for another booking")
            if b["status"] == BookingStatus.CHECKED_IN:
                if not r.get("ticket"):
                    raise InvalidTransition("the booking was checked in and its ticket ended")
                return CheckedIn(public(r["ticket"], r.get("position") or None, s.tz),
                                 self._view(s, b, now, r), True)
            p = s.policy
            status = rules.effective_status(b, now, p.grace_s)
            rules.check(rules.Op.CHECK_IN, status)
            same_day = local_date(now, s.tz) == local_date(b["start_ms"], s.tz)
            arrival = rules.arrival(b["start_ms"], now, same_day, p)
            if arrival == rules.Arrival.TOO_EARLY:
                earliest = b["start_ms"] - p.early_check_in_s * 1000
                raise TooEarly(f"check-in opens at {iso(earliest, s.tz)}",
                               opens=iso(earliest, s.tz))
            if arrival == rules.Arrival.TOO_LATE:
                raise TooLate("the booking's grace period is over", status=status.value)
            # Early (before appointment_early_s ahead of the time): a walk-in from now, as a
            # late arrival is, but the ticket still says it was booked (appointment_ms).
            early = arrival == rules.Arrival.ON_TIME and not keeps_appointment(
                b["start_ms"], now, p.appointment_early_s)
            on_time = arrival == rules.Arrival.ON_TIME and not early
            priority = p.ticket_priority if on_time else site_cfg.policy.default_priority
            ref = b["order_ms"] if on_time else now
            ticket_id = f"{site}.{secrets.token_hex(6)}"
            if b.get("lang") and b.get("notify"):
                # The ticket's alerts in the language the booking was made in (before the
                # script: its events must not run ahead of it).
                await langs.keep(self.store.redis, site, ticket_id, b["lang"])
            r2 = await self.store.run(
                "checkin", site, now, actor.subject, actor.via,
                ticket_id, b["service"], channel, priority, ref,
                local_day(now, site_cfg.timezone), b["customer"], b.get("notify") or "", "",
                "", self.engine.idempotency_ttl_s, b["order_ms"] if on_time or early else "",
                "booked",
                # ... until its appointment's place is due: then the class an on-time
                # check-in gets, by the same order time (the worker's promote_due).
                promote_at(b["start_ms"], p.appointment_early_s) if early else "",
                p.ticket_priority if early else "",
                b["id"], b["v"], int(not on_time and not early))
            # An unanswered suspension goes with the answer: the person is here, in line for
            # the service, and the kiosk tells them their doctor or room is unavailable.
            return CheckedIn(public(r2["ticket"], r2.get("position") or None, s.tz),
                             self._view(s, r2["booking"], now,
                                        {"suspension": r.get("suspension")}),
                             bool(r2.get("replay")))

        return await self._retrying(site, step)

    # -- suspension -------------------------------------------------------------------------

    async def suspend(self, site: str, resource: str, from_ms: int, until_ms: int,
                      reason: str, actor: Actor) -> dict[str, Any]:
        """Suspend ``resource`` over [from, until): new bookings there are refused, and every
        affected booking (and checked-in ticket still waiting) gets an event with the reason
        and its best alternatives. Nothing is cancelled."""
        s = await self.schedule(site)
        if s.config.resource(resource) is None:
            raise UnknownResource(f"unknown resource {resource}")
        now = self.now()
        if until_ms <= from_ms:
            raise BadRequest("'until' must be after 'from'", field="until")
        if until_ms <= now:
            raise BadRequest("the period is already over", field="until")
        if until_ms - from_ms > MAX_SUSPENSION_DAYS * 86400_000:
            raise BadRequest(f"at most {MAX_SUSPENSION_DAYS} days at once", field="until")
        sid = f"{resource}-{secrets.token_hex(4)}"

        async def step(s: Schedule) -> dict[str, Any]:
            now = self.now()
            grace_ms = s.policy.grace_s * 1000
            slot_ids = ",".join(x.id for x in slots_between(s.config, from_ms, until_ms, s.tz)
                                if x.resource == resource)
            hit = await self.store.run("affected", site, now, "", "", grace_ms, slot_ids)
            bookings = _list(hit["bookings"])
            alts = await self._alternatives(site, s, bookings, resource, (from_ms, until_ms),
                                            now)
            r = await self._run("suspend", site, now, actor, sid, resource, from_ms, until_ms,
                                reason, grace_ms, slot_ids, msgspec.json.encode(alts).decode())
            susp = r["suspension"]
            return views.suspension(susp, s.tz) | {
                "affected": [self._view(s, b, now, {"suspension": susp})
                             for b in _list(r["bookings"])]}

        return await self._retrying(site, step)

    async def lift(self, site: str, sid: str, actor: Actor) -> dict[str, Any]:
        """Lift suspension ``sid``: its resource takes bookings in the period again, and
        each booking it reached that has not answered stands as before (reminders planned
        again, a ``booking_unsuspended`` event: the person is told). Lifting a lifted
        suspension changes nothing (``already``)."""
        s = await self.schedule(site)
        p, now = s.policy, self.now()
        r = await self._run("lift", site, now, actor, sid, p.grace_s * 1000,
                            ",".join(map(str, p.reminders_s)))
        susp = r["suspension"]
        return views.suspension(susp, s.tz) | {
            "lifted_at": iso(susp.get("lifted_ms"), s.tz), "already": bool(r.get("already")),
            "restored": [self._view(s, b, now) for b in _list(r["bookings"])]}

    async def _alternatives(self, site: str, s: Schedule, bookings: list[dict[str, Any]],
                            resource: str, period: tuple[int, int],
                            now: int) -> dict[str, list[dict[str, Any]]]:
        """The best alternatives of each booking (rules.rank_alternatives), from one read of
        the candidate slots' places."""
        if not bookings:
            return {}
        days: set[date] = set()
        for b in bookings:
            first = max(local_date(now, s.tz), local_date(b["start_ms"], s.tz))
            days.update(first + timedelta(days=i) for i in range(ALTERNATIVE_DAYS + 1))
        services = {b["service"] for b in bookings}
        candidates = [x for d in sorted(days) for x in s.day(d).values()
                      if x.service in services and _open(x, now, s.policy)]
        counts = await self.counts(site, candidates, now)
        out: dict[str, list[dict[str, Any]]] = {}
        # What a booking may take depends on its service and channel only: worked out once
        # for each (rules.usable), then each booking takes the nearest (rules.nearest).
        pools: dict[tuple[str, str], list[rules.Alternative]] = {}
        for b in bookings:
            pool = pools.get((b["service"], b["channel"]))
            if pool is None:
                pool = pools[b["service"], b["channel"]] = rules.usable(
                    b["service"], resource,
                    (rules.Alternative(x, 0 if c.suspended else
                                       quota.remaining(x, b["channel"], c.taken, c.waitlist,
                                                       now))
                     for x, c in zip(candidates, counts, strict=True)), [period], now)
            ranked = rules.nearest(b["start_ms"], resource,
                                   (a for a in pool if a.slot.id != b["slot"]),
                                   s.policy.alternatives)
            out[b["id"]] = [views.slot(a.slot, a.remaining, s.tz) for a in ranked]
        return out

    async def suspension(self, site: str, sid: str, notify: bool = False) -> dict[str, Any]:
        """A suspension as its operator follows it: who was reached and who has not answered
        (``notify``: with the number each was texted at, and how the last text went)."""
        s = await self.schedule(site)
        now = self.now()
        r = await self.store.run("suspension", site, now, "", "", sid)
        answers = r.get("answers") or {}
        people = [{"booking": b["id"], "code": b["code"], "customer": b["customer"],
                   "start": iso(b["start_ms"], s.tz), "status":
                   rules.effective_status(b, now, s.policy.grace_s).value,
                   "answered": bool(b.get("answered")) and b.get("susp") == sid,
                   "answer": answers.get(b["id"])} | _reach(b, s.tz, notify)
                  for b in _list(r["bookings"])]
        people.sort(key=lambda x: (x["start"] or "", x["booking"]))
        return views.suspension(r["suspension"], s.tz) | {
            "affected": people, "unanswered": sorted(_list(r.get("pending")))}

    async def suspensions(self, site: str, from_ms: int | None = None,
                          until_ms: int | None = None, lifted: bool = False) -> dict[str, Any]:
        """The site's suspensions whose period ends after ``from_ms`` (default: now, i.e.
        those not yet over) and starts before ``until_ms`` (default: no bound), lifted ones
        only with ``lifted``; by start. Each says how many bookings it ``reached`` and how
        many have not answered yet (``pending``); ``standing``: not lifted, not over."""
        s = await self.schedule(site)
        now = self.now()
        start = now if from_ms is None else from_ms
        r = await self.store.run("suspensions", site, now, "", "", start,
                                 "" if until_ms is None else until_ms, "1" if lifted else "0",
                                 ",".join(x.id for x in s.config.resources))
        found = sorted(_list(r["suspensions"]), key=lambda x: (int(x["from_ms"]), x["id"]))
        return {"from": iso(start, s.tz), "until": iso(until_ms, s.tz),
                "suspensions": [views.suspension(x, s.tz) | {
                    "reached": int(x.get("affected") or 0), "pending": int(x["pending"]),
                    "standing": not x.get("lifted_ms") and int(x["until_ms"]) > now}
                    for x in found]}

    # -- side effects (called by queueing/booking/tasks.py) ---------------------------------

    async def fire(self, site: str, member: str, mode: str = "fire",
                   defer_s: float = 0) -> dict[str, Any]:
        """Fire a due entry ("fire"), look at it ("peek"), or put it back in the index
        ``defer_s`` from now ("defer": its notifier failed, or quiet hours)."""
        s = await self.schedule(site)
        now = self.now()
        return await self._run("fire", site, now, Actor("worker", "worker"), member,
                               mode, s.policy.grace_s * 1000, s.offer_arg(now),
                               int(defer_s * 1000))

    async def due(self, site: str, limit: int = 200) -> list[str]:
        """Side effects whose time has come (what the sweep fires if their job did not)."""
        # Scores are due_ms + a tie-breaker below 1 (prelude.lua bk_tie): due by now means
        # a score below now + 1.
        members = await self.store.redis.zrangebyscore(keys.prefix(site) + "bk:due", "-inf",
                                                       f"({self.now() + 1}", start=0,
                                                       num=limit)
        return [m.decode() for m in members]


# Statuses in which a suspension's alternatives can still be taken (the reschedule script).
_ANSWERABLE = frozenset(s.value for s in rules.ALLOWED[rules.Op.RESCHEDULE])


def _reach(b: dict[str, Any], tz: ZoneInfo, notify: bool) -> dict[str, Any]:
    """How a suspension's person was reached: the number (staff) and the last text's fate."""
    out: dict[str, Any] = {}
    if notify and b.get("notify"):
        out["notify"] = b["notify"]
    if b.get("nst"):
        out["notify_state"] = views.notify_state(str(b["nst"]), tz)
    return out


def _open(slot: Slot, now: int, policy: BookingPolicy) -> bool:
    try:
        rules.check_bookable(slot, now, policy)
    except SlotClosed:
        return False
    return True


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pairs(value: Any) -> list[tuple[str, int]]:
    return [(str(m), int(at)) for m, at in _list(value)]
