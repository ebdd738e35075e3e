"""GPS fix validation: the pure reference of what ``lua/gps.lua`` decides.

A fix is rejected, with a reason code, when it is

- ``gps_future``: stamped more than ``max_future_s`` after the server's ``now``;
- ``gps_stale``: stamped more than ``max_age_s`` before it (the device offline-replay window:
  a device back after hours replays its buffer, but a fix from 1970 — a time in seconds
  where milliseconds are meant — is a device's bug, not a position). Checked by ``stale``
  before the script runs: it needs no stored state, so no race, and ``check`` (the script's
  reference) leaves it out;
- ``gps_out_of_order``: not newer than the last accepted fix (a late or repeated one);
- ``gps_too_fast``: it implies more than ``max_speed_kmh`` from the last accepted fix.
  A slack of 10 m plus the fix's reported accuracy (at most 100 m) is allowed first, so
  ordinary GPS jitter between close fixes is not mistaken for speed.

The Lua script applies the same rules in the same atomic step that stores the fix (so two
racing fixes cannot both pass against the same previous one); tests replay random fix
sequences through both and require identical decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.geo import haversine_m

FUTURE = "gps_future"
STALE = "gps_stale"
OUT_OF_ORDER = "gps_out_of_order"
TOO_FAST = "gps_too_fast"
MAX_ACCURACY_SLACK_M = 100.0
BASE_SLACK_M = 10.0


@dataclass(frozen=True, slots=True)
class Fix:
    t: int  # epoch ms on the device
    lat: float
    lon: float
    speed: float | None = None  # m/s as reported
    accuracy: float | None = None  # metres


def slack_m(accuracy: float | None) -> float:
    return BASE_SLACK_M + min(accuracy or 0.0, MAX_ACCURACY_SLACK_M)


def stale(fix: Fix, now_ms: int, max_age_s: int) -> bool:
    """Whether ``fix`` is older than the offline-replay window allows."""
    return fix.t < now_ms - max_age_s * 1000


def check(fix: Fix, last: Fix | None, now_ms: int, max_future_s: int,
          max_speed_kmh: float) -> str | None:
    """The reason ``fix`` is rejected, or None to accept it."""
    if fix.t > now_ms + max_future_s * 1000:
        return FUTURE
    if last is None:
        return None
    if fix.t <= last.t:
        return OUT_OF_ORDER
    moved = haversine_m((last.lat, last.lon), (fix.lat, fix.lon)) - slack_m(fix.accuracy)
    if moved > 0 and moved / ((fix.t - last.t) / 1000.0) > max_speed_kmh / 3.6:
        return TOO_FAST
    return None


def drift_reason(fix: Fix, planned_at: tuple[float, float] | None, job_eta_ms: int | None,
                 live_travel_s: int | None, gps_drift_m: float, eta_drift_s: float
                 ) -> str | None:
    """Whether an accepted fix should trigger a recompute, and why.

    En route to a job with a planned ETA: ``eta_drift`` when the live ETA (fix time + travel
    from here) differs from the planned one by more than ``eta_drift_s``. Otherwise
    ``gps_drift`` when the technician is more than ``gps_drift_m`` from where the last plan
    assumed it was.
    """
    if job_eta_ms is not None and live_travel_s is not None:
        live = fix.t + live_travel_s * 1000
        return "eta_drift" if abs(live - job_eta_ms) > eta_drift_s * 1000 else None
    if planned_at is not None:
        far = haversine_m(planned_at, (fix.lat, fix.lon)) > gps_drift_m
        return "gps_drift" if far else None
    return None
