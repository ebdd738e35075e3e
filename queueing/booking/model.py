"""Booking data: the schedule document a site PUTs, and the bodies of booking requests.

msgspec Structs with ``forbid_unknown_fields``: the same types validate HTTP bodies, decode
what Redis holds and document the API (OpenAPI is built from them).
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

from queueing.errors import BadRequest
from queueing.model import PLAIN, Channel, Ident, Name, SiteConfig, Strict, Text

TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SlotId = Annotated[str, msgspec.Meta(min_length=5, max_length=160,
                                     pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.\d{8}T\d{4}Z$")]
Customer = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=PLAIN)]


class BookingStatus(enum.StrEnum):
    HELD = "held"  # a place is kept until hold_until (payment pending), then returns
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"  # in the slot's waitlist, no place yet
    OFFERED = "offered"  # a freed place is kept for it until offer_until
    CHECKED_IN = "checked_in"  # turned into a ticket
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # hold or offer not confirmed in time, or waitlist ended
    NO_SHOW = "no_show"  # no check-in by the end of the grace period


class Resource(Strict):
    """A doctor, a room or a counter group that serves some of the site's services."""

    id: Ident
    name: Name
    services: Annotated[list[Ident], msgspec.Meta(min_length=1)]


class Quota(Strict):
    """Part of every slot's capacity held for some channels until ``release_before_s``
    before the slot starts; then any channel may take it."""

    channels: Annotated[list[Channel], msgspec.Meta(min_length=1)]
    share: Annotated[float, msgspec.Meta(gt=0, le=1)]
    release_before_s: Annotated[int, msgspec.Meta(ge=0, le=90 * 86400)] = 86400


class Session(Strict):
    """Slots of ``slot_minutes`` from ``start`` to ``end`` (local wall-clock time)."""

    start: TimeOfDay
    end: TimeOfDay
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    slot_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15


class Template(Strict):
    """A weekly schedule of one resource for one service."""

    resource: Ident
    service: Ident
    days: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    sessions: Annotated[list[Session], msgspec.Meta(min_length=1, max_length=24)]
    # Channel quotas of this template's slots; None = the schedule's default ``quotas``.
    quotas: list[Quota] | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None


class ExtraSession(Strict):
    """An extra session on one date (an exception), for one service."""

    service: Ident
    start: TimeOfDay
    end: TimeOfDay
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    slot_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15


class ScheduleException(Strict):
    """A date that differs from the weekly templates: a holiday (``closed``) and/or extra
    sessions. ``resource`` None = every resource (only with ``closed``)."""

    date: Day
    resource: Ident | None = None
    closed: bool = False
    reason: Text | None = None
    sessions: Annotated[list[ExtraSession], msgspec.Meta(max_length=24)] = (
        msgspec.field(default_factory=list))


class BookingPolicy(Strict):
    hold_ttl_s: Annotated[int, msgspec.Meta(ge=1, le=86400)] = 600
    max_open_bookings: Annotated[int, msgspec.Meta(ge=1, le=100)] = 3
    # A freed place offered to the next on a slot's waitlist is kept this long for it.
    offer_ttl_s: Annotated[int, msgspec.Meta(ge=1, le=7 * 86400)] = 900
    # Reminders this many seconds before the start (defaults: 1 day and 2 hours).
    reminders_s: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=30 * 86400)]],
                           msgspec.Meta(max_length=6)] = msgspec.field(
        default_factory=lambda: [86400, 7200])
    early_check_in_s: Annotated[int, msgspec.Meta(ge=0, le=86400)] = 3600
    grace_s: Annotated[int, msgspec.Meta(ge=0, le=86400)] = 900
    # Checked in earlier than this before the start, a booked person waits as a walk-in from
    # the check-in (queueing/policy.keeps_appointment): a class outranks any time, so an hour
    # early they would otherwise go ahead of every walk-in already waiting.
    appointment_early_s: Annotated[int, msgspec.Meta(ge=0, le=86400)] = 600
    # After the grace period a late arrival becomes a walk-in (same local day) or is refused.
    late_walk_in: bool = True
    horizon_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 30
    # Booking closes this long before a slot starts.
    book_until_s: Annotated[int, msgspec.Meta(ge=0, le=30 * 86400)] = 0
    ticket_priority: Ident = "appointment"
    # On a suspension, an accepted alternative keeps the original appointment time as the
    # queue-order reference (the person keeps their place in line).
    keep_place: bool = True
    alternatives: Annotated[int, msgspec.Meta(ge=1, le=20)] = 3
    # Quiet hours ``[from, until]`` (site-local, e.g. ["21:00", "08:00"], wrapping midnight):
    # reminders, offers and texts that can wait are sent when they end (queueing/booking/
    # quiet.py). None: texts go at any hour.
    quiet_hours: Annotated[list[TimeOfDay], msgspec.Meta(
        min_length=2, max_length=2,
        description="[from, until] site-local: texts that can wait are sent when they end "
                    "(reminders, waiting-list offers, whose time to answer starts then; "
                    "suspensions and staff cancellations unless the appointment is within "
                    "3 hours of their end); null: none")] | None = None


