"""Human ticket numbers: a prefix and a counter per service per local day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_day(now_ms: int, timezone: str) -> str:
    """The site's calendar date at ``now_ms``; numbers restart when it changes (midnight)."""
    return datetime.fromtimestamp(now_ms / 1000, ZoneInfo(timezone)).date().isoformat()


def format_number(prefix: str, n: int) -> str:
    """``A`` and 7 → ``A007``; at least three digits, more when a day passes 999."""
    return f"{prefix}{n:03d}"
