"""Whether a site's numbers can answer its texts: the SMS desk (realtime/sms_api.py) is
there when its gateway posts texts to it. There is no setting for it (the gateway is a
partner token with the sms channel), so each text the desk receives marks the site for
``SEEN_S``; a text of the worker asks for a reply ("Reply 1 or 2") only to a phone number
at a site marked so. A desk set up and not yet texted: the texts ask for no reply.
"""

from __future__ import annotations

import logging
import re

from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing import keys

log = logging.getLogger("switchboard.notify")
SEEN_S = 30 * 86400
_E164 = re.compile(r"^\+[0-9]{6,15}$")  # a notify target that is a phone (not a push address)


def key(site: str) -> str:
    return keys.prefix(site) + "sms:desk"


async def mark(redis: Redis, site: str) -> None:
    """The desk of ``site`` received a text."""
    await redis.set(key(site), 1, ex=SEEN_S)


async def answers(redis: Redis, site: str, to: str) -> bool:
    """Whether ``to`` can answer a text of ``site`` by text (a number, and the site's desk
    received a text within ``SEEN_S``). Redis unreachable: False (the text asks nothing)."""
    if not _E164.match(to):
        return False
    try:
        return bool(await redis.exists(key(site)))
    except (RedisError, OSError) as exc:
        log.warning("sms desk of %s not read (%s)", site, exc)
        return False
