"""Erasing one person's data at one site, on request (GDPR art. 17, PIPL art. 47).

The person is named by a phone number, a ticket or a booking (queueing/personal.py decides
what is theirs). Tickets and bookings have no index by number, so the site's are scanned
(``SCAN``: it walks every key of the Redis, other sites' too, so the site's keys are found
in one walk and short links in another; tickets live a week after they end). Each ticket and
booking is then changed by its own script, which checks again what it erases in the same
step; keys named by the number are deleted; event entries that carry the person's data are
deleted, and one ``erased`` entry records what was done, without the number. See
docs/privacy.md for what is kept where and for how long.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import msgspec
from redis.asyncio import Redis

from queueing import keys, phone, transitions
from queueing.booking.engine import BookingEngine
from queueing.booking.model import BookingStatus
from queueing.booking.notify import Notification
from queueing.engine import OPEN_STATES, Actor, Engine
from queueing.errors import Conflict, NotFound, UnknownBooking, UnknownTicket
from queueing.luafn import Library
from queueing.personal import Person, alias, reference, spellings
from queueing.store import Store

SCRIPTS = ("erase_ticket", "erase_booking", "erase_events")
BATCH = 1000
# A ticket at a counter (called, being served): cancel_open leaves it to its counter.
AT_COUNTER = frozenset(s.value for s in transitions.ACTIVE_STATES)
OPEN_BOOKINGS = {s.value for s in (BookingStatus.HELD, BookingStatus.CONFIRMED,
                                   BookingStatus.OFFERED, BookingStatus.WAITLISTED)}


class _Retry(msgspec.Struct):  # an entry of keys.NOTIFY_RETRY (booking/consumer._Pending)
    n: Notification
    tries: int


def library(redis: Redis, mode: str = "auto") -> Library:
    """The erasure's scripts, on the queue and booking preludes (their helpers and fields)."""
    queue = resources.files("queueing") / "lua"
    booking = resources.files("queueing.booking") / "lua"
    prelude = (queue / "prelude.lua").read_text() + "\n" + (booking / "prelude.lua").read_text()
    bodies = {name: ((booking if name == "erase_booking" else queue) / f"{name}.lua").read_text()
              for name in SCRIPTS}
    return Library(redis, "sbe", prelude, bodies, mode)


class EraseStore(Store):
    """``Store.run`` over the erasure's scripts."""

    def __init__(self, redis: Redis, mode: str = "auto") -> None:
        self.redis = redis
        self.scripts = library(redis, mode)


@dataclass(frozen=True, slots=True)
class Request:
    """Who to erase at ``site``: a phone number (as given) and/or a ticket and a booking."""

    site: str
    phone: str | None = None
    ticket: str | None = None
    booking: str | None = None
    cancel_open: bool = False  # cancel their open tickets and bookings too


