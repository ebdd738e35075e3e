"""Lua scripts that share a prelude, loaded into Redis as one function library.

Each store's scripts are a prelude (helpers, field lists, constants) and one body per
change. Sent as scripts (EVALSHA), every call runs the whole prelude again: creating some
sixty closures and tables cost ~19 µs of Redis's single thread per call, an eighth of a
booking. As a Redis 7 function library (FUNCTION LOAD) the prelude runs once, when the
library is loaded; each body becomes a function, and the prelude's ``begin(keys, args)``
sets the call's context (key prefix, clock, actor) before the body runs. Redis runs one
function at a time, so no call sees another's context.

The library's name, and so its functions' names, carry a hash of the code: a changed script
is never confused with the old one, and two builds' libraries can sit side by side in one
Redis (whether the two builds may *run* side by side is a question of their data, not of
their code: see docs/release-notes.md before an upgrade). A Redis that lost its functions
(restarted without persistence, ``FUNCTION FLUSH``) gets the library again on the next
call. A Redis without functions (6.x), or one that refuses ``FUNCTION LOAD`` to this user
(ACL), runs the same code as scripts: prelude, ``begin(KEYS, ARGV)``, body.

Bodies named ``read_only`` are registered with the ``no-writes`` flag: Redis refuses every
other function outright while it is out of memory or cannot persist (as it would refuse
their first write), but still runs reads — a board, a booking's status.

The prelude must declare ``local function begin(keys, args)`` and create no per-call state
outside it; a body reads its arguments as ``KEYS`` and ``ARGV``, as a script would.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

log = logging.getLogger("switchboard.redis")

# Registers body `script` under LIB .. '_' .. script, behind the prelude's begin. (While a
# library loads, only the redis API is reachable: no pairs(), so one call per script.)
_REGISTER = """redis.register_function{{function_name = LIB .. '_{script}',
  callback = function(keys, args)
    begin(keys, args)
    return SCRIPTS[{script!r}](keys, args)
  end,
  flags = {{{flags}}}}}"""
# Errors meaning "use scripts instead": no FUNCTION/FCALL command (Redis 6), or no right to
# load functions (an ACL that allows EVAL only).
_NO_FUNCTIONS = ("unknown command", "noperm")


def script_text(prelude: str, body: str) -> str:
    """The prelude and ``body`` as one script for EVAL/EVALSHA."""
    return f"{prelude}\nbegin(KEYS, ARGV)\n{body}"


def library_code(name: str, prelude: str, bodies: Mapping[str, str],
                 read_only: Collection[str] = ()) -> str:
    """The function library ``name``: the prelude once, each body as a function."""
    parts = [f"#!lua name={name}", prelude, "local SCRIPTS = {}"]
    for script, body in bodies.items():
        # Each body is a function of its own (its locals and returns stay its own).
        parts.append(f"SCRIPTS[{script!r}] = function(KEYS, ARGV)\n{body}\nend")
    parts.append(f"local LIB = {name!r}")
    parts += [_REGISTER.format(script=script,
                               flags="'no-writes'" if script in read_only else "")
              for script in bodies]
    return "\n".join(parts)


def _no_functions(exc: ResponseError) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _NO_FUNCTIONS)


class Library:
    """A store's scripts: one prelude, named bodies, called as Redis functions.

    ``mode`` "auto" uses a function library where Redis has functions (7.0+) and scripts
    otherwise; "eval" always uses scripts (tests of the fallback).
    """

    def __init__(self, redis: Redis, prefix: str, prelude: str, bodies: Mapping[str, str],
                 mode: str = "auto", read_only: Collection[str] = ()) -> None:
        if mode not in ("auto", "eval"):
            raise ValueError(f"mode must be 'auto' or 'eval', not {mode!r}")
        if unknown := set(read_only) - set(bodies):
            raise ValueError(f"read_only names no body: {sorted(unknown)}")
        self.redis = redis
        self.prelude = prelude
        self.bodies = dict(bodies)
        self.read_only = frozenset(read_only)
        code = library_code("", prelude, self.bodies, self.read_only)
        self.name = f"{prefix}_{hashlib.sha1(code.encode()).hexdigest()[:12]}"
        self.code = library_code(self.name, prelude, self.bodies, self.read_only)
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
            if not _no_functions(exc):
                raise
            log.info("Redis runs no functions for us (%s): running %s as scripts", exc,
                     self.name)
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
            # Now on a Redis without functions (a fail-over, say). Not NOPERM here: a key
            # the ACL denies would be denied to a script as well.
            if "unknown command" in str(exc).lower():
                self._use_scripts()
                assert self._scripts is not None
                return await self._scripts[script](keys=keys, args=args)
            if "function not found" not in str(exc).lower():
                raise
            # The Redis lost its functions (a restart without persistence, FUNCTION FLUSH).
            await self.load()
            if self._scripts is not None:
                return await self._scripts[script](keys=keys, args=args)
            return await self._fcall(script, keys, args)

    async def _fcall(self, script: str, keys: Sequence[str],
                     args: Sequence[str | int | float]) -> Any:
        return await self.redis.execute_command(  # type: ignore[no-untyped-call]
            "FCALL", f"{self.name}_{script}", len(keys), *keys, *args)
