"""Human ticket numbers: a prefix and a sequence per service that restarts each local day.

A sequence restarts with the day's first ticket only if no ticket the service numbered on an
earlier day is still open; otherwise it goes on (queueing/lua/issue.lua), so no two open
tickets hold the same number.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_day(now_ms: int, timezone: str) -> str:
    """The site's calendar date at ``now_ms``; numbers may restart when it changes (midnight)."""
    return datetime.fromtimestamp(now_ms / 1000, ZoneInfo(timezone)).date().isoformat()


def format_number(prefix: str, n: int) -> str:
    """``A`` and 7 → ``A007``; at least three digits, more when a sequence passes 999."""
    return f"{prefix}{n:03d}"
