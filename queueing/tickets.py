"""The public shape of a ticket, built from what the store returns."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from queueing import typed


def number_key(number: str) -> tuple[str, int] | None:
    """``A023``, ``a23``, ``A 023``, ``A-023`` and ``Ａ０２３`` (a Chinese input method's
    full-width forms) → ``("A", 23)``; None if it is no ticket number: what reception hears
    is compared by letters and value, not as text."""
    m = re.fullmatch(r"([A-Za-z]{1,3})([0-9]{1,9})", typed.compact(number))
    return (m.group(1).upper(), int(m.group(2))) if m else None


def iso(ms: Any, tz: ZoneInfo) -> str | None:
    """Epoch ms → ISO 8601 with the site's UTC offset (None stays None)."""
    if ms in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(ms) / 1000, tz).isoformat(timespec="seconds")


def public(raw: dict[str, Any], position: int | None, tz: ZoneInfo) -> dict[str, Any]:
    """A ticket as the API returns it (the holder, agents and admins see the same fields)."""
    out: dict[str, Any] = {
        "id": raw["id"],
        "site": raw.get("site", ""),
        "number": raw["number"],
        "service": raw["service"],
        "status": raw["status"],
        "priority": raw["priority"],
        "channel": raw["channel"],
        "position": position,
        "people_ahead": position - 1 if position else None,
        "counter": raw.get("counter") or None,
        "calls": int(raw.get("calls") or 0),
        "issued_at": iso(raw.get("issued_ms"), tz),
        "called_at": iso(raw.get("called_ms"), tz),
        "started_at": iso(raw.get("started_ms"), tz),
        "ended_at": iso(raw.get("ended_ms"), tz),
    }
    if raw.get("cancel_reason") and raw["status"] == "cancelled":
        out["cancel_reason"] = raw["cancel_reason"]
    if raw.get("outcome"):
        out["outcome"] = raw["outcome"]
    if raw.get("customer"):
        out["customer"] = raw["customer"]
    if raw.get("origin_service") and raw["origin_service"] != raw["service"]:
        out["transferred_from"] = raw["origin_service"]
    if raw.get("from_service"):
        # The service it was last transferred from (transferred_from: where it was issued).
        out["from_service"] = raw["from_service"]
    if raw.get("appointment_ms"):
        out["appointment_at"] = iso(raw["appointment_ms"], tz)
    if raw.get("promote_at_ms") and raw["status"] == "waiting":
        # An early check-in, waiting as a walk-in until then: its appointment's place after.
        out["promote_at"] = iso(raw["promote_at_ms"], tz)
    return out
