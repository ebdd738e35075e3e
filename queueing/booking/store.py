"""The booking store: one Lua script per booking change, on the queue store's machinery.

Scripts are queueing/lua/prelude.lua + queueing/booking/lua/prelude.lua + the script, so
they share the queue's helpers (``emit`` to the site's stream, ``fail``/``ok``, tickets).
Check-in also embeds queueing/lua/issue.lua, wrapped as a function, so marking the booking
checked in and issuing its ticket are one atomic step made by the very code that issues
every other ticket.
"""

from __future__ import annotations

from importlib import resources

from redis.asyncio import Redis

from queueing.store import Store

SCRIPTS = ("book", "confirm", "cancel", "reschedule", "checkin", "fire", "get", "avail",
           "affected", "suspend", "suspension", "put_config")


def load(name: str) -> str:
    queue = resources.files("queueing") / "lua"
    mine = resources.files("queueing.booking") / "lua"
    parts = [(queue / "prelude.lua").read_text(), (mine / "prelude.lua").read_text()]
    if name == "checkin":
        # issue.lua reads ARGV[4..15] and returns ok(...) or fail(...): inside a function
        # its returns become the function's result.
        parts.append("local function issue_ticket()\n" + (queue / "issue.lua").read_text()
                     + "\nend")
    parts.append((mine / f"{name}.lua").read_text())
    return "\n".join(parts)


class BookingStore(Store):
    """``Store.run`` (error mapping, the site's stream as KEYS[1]) over the booking scripts."""

    def __init__(self, redis: Redis) -> None:
        # Not Store.__init__: the queue's own scripts are not needed here.
        self.redis = redis
        self._scripts = {name: redis.register_script(load(name)) for name in SCRIPTS}
