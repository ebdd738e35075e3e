"""Rate limits on the HTTP API for tokens that sit in public places.

A kiosk token is in the kiosk page's URL (and in apps and SMS gateways): whoever reads it
can take tickets, book and check in. Without a limit one such token issued ~200 tickets a
second, filling a hall's board with fakes, and guessed 6-letter booking codes at the same
pace (a hit checks a stranger in and names their booking). Two budgets, shared by every
server process through Redis:

- ``SWITCHBOARD_KIOSK_RATE_PER_MIN`` / ``_BURST``: tickets, bookings and check-ins per kiosk
  token subject, client address and site (0: no limit, e.g. for a load test);
- ``SWITCHBOARD_CHECKIN_FAILURES_PER_MIN``: check-ins whose code matched no booking of the
  caller, per token subject, client address and site (admins excepted; 0: no limit).

Counted per subject *and address* (``caller``): kiosks made without ``--subject`` share one
subject, and whoever copied the token must not be able to spend the budget of every kiosk
in the hall; each kiosk (and each phone using an app's token) has its own address. Behind a
reverse proxy every client has the proxy's address, and the budget is then per subject.

Past either, the answer is ``429 rate_limited`` with ``Retry-After`` and nothing is done.
The algorithm is GCRA (a token bucket in one Redis key: the theoretical arrival time).
"""

from __future__ import annotations

import math
import time

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from queueing.errors import RateLimited
from queueing.keys import ROOT

# KEYS[1]: the bucket; ARGV: now (ms), interval (ms per request), burst, charge (0 or 1).
# Answers 0 if a request is allowed now (and, with charge, counts it), else the ms to wait.
GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new = tat + interval
local wait = new - interval * burst - now
if wait > 0 then return math.ceil(wait) end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil(new - now) + 1000)
end
return 0
"""


def caller(request: HTTPConnection, subject: str) -> str:
    """Who spends a budget: the token's subject at the client's address."""
    return f"{subject}@{request.client.host if request.client else '-'}"


def key(kind: str, site: str, subject: str) -> str:
    return f"{ROOT}:rl:{kind}:{{site:{site}}}:{subject}"


async def take(redis: Redis, kind: str, site: str, subject: str, per_min: int, burst: int,
               charge: bool = True, what: str = "requests") -> None:
    """Count one request against the bucket (or, without ``charge``, only check that one
    more would pass); ``RateLimited`` if the budget is spent. ``per_min`` 0: no limit."""
    if per_min <= 0:
        return
    interval_ms = 60_000 / per_min
    script = redis.register_script(GCRA)  # EVALSHA; the script is sent only once
    wait_ms = int(await script(keys=[key(kind, site, subject)],
                               args=[int(time.time() * 1000), interval_ms, max(1, burst),
                                     "1" if charge else "0"]))
    if wait_ms > 0:
        retry = max(1, math.ceil(wait_ms / 1000))
        raise RateLimited(f"too many {what} from this token; retry in {retry} s",
                          retry_after_s=retry, limit_per_min=per_min)
