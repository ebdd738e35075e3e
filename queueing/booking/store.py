"""The booking store: one Lua script per booking change, on the queue store's machinery.

The booking library is queueing/lua/prelude.lua + queueing/booking/lua/prelude.lua and one
body per script (queueing/luafn.py), so the scripts share the queue's helpers (``emit`` to
the site's stream, ``fail``/``ok``, tickets). Check-in also embeds queueing/lua/issue.lua,
wrapped as a function, so marking the booking checked in and issuing its ticket are one
atomic step made by the very code that issues every other ticket.
"""

from __future__ import annotations

from importlib import resources

from redis.asyncio import Redis

from queueing.luafn import Library
from queueing.store import Store

SCRIPTS = ("book", "confirm", "cancel", "reschedule", "checkin", "fire", "get", "avail",
           "affected", "suspend", "suspension", "put_config", "day", "set_notify",
           "lift", "suspensions", "spmigrate")
READ_ONLY = ("get", "avail", "affected", "suspension", "day",
             "suspensions")  # answered when Redis refuses writes


def body(name: str) -> str:
    mine = resources.files("queueing.booking") / "lua"
    text = (mine / f"{name}.lua").read_text()
    if name == "checkin":
        # issue.lua reads ARGV[4..16] and returns ok(...) or fail(...): inside a function
        # its returns become the function's result.
        issue = (resources.files("queueing") / "lua" / "issue.lua").read_text()
        text = f"local function issue_ticket()\n{issue}\nend\n{text}"
    return text


def library(redis: Redis, mode: str = "auto") -> Library:
    queue = resources.files("queueing") / "lua"
    mine = resources.files("queueing.booking") / "lua"
    prelude = (queue / "prelude.lua").read_text() + "\n" + (mine / "prelude.lua").read_text()
    return Library(redis, "sbb", prelude, {name: body(name) for name in SCRIPTS}, mode,
                   read_only=READ_ONLY)


class BookingStore(Store):
    """``Store.run`` (error mapping, the site's stream as KEYS[1]) over the booking scripts."""

    def __init__(self, redis: Redis, mode: str = "auto") -> None:
        # Not Store.__init__: the queue's own scripts are not needed here.
        self.redis = redis
        self.scripts = library(redis, mode)
