"""The queue's Redis store: one Lua script per domain change.

Each script checks, changes state and appends the change's event to the site's stream in
one atomic step (a transactional outbox): no change without its event, no event without its
change. Scripts validate everything before their first write, because Redis does not roll
a script back when it fails halfway.
"""

from __future__ import annotations

from contextvars import ContextVar
from importlib import resources
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from queueing import keys
from queueing.errors import SwitchboardError, Unavailable, error_for
from queueing.luafn import Library

_decode = msgspec.json.Decoder().decode
# The Idempotency-Key record of the request being made, if any (realtime/idempotency.py):
# a writing script run meanwhile notes in it that it ran (prelude.lua, ``journal``). Set
# only for calls that make one change; the key must be in the site's slot.
journal: ContextVar[str | None] = ContextVar("switchboard_journal", default=None)

SCRIPTS = ("issue", "call_next", "call", "counter_state", "ticket_op", "ticket_self",
           "put_site", "snapshot", "get_ticket", "queue", "trim", "record", "day_end", "undo",
           "promote")
READ_ONLY = ("snapshot", "get_ticket", "queue")  # still answered when Redis refuses writes


def library(redis: Redis, mode: str = "auto") -> Library:
    """The queue scripts (queueing/lua/): prelude.lua and one body per script."""
    base = resources.files("queueing") / "lua"
    return Library(redis, "sbq", (base / "prelude.lua").read_text(),
                   {name: (base / f"{name}.lua").read_text() for name in SCRIPTS}, mode,
                   read_only=READ_ONLY)


class Store:
    """Async access to the queue scripts. One instance per process, shared by all requests."""

    def __init__(self, redis: Redis, mode: str = "auto") -> None:
        self.redis = redis
        self.scripts = library(redis, mode)

    async def run(self, name: str, site: str, now_ms: int, actor: str, via: str,
                  *args: str | int | float) -> dict[str, Any]:
        """Run script ``name`` for ``site``; its result, or the named error it reported."""
        try:
            note = journal.get()
            names = [keys.events(site)]
            if note is not None and name not in READ_ONLY:
                names.append(note)
            reply = await self.scripts(name, names, [now_ms, actor, via, *args])
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise Unavailable("the store is unreachable; try again") from exc
        status = reply[0]
        if status == b"err":
            code, message = reply[1].decode(), reply[2].decode()
            cls = error_for(code)
            err: SwitchboardError = cls(message)
            if cls is SwitchboardError:
                err = SwitchboardError(f"{code}: {message}")
            raise err
        result: dict[str, Any] = _decode(reply[1])
        return result
