"""The audit trail: who did what to which ticket or booking, kept for weeks.

Pure: turns one entry of a site's event stream into ``(local day, score, record)``. The
server appends the record in the same Lua step as the day log's (queueing/lua/record.lua),
through the ``stats`` consumer group, so each event is recorded once however many processes
consume; it lasts ``audit_keep_days`` (the stream itself is trimmed after minutes).

A record is short JSON with only the keys that have a value:

    o  stream offset (unique; the order)     t  time of the change, epoch ms
    k  event type, as in the stream           a  actor: the token subject that did it
    v  via: the channel of the request        id ticket or booking id
    n  ticket number                          s  service (after a transfer: the new one)
    c  counter                                f  the state it left (or the counter's)
    r  reason (a cancel's, an automatic no-show's ``auto``)
    fs service transferred from               ret  1: a no-show that went back in the queue
    x  1: called by number, not call-next     ch / p  issue channel / priority class
    ap a booked ticket's appointment (ms)     ud / uo  what an undo took back / its offset
    on notify set (1) or stopped (0)          res / at  a booking's resource / start (ms)
    tk ticket a check-in issued               sus  suspension id
    cl / kept  tickets a day close ended / left open
    cnt  an erasure's counts (what it removed, by kind)
    had  a booking's text number: 1 if it had one before the change (``on``: after)
    restored  bookings a lifted suspension gave back their time

It never holds a phone number, a name, a booking's customer or code, or free text someone
typed (a completion's outcome, a suspension's reason): the fact of a change, not its content.

Tickets are filed under the local day they were issued (the date on the slip, as the day
log), everything else under the local day of the change.
"""

from __future__ import annotations

from typing import Any

from queueing.numbering import local_day
from queueing.tickets import number_key

# Events of the stream the trail keeps. Not kept: reminders sent and the booking schedule's
# versions (nobody's act on a ticket or booking).
TICKET_EVENTS = frozenset({
    "issued", "called", "recalled", "started", "completed", "no_show", "parked", "unparked",
    "transferred", "cancelled", "notify_set", "undone", "promoted"})
BOOKING_EVENTS = frozenset({
    "booking_held", "booking_confirmed", "booking_waitlisted", "booking_offered",
    "booking_rescheduled", "booking_cancelled", "booking_checked_in", "booking_suspended",
    "booking_expired", "booking_no_show", "booking_unsuspended", "booking_notify"})
SITE_EVENTS = frozenset({
    "counter_open", "counter_paused", "counter_closed", "day_closed", "site_updated",
    "resource_suspended", "resource_unsuspended", "erased"})


def score(offset: str) -> int:
    """The stream offset ``ms-seq`` as one integer that sorts like it (a sorted set's score:
    exact below 2**53). ``seq`` past 999 (a thousand steps of one site in one millisecond)
    shares the score ``ms·1000+999``: such records sort among themselves by their JSON, and
    a reader's cursor counts the records of its score it passed
    (realtime/audit_api.read_page), so none is skipped or shown twice."""
    ms, _, seq = offset.partition("-")
    return int(ms) * 1000 + min(int(seq or 0), 999)


def audit_for(kind: str, data: dict[str, Any], offset: str, ts: int, actor: str, via: str,
              timezone: str) -> tuple[str, dict[str, Any]] | None:
    """The audit record of one event, with the local day it is filed under; None if the
    trail does not keep this kind."""
    base = _drop({"o": offset, "t": ts, "k": kind, "a": actor, "v": via})
    if kind in TICKET_EVENTS:
        t = data.get("ticket")
        if not isinstance(t, dict) or not t.get("id"):
            return None
        day = local_day(int(t.get("issued_ms") or ts), timezone)
        return day, base | _drop(_ticket(kind, data, t))
    if kind in BOOKING_EVENTS:
        b = data.get("booking")
        if not isinstance(b, dict) or not b.get("id"):
            return None
        return local_day(ts, timezone), base | _drop(_booking(kind, data, b))
    if kind in SITE_EVENTS:
        return local_day(ts, timezone), base | _drop(_site(kind, data))
    return None


def _ticket(kind: str, data: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": t["id"], "n": t.get("number"), "s": t.get("service"),
                           "c": data.get("counter"), "f": data.get("from")}
    if kind == "issued":
        # The class and a booking's time: what "someone after me went first" turns on.
        rec |= {"ch": t.get("channel"), "p": t.get("priority"), "f": None,
                "ap": int(t.get("appointment_ms") or 0) or None}
    elif kind == "promoted":
        # An early check-in taking its appointment's place (policy.plan_promotion).
        rec |= {"p": t.get("priority"), "f": data.get("from_priority"),
                "ap": int(t.get("appointment_ms") or 0) or None}
    elif kind == "undone":
        rec |= {"ud": data.get("undid"), "uo": data.get("undid_offset")}
    elif kind == "called":
        rec["x"] = 0 if data.get("next", True) else 1
    elif kind == "no_show":
        rec |= {"ret": 1 if data.get("returned") else 0, "r": "auto" if data.get("auto") else None}
    elif kind == "cancelled":
        rec["r"] = data.get("reason")
    elif kind == "transferred":
        rec |= {"s": data.get("to_service") or t.get("service"), "fs": data.get("from_service")}
    elif kind == "notify_set":
        rec["on"] = 1 if t.get("notify") else 0  # the fact, never the number
    return rec


