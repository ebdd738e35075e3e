"""Revoking tokens before they expire: one token (its ``jti``), or every token of a subject.

A bearer token is good until its ``exp`` unless it is revoked here. Two kinds of entry, both
in Redis so every server process (and a restored backup) sees them:

- ``sb:revoked:tokens``: a sorted set of token ids (``jti``) scored by the token's expiry
  (epoch seconds). An entry is pruned once its token would be refused anyway: not at its
  ``exp`` but ``LEEWAY_S`` after it (realtime/auth.py accepts a token that long past its
  ``exp``, for hosts' clocks that disagree), plus ``TOKEN_PRUNE_MARGIN_S``.
- ``sb:revoked:subjects``: a hash ``subject -> cutoff`` (epoch seconds). Every token of that
  subject issued at or before the cutoff is refused; tokens minted afterwards work. This is
  how a lost kiosk tablet or a clerk who left is shut out when the token itself is not at hand
  (and the only way for tokens minted before tokens had ids).
- ``sb:revoked:site_subjects``: the same, for one site's tokens of a subject only (field
  ``{site}/{subject}``; site ids have no ``/``): ``switchboard revoke --subject lobby-tv
  --site clinic`` leaves the ``lobby-tv`` of another site working. It applies to tokens whose
  ``site`` claim is that site (dispatch tokens have none). Pruned as the subjects' cut-offs.

  A cut-off cannot go when the tokens it refuses expire, because a subject has no one
  expiry: tokens are minted with any lifetime. So a server refuses every token that lasts
  longer than ``SWITCHBOARD_MAX_TOKEN_TTL_S`` (``exp - iat``; ``iat`` is required): a token
  refused by a cut-off was issued at or before it, so it expires by cut-off + that maximum,
  and a cut-off older than the maximum (plus ``PRUNE_MARGIN_S``, for clocks that disagree)
  refuses nothing that could still be valid. Server processes drop such cut-offs as they
  load the lists, checking and deleting in one atomic step (``_PRUNE``: a cut-off raised
  meanwhile stays). Every
  token expires (``exp`` is required), so no subject needs a cut-off for ever: display and
  kiosk tokens last a year by default, and at most the maximum.

Each process keeps both in memory (a check is a dict lookup on every request) and hears of
changes on the pub/sub channel ``sb:revocations``; it also reloads every ``RELOAD_S`` in case a
message was missed while its Redis connection was down. On a change, the hub closes the
websockets that hold a revoked token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing.keys import ROOT
from realtime import clock, token_registry
from realtime.auth import LEEWAY_S, Principal

log = logging.getLogger("switchboard.auth")

TOKENS = f"{ROOT}:revoked:tokens"
SUBJECTS = f"{ROOT}:revoked:subjects"
SITE_SUBJECTS = f"{ROOT}:revoked:site_subjects"
# The longest token lifetime any process of this deployment has accepted: it only rises.
# Cut-offs are pruned by it, not by one process's own setting — a second host (or a
# rolling change) with a lower maximum must not delete what the others still need.
MAX_TTL_SEEN = f"{ROOT}:revoked:max_ttl_s"
CHANNEL = f"{ROOT}:revocations"
RELOAD_S = 30.0
# How often the registry's last_seen noted by ``Revocations.seen`` are written.
SEEN_WRITE_S = 10.0
MAX_SUBJECT_CHARS = 200
# A cut-off goes this long after its tokens could last: host clocks sharing the Redis may
# disagree, and an accepted token's ``exp`` may pass iat + the maximum by a second.
PRUNE_MARGIN_S = 86400.0
# A revoked token id goes this long after the token stops being accepted (exp + LEEWAY_S):
# the processes sharing the Redis may be a second apart (nearer than clock.ANCHOR_S they go
# by their own clocks). Pruned at its exp, a reload in the leeway minute accepted it again.
TOKEN_PRUNE_MARGIN_S = 5.0


@dataclass(frozen=True, slots=True)
class Revoked:
    """What one revocation did: ``kind`` is ``token`` or ``subject``."""

    kind: str
    subject: str
    token_id: str | None = None
    before: float | None = None  # subject cutoff (epoch s)
    expires: float | None = None  # the token's own expiry (epoch s)
    site: str | None = None  # a subject's cut-off for this site's tokens only

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "subject": self.subject}
        if self.site is not None:
            out["site"] = self.site
        if self.token_id is not None:
            out["token_id"] = self.token_id
        if self.before is not None:
            out["before"] = self.before
        if self.expires is not None:
            out["expires"] = self.expires
        return out


class Revocations:
    """The revocation lists of one process, kept in step with Redis.

    ``max_ttl_s``: the longest token lifetime this process accepts (a server's
    ``SWITCHBOARD_MAX_TOKEN_TTL_S``); with it, loading prunes the subject cut-offs it makes
    useless. None (``switchboard revoke``, whose shell may lack the server's setting):
    nothing is pruned, and ``verify`` checks no lifetime."""

    def __init__(self, max_ttl_s: float | None = None) -> None:
        self.max_ttl_s = max_ttl_s
        self.tokens: dict[str, float] = {}  # jti -> expiry
        self.subjects: dict[str, float] = {}  # subject -> cutoff
        self.site_subjects: dict[str, float] = {}  # "site/subject" -> cutoff
        # Tokens used lately (registry's last_seen): jti -> monotonic time last written,
        # and what waits to be written (jti -> epoch s).
        self._seen_at: dict[str, float] = {}
        self._seen_due: dict[str, float] = {}
        self._seen_task: asyncio.Task[None] | None = None
        # The principals of the websockets open in this process (set by the app from its
        # hub): a board connected for days is seen, not only when it connected.
        self.held: Callable[[], Iterable[Principal]] | None = None
        self._held_next = 0.0
        self._task: asyncio.Task[None] | None = None
        self.on_change: Callable[[], object] | None = None
        # This process's own revocations, numbered: a load that read Redis before one of
        # them was written must not drop it from memory (it replaced the lists wholesale,
        # and the revoking request met a KeyError: 500, the revocation stored but not in
        # force here until the next reload).
        self._seq = 0
        self._mine: list[tuple[int, str, str, float]] = []  # (seq, kind, key, value)

    def refusal(self, p: Principal) -> str | None:
        """Why ``p``'s token is revoked, or None."""
        if p.token_id is not None and p.token_id in self.tokens:
            return "the token has been revoked"
        for subject in _subjects(p):
            cutoff = self.subjects.get(subject)
            if cutoff is not None and p.issued_at <= cutoff:
                return f"tokens of {subject} issued before {_iso(cutoff)} have been revoked"
            if p.site is not None and self.site_subjects:
                cutoff = self.site_subjects.get(f"{p.site}/{subject}")
                if cutoff is not None and p.issued_at <= cutoff:
                    return (f"tokens of {subject} at site {p.site} issued before "
                            f"{_iso(cutoff)} have been revoked")
        return None

    def seen(self, p: Principal) -> None:
        """``p``'s token was used (verified): noted for the registry's ``last_seen``, at
        most once per ``SEEN_EVERY_S``; written off the request's path."""
        jti = p.token_id
        if jti is None:
            return
        t = time.monotonic()
        last = self._seen_at.get(jti)
        if last is None or t - last >= token_registry.SEEN_EVERY_S:
            self._seen_at[jti] = t
            self._seen_due[jti] = clock.now_s()

    async def write_seen(self, redis: Redis) -> None:
        """Write the ``last_seen`` noted, and forget throttles that have run out."""
        t = time.monotonic()
        if self.held is not None and t >= self._held_next:
            self._held_next = t + token_registry.SEEN_EVERY_S / 2
            for p in self.held():
                self.seen(p)
        due, self._seen_due = self._seen_due, {}
        limit = t - token_registry.SEEN_EVERY_S
        self._seen_at = {k: v for k, v in self._seen_at.items() if v > limit}
        try:
            await token_registry.write_seen(redis, due)
        except (RedisError, OSError) as exc:
            log.warning("tokens: last_seen of %d tokens not written (%s)", len(due), exc)

    # -- Redis -----------------------------------------------------------------------------

    def prune_before(self, now: float) -> float | None:
        """Cut-offs at or before this (epoch s) refuse no token that could be valid at
        ``now``; None when this process does not know the longest lifetime."""
        if self.max_ttl_s is None:
            return None
        return now - self.max_ttl_s - PRUNE_MARGIN_S

    async def load(self, redis: Redis) -> None:
        seq = self._seq  # this process's revocations up to here are in Redis already
        now = clock.now_s()  # the time tokens are checked by (Redis's if this host's is off)
        limit = self.prune_before(now)
        if limit is not None:  # by the longest lifetime any process accepts, not ours
            seen = float(await redis.eval(_RAISE, 1, MAX_TTL_SEEN,  # type: ignore[misc]
                                          repr(self.max_ttl_s)))
            limit = now - seen - PRUNE_MARGIN_S
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(TOKENS, "-inf", token_prune_before(now))
            if limit is not None:
                pipe.eval(_PRUNE, 1, SUBJECTS, repr(limit))
                pipe.eval(_PRUNE, 1, SITE_SUBJECTS, repr(limit))
            pipe.zrange(TOKENS, 0, -1, withscores=True)
            pipe.hgetall(SUBJECTS)
            pipe.hgetall(SITE_SUBJECTS)
            *_, tokens, subjects, site_subjects = await pipe.execute()
        loaded_tokens = {_text(k): float(v) for k, v in tokens}
        loaded = {"subject": _cutoffs(subjects), "site_subject": _cutoffs(site_subjects)}
        # Revocations this process made while the lists were being read: keep them.
        self._mine = [m for m in self._mine if m[0] > seq]
        for _, kind, key, value in self._mine:
            if kind == "token":
                loaded_tokens[key] = value
            else:
                loaded[kind][key] = max(value, loaded[kind].get(key, value))
        self.tokens, self.subjects = loaded_tokens, loaded["subject"]
        self.site_subjects = loaded["site_subject"]

    async def revoke_token(self, redis: Redis, token_id: str, expires: float,
                           subject: str) -> Revoked:
        await redis.zadd(TOKENS, {token_id: expires})
        self._remember("token", token_id, expires)
        self.tokens[token_id] = expires
        await self._announce(redis)
        return Revoked("token", subject, token_id=token_id, expires=expires)

    async def revoke_subject(self, redis: Redis, subject: str, before: float,
                             site: str | None = None) -> Revoked:
        """Refuse ``subject``'s tokens issued up to ``before``; with ``site``, only those
        of that site (its ``site`` claim)."""
        # A later cutoff only widens what is refused: never move one back (two admins
        # revoking at once, or one revocation replayed, must not re-admit tokens).
        hkey, field, held, kind = ((SUBJECTS, subject, self.subjects, "subject")
                                   if site is None else
                                   (SITE_SUBJECTS, f"{site}/{subject}", self.site_subjects,
                                    "site_subject"))
        await redis.eval(_RAISE_CUTOFF, 1, hkey, field, repr(before))  # type: ignore[misc]
        cutoff = max(before, held.get(field, before))
        self._remember(kind, field, cutoff)
        held[field] = cutoff
        await self._announce(redis)
        return Revoked("subject", subject, before=cutoff, site=site)

    def _remember(self, kind: str, key: str, value: float) -> None:
        self._seq += 1
        self._mine.append((self._seq, kind, key, value))

    async def _announce(self, redis: Redis) -> None:
        await redis.publish(CHANNEL, b"changed")
        if self.on_change is not None:
            self.on_change()

    def listing(self) -> dict[str, object]:
        limit = token_prune_before(clock.now_s())
        return {"tokens": [{"token_id": k, "expires": v}
                           for k, v in sorted(self.tokens.items()) if v > limit],
                "subjects": [{"subject": k, "before": v}
                             for k, v in sorted(self.subjects.items())],
                "site_subjects": [{"site": k.partition("/")[0],
                                   "subject": k.partition("/")[2], "before": v}
                                  for k, v in sorted(self.site_subjects.items())]}

    # -- keeping in step -------------------------------------------------------------------

    async def start(self, redis: Redis) -> None:
        """Load now if Redis answers (if not, following loads it when it does), then follow."""
        try:
            await self.load(redis)
        except (RedisError, OSError) as exc:
            log.warning("revocations: Redis not reachable at start (%s); loading when it is",
                        exc)
        self._task = asyncio.create_task(self._follow(redis), name="revocations")
        self._seen_task = asyncio.create_task(self._write_seen_often(redis),
                                              name="tokens-last-seen")

    async def stop(self) -> None:
        for task in (self._task, self._seen_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._seen_task = None

    async def _write_seen_often(self, redis: Redis) -> None:
        while True:
            await asyncio.sleep(SEEN_WRITE_S)
            await self.write_seen(redis)

    async def _follow(self, redis: Redis) -> None:
        while True:
            try:
                async with redis.pubsub(ignore_subscribe_messages=True) as ps:
                    await ps.subscribe(CHANNEL)
                    await self._reload(redis)  # what changed while not listening
                    next_reload = time.monotonic() + RELOAD_S
                    while True:
                        msg = await ps.get_message(timeout=max(
                            0.0, next_reload - time.monotonic()))
                        if msg is not None or time.monotonic() >= next_reload:
                            await self._reload(redis)
                            next_reload = time.monotonic() + RELOAD_S
            except (RedisError, OSError) as exc:
                log.warning("revocations: lost Redis (%s); the lists held stay in force", exc)
                await asyncio.sleep(1.0)
            except Exception:  # never stop following: a process that did would miss them
                log.exception("revocations: following failed; starting again")
                await asyncio.sleep(1.0)

    async def _reload(self, redis: Redis) -> None:
        before = (self.tokens, self.subjects, self.site_subjects)
        await self.load(redis)
        if ((self.tokens, self.subjects, self.site_subjects) != before
                and self.on_change is not None):
            self.on_change()


def token_prune_before(now: float) -> float:
    """Revoked token ids whose token expired at or before this (epoch s) can go: at ``now``
    such a token is refused as expired (realtime/auth.py: from ``exp + LEEWAY_S``)."""
    return now - LEEWAY_S - TOKEN_PRUNE_MARGIN_S


_RAISE_CUTOFF = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == false or tonumber(cur) < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
"""


# The deployment's longest lifetime seen (KEYS[1]) raised to this process's (ARGV[1]); the
# larger of the two.
_RAISE = """
local seen = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local mine = tonumber(ARGV[1])
if mine > seen then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return tostring(seen)
"""

# Drop the cut-offs at or before ARGV[1], in one step: one raised since it was read stays. A
# value that is not a number (written by hand) refuses every token of its subject: kept.
_PRUNE = """
local fields = redis.call('HGETALL', KEYS[1])
local limit, n = tonumber(ARGV[1]), 0
for i = 1, #fields, 2 do
  local cutoff = tonumber(fields[i + 1])
  if cutoff ~= nil and cutoff <= limit then
    redis.call('HDEL', KEYS[1], fields[i])
    n = n + 1
  end
end
return n
"""


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _cutoffs(raw: dict[bytes | str, bytes | str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in raw.items():
        try:
            out[_text(k)] = float(v)
        except ValueError:  # written by hand: refuse all of that subject's tokens
            log.error("revocations: subject %r has cut-off %r, not a number; all its "
                      "tokens are refused", _text(k), v)
            out[_text(k)] = float("inf")
    return out


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _subjects(p: Principal) -> tuple[str, ...]:
    """The subjects whose cut-off applies to ``p``: its own, and for a technician's token
    also ``tech:<id>`` (the default subject, which removing the technician revokes), so a
    token made with a subject of its own (a wristband's) goes with the technician."""
    if p.role == "tech" and p.tech and p.subject != f"tech:{p.tech}":
        return (p.subject, f"tech:{p.tech}")
    return (p.subject,)

