"""Technician and job records as stored in Redis hashes, decoded; and their public views.

The hashes hold strings; numeric fields become numbers here (and in the Lua prelude's
``NUMERIC`` table, which lists the same names). Views decide what each audience may see: a
customer sees a technician's first name and position, never more.
"""

from __future__ import annotations

from typing import Any

import msgspec

NUMERIC = frozenset({
    "lat", "lon", "fix_ms", "spd", "acc", "duration_s", "win_start", "win_end", "priority",
    "created_ms", "offered_ms", "accepted_ms", "departed_ms", "arrived_ms", "ended_ms",
    "eta_ms", "offer_n", "deadline_ms", "rating", "home_lat", "home_lon", "max_jobs",
    "plan_lat", "plan_lon", "status_ms", "size", "brk_ms", "arrive_m",
    "ahead_ms"})


def _num(v: str) -> int | float | None:
    if v == "":
        return None
    f = float(v)
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def decode_hash(raw: dict[bytes, bytes] | dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in raw.items():
        key = k.decode() if isinstance(k, bytes) else k
        val = v.decode() if isinstance(v, bytes) else v
        out[key] = _num(val) if key in NUMERIC and isinstance(val, str) else val
    return out


def normalise(rec: dict[str, Any]) -> dict[str, Any]:
    """A record that came through Lua's cjson: '' for absent numbers becomes None."""
    return {k: (None if k in NUMERIC and v == "" else v) for k, v in rec.items()}


def csv(value: Any) -> list[str]:
    return [s for s in str(value or "").split(",") if s]


def job_view(j: dict[str, Any]) -> dict[str, Any]:
    """A job for dispatchers and the organisation that ordered it."""
    window = None
    if j.get("win_end"):
        window = {"start_ms": j.get("win_start"), "end_ms": j.get("win_end")}
    return {
        "id": j["id"], "status": j.get("status"), "lat": j.get("lat"), "lon": j.get("lon"),
        "address": j.get("address") or None, "skills": csv(j.get("skills")),
        "duration_s": j.get("duration_s"), "window": window, "priority": j.get("priority"),
        "org": j.get("org") or None, "batch": j.get("batch") or None,
        "customer": j.get("customer") or None, "note": j.get("note") or None,
        "technician": j.get("tech") or None, "eta_ms": j.get("eta_ms"),
        "offer_deadline_ms": j.get("deadline_ms"), "reason": j.get("reason") or None,
        "created_ms": j.get("created_ms"), "accepted_ms": j.get("accepted_ms"),
        "arrived_ms": j.get("arrived_ms"), "ended_ms": j.get("ended_ms"),
        # A manual "arrived": how far from the job the technician's GPS put it (null: by
        # geofence, or no fix near that moment).
        "arrive_m": j.get("arrive_m"),
    }


def tech_view(t: dict[str, Any]) -> dict[str, Any]:
    """A technician for dispatchers and for the technician itself."""
    return {
        "id": t["id"], "name": t.get("name"), "status": t.get("status"),
        "skills": csv(t.get("skills")), "zones": csv(t.get("zones")),
        "rating": t.get("rating"), "active_job": t.get("active") or None,
        "position": position(t),
        "home": {"lat": t.get("home_lat"), "lon": t.get("home_lon")},
        "shift": {"start": t.get("shift_start"), "end": t.get("shift_end")},
        # As put: without them a dispatcher could not read a technician back to edit it,
        # and a PUT of what GET showed dropped its breaks and job limit.
        "breaks": _breaks(t.get("breaks")), "max_jobs": t.get("max_jobs") or None,
    }


def _breaks(raw: Any) -> list[Any]:
    if not raw:
        return []
    out = msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw
    return list(out) if isinstance(out, list) else []


def position(t: dict[str, Any]) -> dict[str, Any] | None:
    if t.get("lat") is None:
        return None
    return {"lat": t["lat"], "lon": t["lon"], "t": t.get("fix_ms") or None}
