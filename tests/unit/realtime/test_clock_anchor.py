"""A wrong host clock anchored to Redis's time: the engines' clock and token checks go by
Redis's while the two disagree by more than clock.ANCHOR_S (a server 10 min behind put a
walk-in ahead of 94 waiting tickets and refused every token minted on a right clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from queueing.errors import Unauthorized
from realtime import auth, clock
from realtime.auth import LEEWAY_S, make_token, unverified_claims, verify

KEY = "k" * 32


class FakeRedis:
    """TIME: the host's clock plus ``ahead_s``, answered after ``delay_s``."""

    def __init__(self, ahead_s: float, delay_s: float = 0.0) -> None:
        self.ahead_s = ahead_s
        self.delay_s = delay_s
        self.asked = 0

    async def time(self) -> tuple[int, int]:
        self.asked += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        t = time.time() + self.ahead_s
        return int(t), int((t % 1) * 1e6)


@pytest.fixture
def anchor(monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.Anchor]:
    """The process's anchor, fresh for the test (and left as it was after)."""
    a = clock.Anchor()
    monkeypatch.setattr(clock, "ANCHOR", a)
    yield a


def _measured(a: clock.Anchor, ahead_s: float) -> clock.Anchor:
    assert asyncio.run(a.measure(FakeRedis(ahead_s)))
    return a


