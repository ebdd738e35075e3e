"""Lua scripts that share a prelude, loaded into Redis as one function library.

Each store's scripts are a prelude (helpers, field lists, constants) and one body per
change. Sent as scripts (EVALSHA), every call runs the whole prelude again: creating some
sixty closures and tables cost ~19 µs of Redis's single thread per call, an eighth of a
booking. As a Redis 7 function library (FUNCTION LOAD) the prelude runs once, when the
library is loaded; each body becomes a function, and the prelude's ``begin(keys, args)``
sets the call's context (key prefix, clock, actor) before the body runs. Redis runs one
function at a time, so no call sees another's context.

The library's name, and so its functions' names, carry a hash of the code: servers of
different versions can share one Redis, and a changed script is never confused with the old
one. A Redis that lost its functions (restarted without persistence, ``FUNCTION FLUSH``)
gets the library again on the next call. A Redis without functions (6.x) runs the same code
as scripts: prelude, ``begin(KEYS, ARGV)``, body.

The prelude must declare ``local function begin(keys, args)`` and create no per-call state
outside it; a body reads its arguments as ``KEYS`` and ``ARGV``, as a script would.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

log = logging.getLogger("switchboard.redis")

# Registers body `script` under LIB .. '_' .. script, behind the prelude's begin. (While a
# library loads, only the redis API is reachable: no pairs(), so one call per script.)
_REGISTER = """redis.register_function(LIB .. '_{script}', function(keys, args)
  begin(keys, args)
  return SCRIPTS[{script!r}](keys, args)
end)"""


def script_text(prelude: str, body: str) -> str:
    """The prelude and ``body`` as one script for EVAL/EVALSHA."""
    return f"{prelude}\nbegin(KEYS, ARGV)\n{body}"


def library_code(name: str, prelude: str, bodies: Mapping[str, str]) -> str:
    """The function library ``name``: the prelude once, each body as a function."""
    parts = [f"#!lua name={name}", prelude, "local SCRIPTS = {}"]
    for script, body in bodies.items():
        # Each body is a function of its own (its locals and returns stay its own).
        parts.append(f"SCRIPTS[{script!r}] = function(KEYS, ARGV)\n{body}\nend")
    parts.append(f"local LIB = {name!r}")
    parts += [_REGISTER.format(script=script) for script in bodies]
    return "\n".join(parts)


class Library:
    """A store's scripts: one prelude, named bodies, called as Redis functions.

    ``mode`` "auto" uses a function library where Redis has functions (7.0+) and scripts
    otherwise; "eval" always uses scripts (tests of the fallback).
    """

    def __init__(self, redis: Redis, prefix: str, prelude: str, bodies: Mapping[str, str],
                 mode: str = "auto") -> None:
        if mode not in ("auto", "eval"):
            raise ValueError(f"mode must be 'auto' or 'eval', not {mode!r}")
        self.redis = redis
        self.prelude = prelude
        self.bodies = dict(bodies)
        digest = hashlib.sha1(library_code("", prelude, self.bodies).encode()).hexdigest()
        self.name = f"{prefix}_{digest[:12]}"
        self.code = library_code(self.name, prelude, self.bodies)
        self._loaded = False
        self._loading: asyncio.Task[None] | None = None
        self._scripts: dict[str, AsyncScript] | None = None
        if mode == "eval":
            self._use_scripts()

    @property
    def uses_functions(self) -> bool:
        return self._scripts is None

    def _use_scripts(self) -> None:
        self._scripts = {name: self.redis.register_script(script_text(self.prelude, body))
                         for name, body in self.bodies.items()}

    async def load(self) -> None:
        """Load the library into Redis (again, if it is there: the same code)."""
        try:
            await self.redis.execute_command(  # type: ignore[no-untyped-call]
                "FUNCTION LOAD", "REPLACE", self.code)
        except ResponseError as exc:
            if "unknown command" not in str(exc).lower():
                raise
            log.info("Redis has no functions (before 7.0): running %s as scripts", self.name)
            self._use_scripts()
        self._loaded = True

    async def _load_once(self) -> None:
        """load(), shared by the calls that find the library not yet loaded (a burst of
        requests at start-up loads it once, not once each)."""
        loop = asyncio.get_running_loop()
        task = self._loading
        if (task is None or task.get_loop() is not loop
                or (task.done() and (task.cancelled() or task.exception() is not None))):
            task = self._loading = loop.create_task(self.load())
        await asyncio.shield(task)

    async def __call__(self, script: str, keys: Sequence[str],
                       args: Sequence[str | int | float]) -> Any:
        if script not in self.bodies:
            raise KeyError(script)
        if not self._loaded and self._scripts is None:
            await self._load_once()
        if self._scripts is not None:
            return await self._scripts[script](keys=keys, args=args)
        try:
            return await self._fcall(script, keys, args)
        except ResponseError as exc:
            if "function not found" not in str(exc).lower():
                raise
            # The Redis lost its functions (a restart without persistence, FUNCTION FLUSH).
            await self.load()
            return await self._fcall(script, keys, args)

    async def _fcall(self, script: str, keys: Sequence[str],
                     args: Sequence[str | int | float]) -> Any:
        return await self.redis.execute_command(  # type: ignore[no-untyped-call]
            "FCALL", f"{self.name}_{script}", len(keys), *keys, *args)
