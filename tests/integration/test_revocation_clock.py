"""Revocations by the time tokens are checked by, against a real Redis: a subject's cut-off
by this process's time (Redis's while the host's clock is off), and a revoked token id kept
for as long as its token is still accepted (``exp + LEEWAY_S``), not only until ``exp``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from queueing.errors import BadRequest, Unauthorized
from realtime import clock, revocation
from realtime.auth import LEEWAY_S, make_token, verify
from realtime.revocation_api import RevokeBody, revoke
from tests.integration.conftest import SECRET

LONGEST = 5 * 366 * 86400.0


@pytest.fixture
def ten_min_behind(monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.Anchor]:
    """This process's anchor as on a host 10 min behind Redis: its time is Redis's."""
    a = clock.Anchor()
    monkeypatch.setattr(clock, "ANCHOR", a)
    a.update(time.time() + 600, time.time(), time.monotonic())
    assert a.anchored
    yield a


def _reason(token: str, lists: revocation.Revocations) -> str | None:
    try:
        verify(SECRET, token, lists)
    except Unauthorized as exc:
        return str(exc.details["reason"])
    return None


async def test_a_subject_revoked_on_a_clock_behind_refuses_the_tokens_minted_before(
        redis: Redis, ten_min_behind: clock.Anchor) -> None:
    # The server's host is 10 min behind: its cut-off was 10 min early, and a token minted
    # (by Redis's time, as every process mints now) in those minutes survived the revocation.
    token = make_token(SECRET, "display", site="demo")
    lists = revocation.Revocations(LONGEST)
    await lists.load(redis)
    assert _reason(token, lists) is None
    done = await revoke(lists, redis, SECRET, RevokeBody(subject="display:demo"))
    assert done.before is not None and abs(done.before - clock.now_s()) < 5
    assert _reason(token, lists) == "revoked"
    other = revocation.Revocations(LONGEST)  # another process, loading from Redis
    await other.load(redis)
    assert _reason(token, other) == "revoked"
    # One minted afterwards works. (iat is in whole milliseconds, floored: a token minted in
    # the cut-off's own millisecond is refused, so wait past it; here it all takes < 1 ms.)
    await asyncio.sleep(0.002)
    assert _reason(make_token(SECRET, "display", site="demo"), other) is None
    # "before" in the future is refused by Redis's time too, not by this host's clock.
    done = await revoke(lists, redis, SECRET, RevokeBody(subject="kiosk:demo",
                                                         before=time.time() + 300))
    assert done.before is not None
    with pytest.raises(BadRequest):
        await revoke(lists, redis, SECRET, RevokeBody(subject="kiosk:demo",
                                                      before=clock.now_s() + 60))


async def test_a_revoked_token_stays_refused_in_its_leeway(redis: Redis) -> None:
    # Expired 10 s ago: still accepted for 50 s (exp + LEEWAY_S). Loading the lists (another
    # process, or the 30 s reload) pruned its id at exp, and it was accepted again.
    token = make_token(SECRET, "display", site="demo", ttl_s=2, now=time.time() - 12)
    lists = revocation.Revocations(LONGEST)
    assert _reason(token, lists) is None
    await revoke(lists, redis, SECRET, RevokeBody(token=token))
    other = revocation.Revocations(LONGEST)
    await other.load(redis)
    assert _reason(token, other) == "revoked"
    assert len(other.listing()["tokens"]) == 1  # type: ignore[arg-type]
    await lists.load(redis)  # the revoking process's own reload
    assert _reason(token, lists) == "revoked"


async def test_a_revoked_token_id_goes_once_its_token_is_refused_anyway(redis: Redis) -> None:
    lists = revocation.Revocations(LONGEST)
    now = time.time()
    gone = now - LEEWAY_S - revocation.TOKEN_PRUNE_MARGIN_S - 1
    kept = now - LEEWAY_S + 5
    await lists.revoke_token(redis, "gone", gone, "display:demo")
    await lists.revoke_token(redis, "kept", kept, "display:demo")
    await lists.load(redis)
    assert list(lists.tokens) == ["kept"]
    assert [k.decode() for k in await redis.zrange(revocation.TOKENS, 0, -1)] == ["kept"]