class Eraser:
    """Erases one person at a time, per request. Safe to repeat: what is erased is not
    found again, so a second run answers zero counts."""

    def __init__(self, engine: Engine, bookings: BookingEngine, secret: str,
                 mode: str = "auto",
                 record: Callable[[str], Awaitable[object]] | None = None) -> None:
        self.engine = engine
        # Records the site's events not yet in the day log and the audit trail (the
        # server's StatsRecorder.record_site): run before entries are deleted, so an erasure
        # right after a step does not take the step out of either (neither holds the number).
        self.record = record
        self.bookings = bookings
        self.secret = secret  # keys the number's reference in the audit entry
        self.redis = engine.store.redis
        self.store = EraseStore(self.redis, mode)

    async def erase(self, req: Request, actor: Actor) -> dict[str, Any]:
        """Erase, then answer what was done (counts per kind) and the number's reference.
        Bad input (unknown site, ticket or booking, no number) is refused before anything
        changes."""
        site = req.site
        region = (await self.engine.config(site)).phone_region()  # unknown_site first
        # As every number was stored (queueing/phone.py); invalid_phone_number if none.
        number = None if req.phone is None else phone.normalise(req.phone, region)
        ref = reference(self.secret, site, number) if number else None
        named = await self._named(req, number, region)
        person, named = await self._find(site, named)
        # The numbers whose own keys go: the one given, and those the named records hold
        # (a ticket erased by id leaves no text-to-join memory of it, no rate limit).
        numbers = {number} if number else set()
        numbers |= await self._held(site, named, region)
        done: dict[str, int] = {"tickets": 0, "bookings": 0}
        # at_counter: open tickets cancel_open left to the counter that called them.
        cancelled = {"tickets": 0, "bookings": 0, "at_counter": 0}
        for kind, ids in (("tickets", person.tickets), ("bookings", person.bookings)):
            for oid in sorted(ids):
                r = await self._redact(site, kind, oid, person, named, actor)
                done[kind] += r["erased"]
                if req.cancel_open:
                    outcome = await self._cancel(kind, oid, actor)
                    if outcome is not None:
                        cancelled[outcome] += 1
        done |= await self._number_keys(site, sorted(numbers))
        done["links"] = await self._links(person)
        done["retries"] = await self._retries(site, person)
        audit = {"counts": done, "cancelled": cancelled, "reference": ref,
                 "erased_ticket": req.ticket, "erased_booking": req.booking}
        done["events"] = await self._events(site, person, audit, actor)
        return {"site": site, "erased": done, "cancelled": cancelled, "reference": ref}

    # -- finding ----------------------------------------------------------------------------

    async def _named(self, req: Request, number: str | None, region: str | None) -> Person:
        """The tickets and bookings the request names, each checked to exist at the site
        (a booking's check-in ticket comes with it)."""
        tickets, bookings = set(), set()
        if req.ticket is not None:
            if (keys.site_of_ticket(req.ticket) != req.site
                    or not await self.redis.exists(keys.ticket(req.site, req.ticket))):
                raise UnknownTicket(f"no ticket {req.ticket} at site {req.site}")
            tickets.add(req.ticket)
        if req.booking is not None:
            ticket = None
            if keys.site_of_ticket(req.booking) == req.site:
                ticket = await self.redis.hmget(  # type: ignore[misc]
                    _booking_key(req.site, req.booking), ["id", "ticket"])
            if not ticket or ticket[0] is None:
                raise UnknownBooking(f"no booking {req.booking} at site {req.site}")
            bookings.add(req.booking)
            if ticket[1]:
                tickets.add(ticket[1].decode())
        return Person(number, frozenset(tickets), frozenset(bookings), region)

    async def _held(self, site: str, named: Person, region: str | None) -> set[str]:
        """The numbers the named tickets and bookings hold (read before they are erased):
        their ``notify`` and a customer that is a number, each as every reading of it."""
        out: set[str] = set()
        for kind, ids in (("tickets", named.tickets), ("bookings", named.bookings)):
            for oid in ids:
                key = keys.ticket(site, oid) if kind == "tickets" else _booking_key(site, oid)
                for v in await self.redis.hmget(key, ["notify", "customer"]):  # type: ignore[misc]
                    if v and phone.looks_like(v.decode()):
                        out |= phone.readings(v.decode(), region)
        return out

    async def _find(self, site: str, named: Person) -> tuple[Person, Person]:
        """``named`` with every ticket and booking of the site that holds the number; and
        ``named`` with the records linked to one named or found — a booking's check-in
        ticket, a named ticket's booking (a ticket does not name its booking: the booking
        names its ``ticket``) — which are the person's whatever they hold."""
        if named.phone is None and not named.tickets:
            return named, named
        # One walk of the keyspace for both kinds (SCAN reads every key of the Redis,
        # whatever the pattern: a walk per kind cost a walk of every other site's keys).
        found = await self._site_keys(site)
        # A ticket holds the number for alerts or as its customer (a check-in copies the
        # booking's customer, which may be the number); a booking found brings the ticket
        # it was checked in as.
        tickets: set[str] = set()
        if named.phone is not None:
            tickets = {oid async for oid, f in self._scan(found["t"], ("notify", "customer"))
                       if named.number(f["notify"]) or named.number(f["customer"])}
        bookings: set[str] = set()
        linked: dict[str, set[str]] = {"tickets": set(), "bookings": set()}
        async for oid, f in self._scan(found["bk:b"], ("notify", "customer", "ticket")):
            if f["ticket"] in named.tickets:
                linked["bookings"].add(oid)
            elif named.number(f["notify"]) or named.number(f["customer"]):
                bookings.add(oid)
                if f["ticket"]:
                    linked["tickets"].add(f["ticket"])
        more = replace(named, tickets=named.tickets | linked["tickets"],
                       bookings=named.bookings | linked["bookings"])
        return replace(more, tickets=more.tickets | tickets,
                       bookings=more.bookings | bookings), more

    async def _site_keys(self, site: str) -> dict[str, list[bytes]]:
        """The keys of the site's tickets ("t") and bookings ("bk:b")."""
        p = keys.prefix(site).encode()
        out: dict[str, list[bytes]] = {"t": [], "bk:b": []}
        async for key in self.redis.scan_iter(match=keys.prefix(site) + "*", count=BATCH):
            kind, _, oid = key[len(p):].rpartition(b":")
            if oid and kind.decode() in out:
                out[kind.decode()].append(key)
        return out

    async def _scan(self, found: list[bytes], fields: tuple[str, ...]
                    ) -> AsyncIterator[tuple[str, dict[str, str | None]]]:
        """(id, fields) of each hash of ``found``, a batch of reads at a time."""
        for i in range(0, len(found), BATCH):
            for row in await self._read(found[i:i + BATCH], fields):
                yield row

    async def _read(self, batch: list[bytes], fields: tuple[str, ...]
                    ) -> list[tuple[str, dict[str, str | None]]]:
        pipe = self.redis.pipeline(transaction=False)
        for key in batch:
            pipe.hmget(key.decode(), list(fields))
        rows = await pipe.execute()
        return [(key.decode().rsplit(":", 1)[1],
                 {f: (v.decode() if v is not None else None) for f, v in zip(fields, row,
                                                                            strict=True)})
                for key, row in zip(batch, rows, strict=True)]

    # -- changing ---------------------------------------------------------------------------

    async def _redact(self, site: str, kind: str, oid: str, person: Person, named: Person,
                      actor: Actor) -> dict[str, Any]:
        """One ticket or booking, in its own script: by the number's stored spellings, or
        whatever it holds if it was named."""
        was_named = oid in (named.tickets if kind == "tickets" else named.bookings)
        spelt = "" if was_named else ",".join(await self._spelt(site, kind, oid, person))
        if kind == "tickets":
            return await self.store.run("erase_ticket", site, self.engine.clock(),
                                        actor.subject, actor.via, oid, spelt,
                                        ",".join(sorted(OPEN_STATES)))
        return await self.store.run("erase_booking", site, self.engine.clock(), actor.subject,
                                    actor.via, oid, spelt, alias(oid))

    async def _spelt(self, site: str, kind: str, oid: str, person: Person) -> list[str]:
        """How the number is written on the record (a stored spelling the script compares)."""
        key = keys.ticket(site, oid) if kind == "tickets" else _booking_key(site, oid)
        values = await self.redis.hmget(key, ["notify", "customer"])  # type: ignore[misc]
        return sorted({v.decode() for v in values if v and person.number(v.decode())})

    async def _cancel(self, kind: str, oid: str, actor: Actor) -> str | None:
        """Cancel an open ticket (reason ``by_staff``: at the person's request, by an
        admin) or booking; a ticket called or being served is left to its counter, and one
        already ended as it is. What was done (the answer's ``cancelled`` key), or None."""
        try:
            if kind == "tickets":
                t = await self.engine.ticket(oid)
                if t["status"] in AT_COUNTER:
                    return "at_counter"
                if t["status"] not in OPEN_STATES:
                    return None
                await self.engine.cancel(oid, actor, reason="by_staff")
                return kind
            b = await self.bookings.raw(oid)
            if b.get("status") not in OPEN_BOOKINGS:
                return None
            await self.bookings.cancel(oid, actor)
            return kind
        except (Conflict, NotFound):
            return None

    async def _number_keys(self, site: str, numbers: list[str]) -> dict[str, int]:
        """Keys named by the numbers: text to join's memory of each and its lock, the demo's
        outbox, verification codes and their day counts, rate-limit buckets."""
        p, counts = keys.prefix(site), {}
        every = [s for n in numbers for s in spellings(n)]
        if not every:
            return dict.fromkeys(("sms_numbers", "outbox", "codes", "rate_limits"), 0)
        kinds = {"sms_numbers": ("sms:num:{}", "sms:num:{}:lock"), "outbox": ("sms:out:{}",),
                 "codes": ("vf:{}", "vf:{}:day")}
        for kind, patterns in kinds.items():
            names = [p + pat.format(s) for pat in patterns for s in every]
            counts[kind] = int(await self.redis.delete(*names))
        buckets = [f"{keys.ROOT}:rl:{k}:{{site:{site}}}:{s}" for k in ("sms", "verify")
                   for s in every]
        counts["rate_limits"] = int(await self.redis.delete(*buckets))
        return counts

    async def _links(self, person: Person) -> int:
        """Short links (``/s/{code}``) to the person's ticket and booking pages: their
        targets carry the page's token."""
        targets = tuple(f"/ticket/{t}?".encode() for t in person.tickets) + tuple(
            f"/booking/{b}?".encode() for b in person.bookings)
        if not targets:
            return 0
        gone = 0
        async for chunk in _chunks(self.redis.scan_iter(match=keys.short_link("*"),
                                                        count=BATCH)):
            values = await self.redis.mget(chunk)
            doomed = [k for k, v in zip(chunk, values, strict=True)
                      if v is not None and v.startswith(targets)]
            if doomed:
                gone += int(await self.redis.delete(*doomed))
        return gone

    async def _retries(self, site: str, person: Person) -> int:
        """Notifications to the person waiting for another try (keys.NOTIFY_RETRY)."""
        gone = 0
        for raw in await self.redis.zrange(keys.NOTIFY_RETRY, 0, -1):
            n = msgspec.json.decode(raw, type=_Retry).n
            if n.site == site and (person.number(n.to) or n.ticket in person.tickets
                                   or n.booking in person.bookings):
                gone += int(await self.redis.zrem(keys.NOTIFY_RETRY, raw))
        return gone

    async def _events(self, site: str, person: Person, audit: dict[str, Any],
                      actor: Actor) -> int:
        """Delete the site's event entries that carry the person's data, then append the
        ``erased`` entry (with the count of entries deleted)."""
        if self.record is not None:
            await self.record(site)
        stream, start, doomed = keys.events(site), "-", []
        while True:
            rows = await self.redis.xrange(stream, start, "+", count=BATCH)
            for eid, fields in rows:
                raw = fields.get(b"d", b"{}")
                if person.entry(msgspec.json.decode(raw), raw):
                    doomed.append(eid.decode())
            if len(rows) < BATCH:
                break
            start = "(" + rows[-1][0].decode()
        gone = 0
        for i in range(0, len(doomed), BATCH):
            r = await self._run_events(site, actor, "", doomed[i:i + BATCH])
            gone += r["events"]
        audit["counts"] = {**audit["counts"], "events": gone}
        await self._run_events(site, actor, msgspec.json.encode(audit).decode(), [])
        return gone

    async def _run_events(self, site: str, actor: Actor, audit: str, ids: list[str]
                          ) -> dict[str, Any]:
        return await self.store.run("erase_events", site, self.engine.clock(), actor.subject,
                                    actor.via, audit, *ids)


def _booking_key(site: str, booking_id: str) -> str:
    return keys.prefix(site) + "bk:b:" + booking_id


async def _chunks(keys_: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for key in keys_:
        batch.append(key)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