def test_a_clock_right_within_a_second_is_the_hosts() -> None:
    a = _measured(clock.Anchor(), 0.4)
    assert not a.anchored and abs(a.offset_s - 0.4) < 0.05
    assert abs(a.now_s() - time.time()) < 0.05
    assert abs(a.now_ms() - time.time_ns() // 1_000_000) < 50


@pytest.mark.parametrize("ahead_s", [600.0, -600.0, 1.5])
def test_a_wrong_clock_goes_by_redis_time(ahead_s: float) -> None:
    a = _measured(clock.Anchor(), ahead_s)
    assert a.anchored and abs(a.offset_s - ahead_s) < 0.05
    assert abs(a.now_s() - (time.time() + ahead_s)) < 0.05
    assert abs(a.now_ms() / 1000 - (time.time() + ahead_s)) < 0.05


def test_no_flapping_around_the_threshold() -> None:
    a = _measured(clock.Anchor(), 1.2)
    assert a.anchored
    assert _measured(a, 0.7).anchored  # kept until within RELEASE_S
    assert not _measured(a, 0.3).anchored
    assert not _measured(a, 0.9).anchored  # and taken again only beyond ANCHOR_S


def test_carried_by_the_monotonic_clock_between_measurements() -> None:
    """The host's wall clock stepped by NTP between two TIMEs moves nothing: Redis's time
    at the last measurement plus the monotonic seconds since."""
    a = clock.Anchor()
    redis_s = 1_800_000_000.0
    a.update(redis_s, redis_s + 600, time.monotonic() - 10)
    assert a.anchored and abs(a.now_s() - (redis_s + 10)) < 0.05


def test_a_slow_answer_is_not_judged_by() -> None:
    a = clock.Anchor()
    assert not asyncio.run(a.measure(FakeRedis(600, delay_s=clock.MAX_ROUND_TRIP_S + 0.1)))
    assert not a.anchored


def test_kept_measured_until_stopped() -> None:
    async def run() -> int:
        a, redis = clock.Anchor(), FakeRedis(-600)
        task = await a.start(redis, every_s=0.01)
        assert a.anchored  # measured before start returns: before a ticket is stamped
        redis.ahead_s = 0.0
        await asyncio.sleep(0.1)
        assert not a.anchored  # the host's clock set right meanwhile
        await clock.stop(task)
        return redis.asked
    assert asyncio.run(run()) > 2


def test_started_while_redis_is_away() -> None:
    class Away:
        async def time(self) -> Any:
            raise ConnectionError("no Redis")

    async def run() -> None:
        a = clock.Anchor()
        task = await a.start(Away(), every_s=0.01)
        await asyncio.sleep(0.05)
        assert not a.anchored and not task.done()
        await clock.stop(task)
    asyncio.run(run())


def test_the_process_time_is_the_anchors(anchor: clock.Anchor) -> None:
    _measured(anchor, -600)
    assert abs(clock.now_s() - (time.time() - 600)) < 0.05
    assert abs(clock.now_ms() / 1000 - (time.time() - 600)) < 0.05


def test_the_skew_message_says_redis_time_is_used(anchor: clock.Anchor) -> None:
    skew = clock.judge(time.time(), time.time() + 594, None)
    assert skew is not None and "would be ordered" in skew.message()  # not measured yet
    _measured(anchor, 594)
    assert "uses Redis's time instead" in skew.message() and "NTP" in skew.message()
    data = clock.judge(time.time(), time.time(), time.time() + 7200)
    assert data is not None and "would be ordered" in data.message()  # Redis can't help


# -- tokens ---------------------------------------------------------------------------------

def _reason(token: str) -> str:
    with pytest.raises(Unauthorized) as err:
        verify(KEY, token)
    return str(err.value.details["reason"])


def _signed(**claims: Any) -> str:
    return jwt.encode({"role": "admin", "sub": "t", **claims}, KEY, algorithm="HS256")


def test_a_token_from_a_right_clock_works_on_a_server_behind(anchor: clock.Anchor) -> None:
    """This host 10 min behind Redis (here: Redis 10 min ahead of the host's clock, which
    PyJWT would have read): a token minted at Redis's time is accepted, and so is one the
    host minted by its own clock (``switchboard token`` on it)."""
    _measured(anchor, 600)
    true_now = time.time() + 600
    assert verify(KEY, make_token(KEY, "admin", now=true_now, ttl_s=300)).role == "admin"
    assert verify(KEY, make_token(KEY, "admin", ttl_s=300)).role == "admin"  # anchored iat
    assert verify(KEY, make_token(KEY, "admin", now=time.time(), ttl_s=3600)).role == "admin"
    assert unverified_claims(KEY, make_token(KEY, "admin", now=true_now))["role"] == "admin"
    # Expired by Redis's time, though not by the host's: refused.
    assert _reason(make_token(KEY, "admin", now=time.time(), ttl_s=300)) == "expired"


def test_a_token_from_a_right_clock_works_on_a_server_ahead(anchor: clock.Anchor) -> None:
    _measured(anchor, -600)
    true_now = time.time() - 600
    # Unexpired by Redis's time, though 5 min past by the host's clock.
    assert verify(KEY, make_token(KEY, "admin", now=true_now, ttl_s=300)).role == "admin"


def test_every_time_refusal_is_kept(anchor: clock.Anchor) -> None:
    _measured(anchor, 600)
    true_now = time.time() + 600
    ahead = true_now + LEEWAY_S + 30
    assert _reason(_signed(iat=ahead, exp=ahead + 600)) == "not_yet_valid"
    assert _reason(_signed(iat=true_now, nbf=ahead, exp=ahead + 600)) == "not_yet_valid"
    assert _reason(_signed(iat=true_now - 900, exp=true_now - LEEWAY_S - 1)) == "expired"
    assert _reason(_signed(iat="soon", exp=true_now + 600)) == "malformed"
    assert _reason(_signed(iat=true_now, nbf="soon", exp=true_now + 600)) == "malformed"
    assert _reason(_signed(iat=true_now, exp="later")) == "malformed"
    assert _reason(_signed(iat=true_now)) == "missing_claim"
    with pytest.raises(Unauthorized) as err:
        unverified_claims(KEY, _signed(iat=ahead))
    assert err.value.details["reason"] == "not_yet_valid"
    # Within the leeway of Redis's time: accepted.
    near = true_now + LEEWAY_S - 5
    assert verify(KEY, _signed(iat=near, exp=near + 600)).role == "admin"


def test_a_refusal_is_not_cached(anchor: clock.Anchor) -> None:
    """Not yet valid by this process's time, then valid once Redis's is used."""
    token = _signed(iat=time.time() + 600, exp=time.time() + 1200)
    assert _reason(token) == "not_yet_valid"
    _measured(anchor, 600)
    assert verify(KEY, token).role == "admin"
    assert auth.NOT_YET_VALID.startswith("the token is not valid yet")
