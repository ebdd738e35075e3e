"""Slots from weekly templates and dated exceptions: pure, time zone passed in.

A slot is identified by its resource, service and UTC start (``dr-li.internal.
20251120T0200Z``), so an id is stable, readable, and names the day whose schedule defines it.
Times are wall-clock times of the site's zone: a session "09:00-12:00" starts at 09:00 local
time on both sides of a daylight-saving change. A slot lasts its ``slot_minutes`` of elapsed
time and starts whenever the clock shows one of the session's slot times: a start that does
not exist that day (the spring-forward gap) has no slot, one the clock shows twice (the
repeated hour of a fall-back) has two. A session runs until its end time last shows (or the
clock jumps past it), and its slots never overlap: a slot that would run into the next one or
past the session's end (only around a change, when the change is not a whole number of slots)
is left out. On any other day the slots are the wall-clock ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from queueing.booking.model import (
    WEEKDAYS,
    BookingConfig,
    ExtraSession,
    Quota,
    Session,
    minutes,
)

GENERAL = "g"  # the quota group of channels no quota names


@dataclass(frozen=True, slots=True)
class QuotaGroup:
    """One quota as it applies to one slot: ``reserved`` places for ``channels`` until
    ``release_ms``."""

    group: str
    channels: frozenset[str]
    reserved: int
    release_ms: int


@dataclass(frozen=True, slots=True)
class Slot:
    id: str
    resource: str
    service: str
    start_ms: int
    end_ms: int
    capacity: int
    quotas: tuple[QuotaGroup, ...] = ()

    def group_of(self, channel: str) -> str:
        """The quota group a booking from ``channel`` counts in."""
        return next((q.group for q in self.quotas if channel in q.channels), GENERAL)

    @property
    def groups(self) -> tuple[str, ...]:
        return (GENERAL, *(q.group for q in self.quotas))


def slot_id(resource: str, service: str, start_ms: int) -> str:
    stamp = datetime.fromtimestamp(start_ms / 1000, UTC).strftime("%Y%m%dT%H%MZ")
    return f"{resource}.{service}.{stamp}"


def parse_slot_id(value: str) -> tuple[str, str, int] | None:
    """``(resource, service, start_ms)`` of a slot id, or None if it is not one."""
    parts = value.split(".")
    stamp = parts[2] if len(parts) == 3 else ""
    if len(stamp) != 14 or stamp[8] != "T" or stamp[13] != "Z" or not (
            stamp[:8] + stamp[9:13]).isdigit():
        return None
    try:
        start = datetime(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[9:11]),
                         int(stamp[11:13]), tzinfo=UTC)
    except ValueError:
        return None
    return parts[0], parts[1], int(start.timestamp() * 1000)


def local_date(ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms / 1000, tz).date()


def instants(day: date, minute: int, tz: ZoneInfo) -> list[int]:
    """Epoch ms at which the clock shows ``minute`` minutes after local midnight of ``day``:
    none in a daylight-saving gap, two in the repeated hour, otherwise one."""
    d = day + timedelta(days=minute // 1440)
    m = minute % 1440
    first = datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=tz)
    second = first.replace(fold=1)
    a, b = int(first.timestamp() * 1000), int(second.timestamp() * 1000)
    if a == b:
        return [a]
    # fold 0 takes the offset before a change: earlier in an overlap, later in a gap
    return [a, b] if a < b else []


def passes(day: date, minute: int, tz: ZoneInfo) -> int:
    """Epoch ms at which the clock leaves ``minute`` after local midnight of ``day`` behind for
    good: its last occurrence, or for a time in a gap the jump over it."""
    at = instants(day, minute, tz)
    if at:
        return at[-1]
    d = day + timedelta(days=minute // 1440)
    m = minute % 1440
    wall = datetime(d.year, d.month, d.day, m // 60, m % 60)
    aware = wall.replace(tzinfo=tz)
    lo = int(aware.replace(fold=1).timestamp())  # the clock still shows less
    hi = int(aware.timestamp())  # it shows more
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) > wall:
            hi = mid
        else:
            lo = mid
    return hi * 1000


def quota_groups(quotas: Iterable[Quota], capacity: int, start_ms: int) -> tuple[QuotaGroup, ...]:
    """Each quota's reserved places (floor of share × capacity) and release time."""
    out = []
    for i, q in enumerate(quotas):
        reserved = math.floor(q.share * capacity + 1e-9)
        if reserved > 0:
            out.append(QuotaGroup(f"q{i}", frozenset(c.value for c in q.channels), reserved,
                                  start_ms - q.release_before_s * 1000))
    return tuple(out)


def _session_slots(resource: str, service: str, s: Session | ExtraSession, day: date, tz: ZoneInfo,
                   quotas: list[Quota]) -> Iterable[Slot]:
    first, last = minutes(s.start), minutes(s.end)
    length = s.slot_minutes * 60_000
    starts = sorted(at for m in range(first, last - s.slot_minutes + 1, s.slot_minutes)
                    for at in instants(day, m, tz))
    bounds = [*starts[1:], passes(day, last, tz)]
    for start, bound in zip(starts, bounds, strict=True):
        if start + length <= bound:
            yield Slot(slot_id(resource, service, start), resource, service, start,
                       start + length, s.capacity, quota_groups(quotas, s.capacity, start))


def day_slots(cfg: BookingConfig, day: date, tz: ZoneInfo) -> list[Slot]:
    """Every slot of local date ``day``, ordered by start, then resource and service.

    Templates apply on their weekdays within their validity; an exception closes the day
    for one resource (or all) and/or adds extra sessions. Where two sessions produce the
    same slot id the first wins.
    """
    iso = day.isoformat()
    weekday = WEEKDAYS[day.weekday()]
    exceptions = [e for e in cfg.exceptions if e.date == iso]
    closed_all = any(e.closed and e.resource is None for e in exceptions)
    closed = {e.resource for e in exceptions if e.closed and e.resource is not None}
    slots: dict[str, Slot] = {}
    if not closed_all:
        for t in cfg.templates:
            if weekday not in t.days or t.resource in closed:
                continue
            if (t.valid_from and iso < t.valid_from) or (t.valid_until and iso > t.valid_until):
                continue
            quotas = cfg.quotas if t.quotas is None else t.quotas
            for s in t.sessions:
                for slot in _session_slots(t.resource, t.service, s, day, tz, quotas):
                    slots.setdefault(slot.id, slot)
    for e in exceptions:
        for x in e.sessions:
            for slot in _session_slots(e.resource or "", x.service, x, day, tz, cfg.quotas):
                slots.setdefault(slot.id, slot)
    return sorted(slots.values(), key=lambda s: (s.start_ms, s.resource, s.service))


def find_slot(cfg: BookingConfig, value: str, tz: ZoneInfo) -> Slot | None:
    """The slot ``value`` names, if the schedule defines it."""
    parsed = parse_slot_id(value)
    if parsed is None:
        return None
    day = local_date(parsed[2], tz)
    return next((s for s in day_slots(cfg, day, tz) if s.id == value), None)


def slots_between(cfg: BookingConfig, from_ms: int, until_ms: int, tz: ZoneInfo) -> list[Slot]:
    """Every slot overlapping [from_ms, until_ms), in start order."""
    out: list[Slot] = []
    day = local_date(from_ms, tz) - timedelta(days=1)  # a slot may start the evening before
    last = local_date(until_ms, tz)
    while day <= last:
        out.extend(s for s in day_slots(cfg, day, tz) if s.start_ms < until_ms
                   and s.end_ms > from_ms)
        day += timedelta(days=1)
    return out