def _booking(kind: str, data: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": b["id"], "s": b.get("service"), "res": b.get("resource"),
                           "at": b.get("start_ms") or None, "f": data.get("from")}
    if kind == "booking_rescheduled":
        moved = data["from"] if isinstance(data.get("from"), dict) else {}
        rec |= {"f": None, "fr": moved.get("resource"), "fat": moved.get("start_ms")}
    elif kind == "booking_checked_in":
        rec |= {"tk": data.get("ticket_id"), "n": data.get("number")}
    elif kind in ("booking_suspended", "booking_unsuspended"):
        rec["sus"] = (data.get("suspension") or {}).get("id")
    elif kind == "booking_notify":  # who changed the text number: the fact, never the number
        rec |= {"had": 1 if data.get("had") else 0, "on": 1 if data.get("has") else 0}
    return rec


def _site(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind.startswith("counter_"):
        return {"c": data.get("counter"), "f": data.get("from")}
    if kind == "day_closed":
        return {"cl": data.get("closed"), "kept": data.get("kept")}
    if kind == "erased":  # who erased a person's data, and how much: not the keyed hash
        counts = data["counts"] if isinstance(data.get("counts"), dict) else {}
        return {"id": data.get("erased_ticket") or data.get("erased_booking"),
                "cnt": {k: v for k, v in counts.items() if v} or None}
    if kind in ("resource_suspended", "resource_unsuspended"):
        s = data.get("suspension") or {}
        rec = {"sus": s.get("id"), "res": s.get("resource"), "at": s.get("from_ms"),
               "until": s.get("until_ms")}
        if kind == "resource_unsuspended":
            rec["restored"] = data.get("restored")
        return rec
    return {}


def _drop(rec: dict[str, Any]) -> dict[str, Any]:
    """Without the keys that say nothing (None, '', 0 flags): records stay short."""
    return {k: v for k, v in rec.items() if v not in (None, "", 0) or k == "t"}


class Filter:
    """Which records a query wants (all given conditions hold)."""

    __slots__ = ("_key", "actor", "counter", "event", "number", "ticket")

    def __init__(self, ticket: str = "", number: str = "", actor: str = "", counter: str = "",
                 event: str = "") -> None:
        self.ticket, self.number = ticket, number.upper()
        # "A20" finds A020, as the console's find and /tickets?number= do.
        self._key = number_key(number) if number else None
        self.actor, self.counter, self.event = actor, counter, event

    def __call__(self, rec: dict[str, Any]) -> bool:
        return ((not self.ticket or rec.get("id") == self.ticket or rec.get("tk") == self.ticket)
                and (not self.number or self._same_number(str(rec.get("n") or "")))
                and (not self.actor or rec.get("a") == self.actor)
                and (not self.counter or rec.get("c") == self.counter)
                and (not self.event or rec.get("k") == self.event))


    def _same_number(self, n: str) -> bool:
        if self._key is None:
            return n.upper() == self.number
        return number_key(n) == self._key


EVENTS = TICKET_EVENTS | BOOKING_EVENTS | SITE_EVENTS


_LONG = {"o": "offset", "t": "at_ms", "k": "event", "a": "actor", "v": "via", "id": "id",
         "n": "number", "s": "service", "c": "counter", "f": "from", "r": "reason",
         "fs": "from_service", "ret": "returned", "x": "by_number", "ch": "channel",
         "p": "priority", "on": "notify", "res": "resource", "at": "start_ms",
         "fr": "from_resource", "fat": "from_start_ms", "tk": "ticket", "sus": "suspension",
         "cl": "closed", "kept": "kept", "until": "until_ms", "cnt": "counts",
         "ap": "appointment_ms", "ud": "undid", "uo": "undid_offset", "had": "had_notify"}
_FLAGS = ("ret", "x", "on", "had")


def public(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as the API answers it: readable names, flags as booleans."""
    out = {_LONG.get(k, k): (bool(v) if k in _FLAGS else v) for k, v in rec.items()}
    for flag in _FLAGS:  # a dropped 0 flag is false, where the event has the flag
        if flag not in rec and _has_flag(rec.get("k", ""), flag):
            out[_LONG[flag]] = False
    return out


def _has_flag(kind: str, flag: str) -> bool:
    return {"ret": kind == "no_show", "x": kind == "called",
            "on": kind in ("notify_set", "booking_notify"), "had": kind == "booking_notify"}[flag]
