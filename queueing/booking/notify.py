"""Notifiers: how reminders and queue alerts reach people. Any SMS or push gateway plugs in
behind the webhook.

``Notifier`` is the interface: ``send`` delivers one ``Notification`` or raises
``NotifyFailed`` (the caller retries later). Each notification has a stable ``id``: a retry
sends the same id, so a gateway can drop duplicates (delivery is at least once).

``LogNotifier`` writes one JSON line per notification to the ``switchboard.notify`` log.
``WebhookNotifier`` POSTs the JSON to a URL, signed with HMAC-SHA256::

    X-Switchboard-Timestamp: <unix seconds>
    X-Switchboard-Signature: sha256=<hex HMAC(secret, "<timestamp>." + body)>
    X-Switchboard-Delivery:  <notification id>

The receiver recomputes the HMAC over the raw body, compares in constant time, and refuses
timestamps older than a few minutes (replays). ``verify_signature`` does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import msgspec

log = logging.getLogger("switchboard.notify")


class Notification(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str  # stable per notification: a retry carries the same id
    # booked (phone, window, web…), rebooked, booking_cancelled (by staff), reminder, offer,
    # suspended, issued (phone line), almost, turn, moved, no_show, no_show_back,
    # cancelled_by_staff, cancelled_day_closed, verify (a booking page's code)
    kind: str
    site: str
    to: str  # the SMS number or push endpoint the person left
    text: dict[str, str]  # per language
    at: str  # when it was made (ISO 8601, the site's local time with its offset: local_iso)
    # Until when it is still news (same form): a gateway that queues texts drops it after
    # this; the worker drops a retry that is no longer true before that (booking/fresh.py).
    valid_until: str | None = None
    booking: str | None = None
    ticket: str | None = None
    data: dict[str, Any] = {}
    # The language its person uses, when known (a number that texted the site wrote in it):
    # the gateway sends text[lang]. Otherwise it picks (the site's first language, say).
    lang: str | None = None


def local_iso(ms: int, tz: ZoneInfo | str) -> str:
    """``ms`` as a notification's ``at`` / ``valid_until``: ISO 8601 to the second in the
    site's time zone, with its offset ("2026-12-07T11:29:05+08:00")."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="seconds")


class NotifyFailed(Exception):
    """The gateway did not take the notification; try again later. ``status``: the
    webhook's HTTP status when it answered (None: unreachable)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        """A refusal trying again will not change (4xx but 408 and 429): a wrong number,
        a gateway that rejects the message. Tried for a while all the same, then given up."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in (
            408, 429)


class Notifier(Protocol):
    async def send(self, n: Notification) -> None: ...

    async def aclose(self) -> None: ...


class LogNotifier:
    """Writes notifications to the log (the default when no webhook is configured)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, n: Notification) -> None:
        log.info("notify %s", msgspec.json.encode(n).decode())
        self.sent.append(n)
        del self.sent[:-1000]

    async def aclose(self) -> None:
        return None


class OutboxNotifier(LogNotifier):
    """The demo's stand-in for an SMS gateway: each notification is logged and kept in a
    short list per recipient (``keys.sms_outbox``), which the demo's phone page shows. Only
    where no webhook is configured and the data is the demo's (``keys.DEMO``)."""

    KEEP, TTL_S = 50, 86400

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis

    async def send(self, n: Notification) -> None:
        from redis.exceptions import RedisError

        from queueing import keys
        key = keys.sms_outbox(n.site, n.to)
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(key, msgspec.json.encode(n))
        pipe.ltrim(key, -self.KEEP, -1)
        pipe.expire(key, self.TTL_S)
        try:
            await pipe.execute()
        except RedisError as exc:  # tried again later, as a gateway's refusal is
            raise NotifyFailed(f"outbox unreachable: {exc}") from exc
        await super().send(n)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, headers: dict[str, str], body: bytes, now_s: float,
                     tolerance_s: float = 300.0) -> bool:
    """What a receiver does with a webhook: True if signed with ``secret`` and recent."""
    ts = headers.get("x-switchboard-timestamp", "")
    given = headers.get("x-switchboard-signature", "")
    if not ts.isdigit() or abs(now_s - int(ts)) > tolerance_s:
        return False
    return hmac.compare_digest(given, sign(secret, ts, body))


class WebhookNotifier:
    """POSTs each notification as JSON to ``url``, signed with HMAC-SHA256."""

    def __init__(self, url: str, secret: str, timeout_s: float = 5.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.secret = secret
        self.client = client or httpx.AsyncClient(timeout=timeout_s)

    async def send(self, n: Notification) -> None:
        body = msgspec.json.encode(n)
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Switchboard-Timestamp": ts,
                   "X-Switchboard-Signature": sign(self.secret, ts, body),
                   "X-Switchboard-Delivery": n.id, "X-Switchboard-Kind": n.kind}
        try:
            r = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise NotifyFailed(f"webhook unreachable: {exc}") from exc
        if r.status_code >= 300:
            raise NotifyFailed(f"webhook answered {r.status_code}", r.status_code)

    async def aclose(self) -> None:
        await self.client.aclose()


def from_settings(url: str | None, secret: str | None, timeout_s: float) -> Notifier:
    if url:
        if not secret:
            raise ValueError("a notify webhook needs SWITCHBOARD_NOTIFY_WEBHOOK_SECRET")
        return WebhookNotifier(url, secret, timeout_s)
    return LogNotifier()