class BookingConfig(Strict):
    resources: Annotated[list[Resource], msgspec.Meta(min_length=1, max_length=1000)]
    templates: Annotated[list[Template], msgspec.Meta(max_length=5000)] = (
        msgspec.field(default_factory=list))
    exceptions: Annotated[list[ScheduleException], msgspec.Meta(max_length=5000)] = (
        msgspec.field(default_factory=list))
    # Default channel quotas of every template's slots.
    quotas: Annotated[list[Quota], msgspec.Meta(max_length=8)] = (
        msgspec.field(default_factory=list))
    policy: BookingPolicy = msgspec.field(default_factory=BookingPolicy)

    def resource(self, resource_id: str) -> Resource | None:
        return next((r for r in self.resources if r.id == resource_id), None)


def validate_booking(cfg: BookingConfig, site: SiteConfig) -> None:
    """Checks that need the whole document and the site: references, quotas, times."""
    try:
        msgspec.convert(msgspec.to_builtins(cfg), BookingConfig)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc)) from exc
    ids = [r.id for r in cfg.resources]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise BadRequest(f"duplicate resource ids: {', '.join(dupes)}", field="resources")
    services = {s.id for s in site.services}
    for r in cfg.resources:
        for s in r.services:
            if s not in services:
                raise BadRequest(f"resource {r.id!r} names unknown service {s!r}",
                                 field="resources")
    q = cfg.policy.quiet_hours
    if q is not None and minutes(q[0]) % 1440 == minutes(q[1]) % 1440:
        raise BadRequest("policy.quiet_hours: from and until are the same time (no quiet "
                         "hours: null)", field="policy")
    if site.class_rank(cfg.policy.ticket_priority) is None:
        raise BadRequest("policy.ticket_priority is not a priority class of the site",
                         field="policy")
    _check_quotas(cfg.quotas, "quotas")
    for i, t in enumerate(cfg.templates):
        _check_served(cfg, t.resource, t.service, f"templates[{i}]")
        _check_sessions(t.sessions, f"templates[{i}]")
        if t.quotas is not None:
            _check_quotas(t.quotas, f"templates[{i}].quotas")
        if t.valid_from and t.valid_until and t.valid_from > t.valid_until:
            raise BadRequest("valid_from is after valid_until", field=f"templates[{i}]")
    for i, e in enumerate(cfg.exceptions):
        where = f"exceptions[{i}]"
        if e.resource is not None and cfg.resource(e.resource) is None:
            raise BadRequest(f"unknown resource {e.resource!r}", field=where)
        if e.sessions and e.resource is None:
            raise BadRequest("extra sessions need a resource", field=where)
        for extra in e.sessions:
            _check_served(cfg, e.resource or "", extra.service, where)
        _check_sessions(e.sessions, where)
        _check_date(e.date, where)


def _check_served(cfg: BookingConfig, resource: str, service: str, where: str) -> None:
    r = cfg.resource(resource)
    if r is None:
        raise BadRequest(f"unknown resource {resource!r}", field=where)
    if service not in r.services:
        raise BadRequest(f"resource {resource!r} does not serve {service!r}", field=where)


def _check_sessions(sessions: list[Session] | list[ExtraSession], where: str) -> None:
    for s in sessions:
        if minutes(s.end) - minutes(s.start) < s.slot_minutes:
            raise BadRequest(f"session {s.start}-{s.end} is shorter than one slot",
                             field=where)


def _check_quotas(quotas: list[Quota], where: str) -> None:
    seen: set[str] = set()
    for q in quotas:
        for ch in q.channels:
            if ch.value in seen:
                raise BadRequest(f"channel {ch.value} is in two quotas", field=where)
            seen.add(ch.value)
    if sum(q.share for q in quotas) > 1.0 + 1e-9:
        raise BadRequest("quota shares add up to more than 1", field=where)


def _check_date(day: str, where: str) -> None:
    from datetime import date
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise BadRequest(f"invalid date {day!r}", field=where) from exc


def minutes(hhmm: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` → 1440."""
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


# -- request bodies ----------------------------------------------------------------------

class BookingRequest(Strict):
    slot: SlotId
    customer: Customer
    channel: Channel
    # Keep the place for the site's hold_ttl_s until confirmed (e.g. payment pending).
    hold: bool = False
    # If the slot is full, join its waitlist instead of being refused.
    waitlist: bool = False
    # Where reminders and queue alerts go (an SMS number or push endpoint).
    notify: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    # The language the person chose on the page ("en", "zh-CN"): its texts go in it when
    # the site speaks it (queueing/booking/langs.py); otherwise as before.
    lang: Annotated[str, msgspec.Meta(
        pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$",
        description="the page's language for the texts (one the site does not speak: "
                    "as without it)")] | None = None


class RescheduleRequest(Strict):
    slot: SlotId


class CheckInRequest(Strict):
    # The booking code (``K7M2QX``) or the QR payload (``SBK1:{booking id}:{code}``).
    code: Annotated[str, msgspec.Meta(min_length=4, max_length=200)]
    # Where the person checks in; default by token: kiosk, window (agent), app (booking).
    channel: Channel | None = None


class SuspendRequest(Strict):
    # ISO 8601 with offset (``2025-11-20T10:00:00+08:00``).
    from_: Annotated[str, msgspec.Meta(min_length=10, max_length=40)] = msgspec.field(
        name="from")
    until: Annotated[str, msgspec.Meta(min_length=10, max_length=40)]
    reason: Text
