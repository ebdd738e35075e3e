"""The registry of issued links: every token minted by ``POST /v1/tokens`` or by
``switchboard token`` (when it reaches the server's Redis), so that an admin can list what
was handed out, what expires when, and renew or revoke it (``GET /v1/tokens``).

Never the token itself: its id (``jti``), role, subject, scope (site, counter, area, region,
…), when and by whom it was minted, when it expires, what replaced it, and when a server
last saw it used. In Redis:

- ``sb:issued:{jti}``: a hash of those fields, expiring ``KEEP_S`` after the token does (so a
  list still shows what expired last week, and the renewals to make);
- ``sb:issued``: a sorted set of the ids scored by expiry (epoch seconds), pruned of ids past
  ``KEEP_S`` when read. The list and the ``switchboard_tokens_expiring_soon`` gauge read it.

``last_seen`` is written by each server process at most once per ``SEEN_EVERY_S`` per token
(realtime/revocation.py ``Revocations.seen``: a dict look-up on the request's path, the write
batched off it), and only to a token that is in the registry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import jwt
from redis.asyncio import Redis

from queueing.keys import ROOT
from realtime.auth import Principal

INDEX = f"{ROOT}:issued"
# Kept this long after the token expires.
KEEP_S = 30 * 86400
# A token's last_seen is written at most this often by one server process.
SEEN_EVERY_S = 300.0
# "Expiring soon": what the list counts and the gauge reports.
SOON_S = 7 * 86400
SCOPE = ("site", "counter", "area", "region", "tech", "job", "org", "ticket", "booking")


def key(jti: str) -> str:
    return f"{ROOT}:issued:{jti}"


def fields_of(token: str, minted_by: str, replaces: Iterable[str] = ()) -> dict[str, str]:
    """What is kept of ``token`` (whose signature the caller made or checked)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    out = {"jti": str(claims["jti"]), "role": str(claims["role"]), "sub": str(claims["sub"]),
           "minted_at": repr(float(claims["iat"])), "expires_at": repr(float(claims["exp"])),
           "minted_by": minted_by}
    out |= {k: str(claims[k]) for k in SCOPE if claims.get(k)}
    if replaces:
        out["replaces"] = ",".join(replaces)
    return out


async def record(redis: Redis, token: str, minted_by: str,
                 replaces: Iterable[str] = ()) -> dict[str, str]:
    """Keep ``token`` in the registry (and mark what it replaces), in one transaction."""
    replaced = list(replaces)
    f = fields_of(token, minted_by, replaced)
    exp = float(f["expires_at"])
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key(f["jti"]), mapping=f)
        pipe.expireat(key(f["jti"]), math.ceil(exp + KEEP_S))
        pipe.zadd(INDEX, {f["jti"]: exp})
        for old in replaced:
            pipe.hset(key(old), "replaced_by", f["jti"])
        await pipe.execute()
    return f


async def get(redis: Redis, jti: str) -> dict[str, str] | None:
    raw = await redis.hgetall(key(jti))  # type: ignore[misc]
    return _texts(raw) if raw else None


async def records(redis: Redis, now: float, lo: float | None = None,
                  hi: float | None = None) -> list[dict[str, str]]:
    """The records kept, by expiry (``lo``..``hi``: only those expiring then)."""
    await redis.zremrangebyscore(INDEX, "-inf", now - KEEP_S)
    ids = await redis.zrangebyscore(INDEX, "-inf" if lo is None else lo,
                                    "+inf" if hi is None else hi)
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for jti in ids:
            pipe.hgetall(key(_text(jti)))
        rows = await pipe.execute()
    return [_texts(r) for r in rows if r]


def principal(rec: dict[str, str]) -> Principal:
    """The principal the recorded token verifies as (to ask the revocation lists)."""
    return Principal(role=rec["role"], subject=rec["sub"], site=rec.get("site"),
                     counter=rec.get("counter"), region=rec.get("region"),
                     tech=rec.get("tech"), job=rec.get("job"), org=rec.get("org"),
                     issued_at=float(rec["minted_at"]), token_id=rec["jti"],
                     area=rec.get("area"))


def status(rec: dict[str, str], now: float, refusal: Any) -> str:
    """``expired`` (past its expiry), ``revoked`` (refused by the revocation lists) or
    ``active``. ``refusal``: ``Revocations.refusal``."""
    if now >= float(rec["expires_at"]):
        return "expired"
    return "revoked" if refusal(principal(rec)) is not None else "active"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shown(rec: dict[str, str], now: float, state: str) -> dict[str, Any]:
    """A record as ``GET /v1/tokens`` lists it."""
    exp = float(rec["expires_at"])
    out: dict[str, Any] = {
        "jti": rec["jti"], "role": rec["role"], "subject": rec["sub"],
        **{k: rec[k] for k in SCOPE if k in rec},
        "minted_at": iso(float(rec["minted_at"])), "expires_at": iso(exp),
        "minted_by": rec.get("minted_by"), "status": state,
        "days_left": max(0, math.floor((exp - now) / 86400)),
        "last_seen": iso(float(rec["last_seen"])) if "last_seen" in rec else None,
    }
    for k in ("replaces", "replaced_by"):
        if k in rec:
            out[k] = rec[k].split(",") if k == "replaces" else rec[k]
    return out


# Write last_seen (ARGV[i]) of the tokens KEYS[i] that are in the registry only: a ticket's
# token is used as often and is not kept here.
SEEN = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'last_seen', ARGV[i])
  end
end
return 1
"""


async def write_seen(redis: Redis, seen: dict[str, float]) -> None:
    if seen:
        await redis.eval(SEEN, len(seen), *(key(j) for j in seen),  # type: ignore[misc]
                         *(repr(t) for t in seen.values()))


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _texts(raw: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}
