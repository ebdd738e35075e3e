"""Links to a person's own page, for what is sent to them (texts, reminders).

A page's own link carries its token (``/booking/{id}?token=…``, ~300 characters: five SMS
parts in Chinese). A text carries a short link instead, ``{public URL}/s/{code}``, which
redirects to it (``GET /s/{code}``, realtime/sms_api.py). A booking's short code is derived
from the booking id and the server's secret (HMAC), so every text about one booking —
reminders, an offered place, a suspension — carries the same link, and a retried text the
same words; it lasts until a day after the appointment ends, as the booking's token does.

Only with ``SWITCHBOARD_PUBLIC_URL``: a worker does not know the address people reach the
server at, and a link to ``127.0.0.1`` in a text would be worse than none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from redis.asyncio import Redis

from queueing import keys
from realtime.auth import make_token

DAY_S = 86400


def link_ttl_s(end_ms: int, now_ms: int, min_ttl_s: int) -> int:
    """``min_ttl_s``, and at least until a day after the appointment ends (a reminder's
    link must still open the page on the day)."""
    return max(min_ttl_s, (end_ms - now_ms) // 1000 + DAY_S)


def booking_token(secret: str, site: str, booking_id: str, end_ms: int, now_ms: int,
                  min_ttl_s: int) -> str:
    """A booking's own token (returned when it is made, and in its page's link)."""
    return make_token(secret, "booking", site=site, booking=booking_id,
                      ttl_s=link_ttl_s(end_ms, now_ms, min_ttl_s))


def booking_page(token: str, booking_id: str) -> str:
    return f"/booking/{booking_id}?token={token}"


def short_code(secret: str, what: str) -> str:
    """11 URL-safe characters (64 bits) of HMAC(secret, what): stable, not guessable."""
    mac = hmac.new(secret.encode(), f"short-link:{what}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:8]).decode().rstrip("=")


class Links:
    """Short links for the worker's texts (``None`` where no public URL is configured)."""

    def __init__(self, redis: Redis, secret: str, public_url: str | None,
                 min_ttl_s: int) -> None:
        self.redis = redis
        self.secret = secret
        self.base = (public_url or "").rstrip("/")
        self.min_ttl_s = min_ttl_s

    async def booking(self, b: dict[str, Any], now_ms: int) -> str | None:
        """The short link to booking ``b``'s page (its raw record: id, site, end_ms)."""
        if not self.base or not self.secret:
            return None
        end_ms = int(b["end_ms"])
        token = booking_token(self.secret, b["site"], b["id"], end_ms, now_ms, self.min_ttl_s)
        code = short_code(self.secret, f"booking:{b['id']}")
        await self.redis.set(keys.short_link(code), booking_page(token, b["id"]),
                             ex=link_ttl_s(end_ms, now_ms, self.min_ttl_s))
        return f"{self.base}/s/{code}"
