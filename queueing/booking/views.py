"""The public shape of bookings, slots and suspensions, built from what the store returns."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from queueing.booking.model import BookingStatus
from queueing.booking.rules import effective_status, qr_payload
from queueing.booking.schedule import Slot
from queueing.policy import promote_at
from queueing.tickets import iso

__all__ = ["booking", "iso", "notify_state", "slot", "suspension"]


def _list(value: Any) -> list[Any]:
    """Lua's cjson encodes an empty array as ``{}``."""
    if isinstance(value, str):
        value = msgspec.json.decode(value) if value else []
    return value if isinstance(value, list) else []


def booking(raw: dict[str, Any], tz: ZoneInfo, now_ms: int, grace_s: int,
            extra: dict[str, Any] | None = None,
            early_s: int | None = None, notify: bool = False) -> dict[str, Any]:
    """A booking as the API and the ``booking:{id}`` topic show it; ``status`` is the
    effective one at ``now_ms`` (a lapsed hold is ``expired`` before any job ran).

    With the policy's ``appointment_early_s`` (``early_s``), ``promote_at``: the moment an
    early check-in takes its appointment's place (``policy.promote_at``) — on a confirmed
    booking, "checked in before this, you wait in order of arrival until then"; on one
    checked in before it, when its ticket moves up (the person's page says which).

    ``notify``: with the number its texts go to (staff only: realtime/booking_api.py says
    who, docs/privacy.md). ``notify_state`` (no number): how the last text about it went —
    ``ok``, ``failed`` (the gateway refused it; ``status`` its HTTP status) or
    ``given_up`` — with ``at`` and the text's ``kind``: a wrong number shows."""
    extra = extra or {}
    status = effective_status(raw, now_ms, grace_s)
    out: dict[str, Any] = {
        "id": raw["id"], "site": raw.get("site", ""), "code": raw["code"],
        "status": status.value, "slot": raw["slot"], "service": raw["service"],
        "resource": raw["resource"], "start": iso(raw["start_ms"], tz),
        "end": iso(raw["end_ms"], tz), "customer": raw["customer"], "channel": raw["channel"],
        "created_at": iso(raw.get("created_ms"), tz),
        "qr": qr_payload(raw["id"], raw["code"]),
    }
    if status == BookingStatus.HELD:
        out["hold_until"] = iso(raw["hold_until"], tz)
    if status == BookingStatus.OFFERED:
        out["offer_until"] = iso(raw["offer_until"], tz)
    if raw.get("confirmed_ms"):
        out["confirmed_at"] = iso(raw["confirmed_ms"], tz)
    if raw.get("ticket"):
        out["ticket"] = raw["ticket"]
        out["checked_in_at"] = iso(raw.get("checked_in_ms"), tz)
        out["late"] = bool(raw.get("late"))
        t = extra.get("ticket")
        if isinstance(t, dict) and t.get("id") == raw["ticket"]:
            # Where the visit is now (a read of the booking: GET, the topic's snapshot), so
            # the person's page can say it is done, or that the ticket closed.
            out["ticket_number"], out["ticket_status"] = t.get("number"), t.get("status")
    if early_s:
        at = promote_at(int(raw["start_ms"]), early_s)
        checked_in_ms = int(raw.get("checked_in_ms") or 0)
        if status == BookingStatus.CONFIRMED or (
                raw.get("ticket") and not raw.get("late") and 0 < checked_in_ms < at):
            out["promote_at"] = iso(at, tz)
    if raw.get("order_ms") and raw["order_ms"] != raw["start_ms"]:
        # Kept after answering a suspension: the queue orders the ticket by this time.
        out["queue_order_at"] = iso(raw["order_ms"], tz)
    if notify and raw.get("notify"):
        out["notify"] = raw["notify"]
    if raw.get("nst"):
        out["notify_state"] = notify_state(str(raw["nst"]), tz)
    if extra.get("waitlist_position"):
        out["waitlist_position"] = extra["waitlist_position"]
    if raw.get("susp"):
        s = extra.get("suspension") or {}
        out["suspension"] = {
            "id": raw["susp"], "reason": s.get("reason"),
            "from": iso(s.get("from_ms"), tz), "until": iso(s.get("until_ms"), tz),
            "answered": bool(raw.get("answered")), "alternatives": _list(raw.get("alts")),
        }
    return out


def notify_state(nst: str, tz: ZoneInfo) -> dict[str, Any]:
    """``state|ms|kind[|status]`` (queueing/booking/delivery.py) as the view shows it."""
    state, _, rest = nst.partition("|")
    ms, _, rest = rest.partition("|")
    kind, _, status = rest.partition("|")
    out: dict[str, Any] = {"state": state, "at": iso(int(ms) if ms.isdigit() else None, tz),
                           "kind": kind}
    if status.isdigit():
        out["status"] = int(status)
    return out


def slot(s: Slot, remaining: int, tz: ZoneInfo) -> dict[str, Any]:
    return {"slot": s.id, "service": s.service, "resource": s.resource,
            "start": iso(s.start_ms, tz), "end": iso(s.end_ms, tz), "capacity": s.capacity,
            "remaining": remaining}


def suspension(raw: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    out = {"id": raw["id"], "resource": raw["resource"], "reason": raw["reason"],
           "from": iso(raw["from_ms"], tz), "until": iso(raw["until_ms"], tz),
           "created_at": iso(raw.get("created_ms"), tz)}
    if raw.get("lifted_ms"):
        out["lifted_at"] = iso(raw["lifted_ms"], tz)  # lifted: the period takes bookings
    return out
