"""A number's opt-out from a site's texts: STOP / UNSUBSCRIBE / 退订 / TD sets it, START /
UNSTOP / 订阅 clears it (realtime/sms_api.py; the words: queueing/sms.py).

While it is set, no text the worker sends goes to that number from that site: a ticket's
alerts, a booking's confirmations, offers, suspensions, reminders (each is counted as
dropped, ``stale:<kind>:opted_out``, on /metrics: queueing/booking/delivery.py). Not
blocked: the reply to the text itself (an answer to the person, as the CTIA allows for the
opt-out's confirmation), and a one-time code a booking page texts when the person asks for it
there and then (realtime/verify.py).

A number typed at a kiosk or given for a booking does not clear it: whoever types a number
need not hold the phone. Only a text from the phone itself (START) does.

Kept per site in one hash, ``sb:{site:S}:sms:optout``, field: a digest of the number in
E.164 (not the number in clear), value: when it was set (ms). It is not erased with the
person's other data (queueing/erase.py deletes ``sms:num:<number>``, not this): erasing it
would start texting someone who asked for no texts. It goes with the site. See
docs/privacy.md.
"""

from __future__ import annotations

import hashlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing import keys

log = logging.getLogger("switchboard.notify")


def key(site: str) -> str:
    return keys.prefix(site) + "sms:optout"


def digest(number: str) -> str:
    """The number's field: a digest, so a dump of the hash lists no numbers in clear."""
    return hashlib.sha256(f"optout\0{number}".encode()).hexdigest()[:32]


async def stop(redis: Redis, site: str, number: str, now_ms: int) -> None:
    """``number`` (E.164) gets no more texts from ``site``."""
    await redis.hset(key(site), digest(number), str(now_ms))  # type: ignore[misc]


async def start(redis: Redis, site: str, number: str) -> bool:
    """``number`` gets texts again; whether it had opted out."""
    return bool(await redis.hdel(key(site), digest(number)))  # type: ignore[misc]


async def blocked(redis: Redis, site: str, to: str) -> bool:
    """Whether a text to ``to`` from ``site`` must not go. Redis unreachable: False (the
    text goes, as a retry's check does; the worker reads its events from the same Redis)."""
    try:
        return bool(await redis.hexists(key(site), digest(to)))  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        log.warning("opt-out of a number at %s not read (%s): the text goes", site, exc)
        return False
