"""The dispatch Redis store: one Lua script per domain change, as the queue store.

Each script checks, changes state and appends the change's event to the region's stream in
one atomic step (a transactional outbox). Scripts validate before their first write, except
where a check itself is a change (a late answer to an offer expires it, and says so).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dispatch import keys
from dispatch.errors import DispatchFailure, Unavailable, error_for
from queueing.luafn import Library

_decode = msgspec.json.Decoder().decode

SCRIPTS = ("put_region", "put_tech", "put_org", "job_create", "job_cancel", "job_retry",
           "action", "gps", "geofence", "plan", "offer_expire", "lock", "trim", "snapshot",
           "kpi_put", "tech_remove", "job_ahead")


def prelude() -> str:
    return (resources.files("dispatch") / "lua" / "prelude.lua").read_text()


def library(redis: Redis, mode: str = "auto") -> Library:
    """The dispatch scripts (dispatch/lua/): prelude.lua and one body per script."""
    base = resources.files("dispatch") / "lua"
    return Library(redis, "sbd", prelude(),
                   {name: (base / f"{name}.lua").read_text() for name in SCRIPTS}, mode,
                   read_only=("snapshot",))


class Store:
    """Async access to the dispatch scripts; one per process, shared by all requests."""

    def __init__(self, redis: Redis, mode: str = "auto", scripts: Library | None = None
                 ) -> None:
        self.redis = redis
        self.scripts = scripts or library(redis, mode)  # another set: the erasure's

    async def run(self, name: str, region: str, now_ms: int, actor: str, via: str,
                  *args: str | int | float) -> dict[str, Any]:
        """Run script ``name`` for ``region``; its result, or the named error it reported."""
        try:
            reply = await self.scripts(name, [keys.events(region)],
                                       [now_ms, actor, via, *args])
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise Unavailable("the store is unreachable; try again") from exc
        if reply[0] == b"err":
            code, message = reply[1].decode(), reply[2].decode()
            cls = error_for(code)
            if cls is DispatchFailure:
                raise DispatchFailure(f"{code}: {message}")
            # A script may add the error's details as JSON.
            raise cls(message, **(_decode(reply[3]) if len(reply) > 3 else {}))
        result: dict[str, Any] = _decode(reply[1])
        return result
