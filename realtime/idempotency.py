"""``Idempotency-Key`` for calls that have no key of their own in Redis scripts (dispatch
jobs and enterprise batches, counter operations; tickets and bookings keep theirs in their
scripts).

A partner's back end that timed out on ``POST /v1/regions/{region}/jobs`` retries it: with
the same key and body it gets the first answer again (``Idempotent-Replayed: true``) instead
of a second technician being sent. Keys are per caller (the token's subject) and per kind
of call; the same key with another body is ``422 idempotency_mismatch``; a retry that comes
while the first is still being made is ``409 conflict`` (temporary, with ``Retry-After``). A
call that fails releases its key (nothing was made). The answer is kept for
``SWITCHBOARD_IDEMPOTENCY_TTL_S``.

A counter's "call next" whose answer was lost is the same case: its retry is answered with
the ticket it called, not a second call (nor ``counter_busy``), and a retried recall is not
a second recall. Their answers are kept without the person's name (``keep``) and given the
ticket's name as it is now on a retry (``replay``): an erasure reaches it there. Their
records live in the site's slot, and the queue's script that makes the change notes in the
record that it ran, in the same atomic step (``site``, ``recover``): a server that dies, or
loses Redis's reply, between the change and keeping its answer leaves a record a retry is
answered from, instead of freeing the key for the change to be made twice.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from queueing import keys
from queueing.errors import BadRequest, Conflict, IdempotencyMismatch
from queueing.keys import ROOT
from queueing.store import journal

log = logging.getLogger("switchboard.idempotency")
PENDING_TTL_S = 60  # a creating call that died holds its key no longer than this
# A call still being made usually ends within a second: the pending key's TTL is only the
# bound for one that died, so ``Retry-After`` is that TTL, capped to this.
RETRY_AFTER_MAX_S = 2
Body = Any  # an answer's JSON body, decoded


class InProgress(Conflict):
    """The first call with this key is still being made (``details.retry_after_s``: when
    to try again, also sent as ``Retry-After``)."""

    temporary = True


def retry_after_s(pttl_ms: int, most_s: int) -> int:
    """Seconds until a lock with ``pttl_ms`` left is worth trying again: its remaining TTL
    in whole seconds, 1 to ``most_s`` (a lock without a TTL, or gone: 1)."""
    return max(1, min(most_s, math.ceil(pttl_ms / 1000)))


def header_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200):
        raise BadRequest("Idempotency-Key must be 1 to 200 characters")
    return key


def caller(p: Any) -> str:
    """Whose keys: the token's role and scope with its subject (subjects are free text: two
    organisations given the same one must not share keys)."""
    scope = p.org or p.region or p.site or ""
    return f"{p.role}/{scope}/{p.subject}"


def _redis_key(kind: str, subject: str, key: str, site: str | None = None) -> str:
    digest = hashlib.sha256(f"{subject}\0{key}".encode()).hexdigest()[:40]
    if site is not None:  # beside the site's keys: its scripts write it
        return f"{keys.prefix(site)}idem:{kind}:{digest}"
    return f"{ROOT}:idem:{kind}:{digest}"


async def once(redis: Redis, kind: str, subject: str, key: str | None, request_body: Any,
               ttl_s: int, make: Callable[[], Awaitable[tuple[int, Body]]], *,
               keep: Callable[[Body], Body] | None = None,
               replay: Callable[[Body], Awaitable[Body]] | None = None,
               site: str | None = None,
               recover: Callable[[dict[str, Any]], Awaitable[Body]] | None = None) -> Response:
    """Answer with ``make()`` (status, JSON body), once per ``key`` of ``subject``.
    ``keep(body)``: what of the answer is kept for a retry (default all of it);
    ``replay(kept)``: the retry's answer made from what was kept (default as kept).

    ``site`` and ``recover``: ``make`` is one change by the queue's scripts, which note in
    the key's record (in the site's slot) that it ran, in the same atomic step
    (queueing/lua/prelude.lua, ``journal``). A retry after the server died, or lost Redis's
    reply, between the change and keeping its answer is then answered with
    ``recover(what ran)`` (200) instead of the change being made again."""
    if key is None:
        status, body = await make()
        return _response(status, msgspec.json.encode(body))
    fp = hashlib.sha256(msgspec.json.encode(request_body)).hexdigest()[:32]
    rkey = _redis_key(kind, subject, key, site)
    pending = msgspec.json.encode({"fp": fp, "ttl": ttl_s})

    async def keep_answer(status: int, body: Body) -> bytes:
        kept = msgspec.json.encode(body if keep is None else keep(body))
        await redis.set(rkey, msgspec.json.encode(
            {"fp": fp, "status": status, "body": kept.decode()}), ex=ttl_s)
        return kept

    async def replayed(status: int, kept: bytes) -> Response:
        if replay is not None:
            kept = msgspec.json.encode(await replay(msgspec.json.decode(kept)))
        return _response(status, kept, replayed=True)

    if not await redis.set(rkey, pending, nx=True, ex=PENDING_TTL_S):
        pipe = redis.pipeline(transaction=True)
        pipe.get(rkey)
        pipe.pttl(rkey)
        raw, pttl = await pipe.execute()
        seen = msgspec.json.decode(raw) if raw else {}
        if seen.get("fp") not in (None, fp):
            raise IdempotencyMismatch("this Idempotency-Key was used with another request")
        if "status" not in seen and "ran" in seen and recover is not None:
            # Done, its answer never kept: answered from what ran (and kept from now on).
            return await replayed(200, await keep_answer(200, await recover(seen["ran"])))
        if "status" not in seen:
            raise InProgress("a request with this Idempotency-Key is still being made; "
                             "retry in a second",
                             retry_after_s=retry_after_s(pttl, RETRY_AFTER_MAX_S))
        return await replayed(seen["status"], seen["body"].encode())
    token = journal.set(rkey) if site is not None else None
    try:
        status, body = await make()
    except BaseException:
        await _release(redis, rkey)
        raise
    finally:
        if token is not None:
            journal.reset(token)
    await keep_answer(status, body)
    return _response(status, msgspec.json.encode(body))


async def _release(redis: Redis, rkey: str) -> None:
    """After a failed call: the key is free again, unless its change ran after all (the
    failure came after it, Redis's reply lost): then the record says so, for the retry."""
    try:
        raw = await redis.get(rkey)
        if raw is None or "ran" not in msgspec.json.decode(raw):
            await redis.delete(rkey)
    except (RedisError, msgspec.DecodeError):  # unreachable: the pending TTL frees it
        log.warning("idempotency record %s not released", rkey[:60], exc_info=True)


async def rewrite(redis: Redis, kind: str,
                  change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> int:
    """Change the answers kept for ``kind`` (an erasure takes a person's data out of
    them): ``change(body)`` returns the new body, or None to leave it. A retry is then
    answered with the new body; each key keeps its expiry."""
    n = 0
    async for key in redis.scan_iter(match=f"{ROOT}:idem:{kind}:*", count=1000):
        raw = await redis.get(key)
        seen = msgspec.json.decode(raw) if raw else {}
        new = change(msgspec.json.decode(seen["body"])) if "body" in seen else None
        if new is not None:
            seen["body"] = msgspec.json.encode(new).decode()
            n += bool(await redis.set(key, msgspec.json.encode(seen), keepttl=True, xx=True))
    return n


def _response(status: int, body: bytes, replayed: bool = False) -> Response:
    # Answers here hold tokens (a job's customer token): never kept by a cache.
    headers = {"Cache-Control": "no-store"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=status, media_type="application/json", headers=headers)
