"""The start-of-shift settle: one pass for a burst of technicians coming online.

A technician going online marks the whole region for a pass. At a shift start (25
technicians logging in at 08:00) the first arrival's pass sees one technician and offers it
every job waiting since the night; an outstanding offer is not moved (planning.pin), so the
first one online kept most of the morning's work. While other technicians due now are still
offline, the pass waits ``policy.online_settle_s`` instead: the arrivals within that time go
into it together (a recompute queued is a no-op to ask for again: dispatch/tasks.py). The
settle also holds any pass already running or queued (``HOLD_KEY``): it takes no work
before the settle ends.

Pure: the engine reads the technicians and the clock, and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.model import DispatchPolicy
from dispatch.planning import shift_of

# While a settle is under way its end (ms, the engine's clock) is in this region key (set
# by lua/action.lua with the log-in), and no pass takes work before it
# (dispatch/recompute.py ``Recomputer.settling``).
HOLD_KEY = "settle"
# A technician whose shift starts within this of now (before or after) is "due": a burst
# of log-ins is under way while any of them is still offline.
DUE_WITHIN_S = 600


def online_settle_s(now_ms: int, techs: Mapping[str, Mapping[str, Any]], tz: ZoneInfo,
                    policy: DispatchPolicy) -> float:
    """How long the pass asked for by a technician coming online should wait: the policy's
    settle while another technician due now is still offline, else 0 (at once)."""
    if policy.online_settle_s <= 0:
        return 0.0
    now_s = now_ms // 1000
    for t in techs.values():
        if t.get("status") != "offline" or _round_the_clock(t):
            continue
        start, _ = shift_of(t, now_s, tz)
        if abs(start - now_s) <= DUE_WITHIN_S:
            return float(policy.online_settle_s)
    return 0.0


def _round_the_clock(t: Mapping[str, Any]) -> bool:
    """No shift start to burst at (and its "start", today's midnight, is no log-in time)."""
    return (str(t.get("shift_start") or "00:00") == "00:00"
            and str(t.get("shift_end") or "24:00") == "24:00")
