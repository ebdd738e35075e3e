"""A 409 "still in progress" says when to try again: ``Retry-After`` (seconds) and
``details.retry_after_s``, from the remaining TTL of what holds the request up, as a 429
does. Without it a gateway or a partner's back end guessed (and some retried at once, in a
loop)."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from redis.asyncio import Redis

from queueing import keys
from realtime import idempotency, sms_api
from tests.integration.conftest import Server
from tests.integration.test_dispatch_support import config

WHERE = {"location": {"lat": 52.37, "lon": 4.89}}


def _retry_after(r: httpx.Response) -> int:
    body = r.json()
    assert (r.status_code, body["code"], body["temporary"]) == (409, "conflict", True), r.text
    assert int(r.headers["retry-after"]) == body["details"]["retry_after_s"]
    return int(r.headers["retry-after"])


async def test_an_idempotency_key_in_use_says_when_to_retry(server: Server,
                                                            redis: Redis) -> None:
    srv = server
    r = await srv.client.put("/v1/regions/city", content=msgspec.json.encode(config()),
                             headers=srv.auth("admin"))
    assert r.status_code == 200, r.text
    disp = srv.auth("dispatcher", region="city", subject="partner-backend")
    caller = "dispatcher/city/partner-backend"
    # The first call with the key is being made (its pending mark, as once() sets it).
    for key, pttl_ms, expect in (("k-short", 800, 1), ("k-long", 59_000, 2)):
        rkey = idempotency._redis_key("job:city", caller, key)
        await redis.set(rkey, b"{}", px=pttl_ms)
        r = await srv.client.post("/v1/regions/city/jobs", json=WHERE,
                                  headers={**disp, "Idempotency-Key": key})
        # The pending TTL bounds a call that died; a live one ends within a second or two.
        assert _retry_after(r) == expect
    # Once the first call is done, the retry is answered.
    await redis.delete(idempotency._redis_key("job:city", caller, "k-short"))
    r = await srv.client.post("/v1/regions/city/jobs", json=WHERE,
                              headers={**disp, "Idempotency-Key": "k-short"})
    assert r.status_code == 201 and "retry-after" not in r.headers


async def test_a_number_whose_text_is_being_answered_says_when_to_retry(
        server: Server, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sms_api, "LOCK_WAIT_S", 0.1)  # do not wait 5 s for the lock
    number = "+447700900777"
    # Another text of the number holds the lock (3.5 s left of its TTL).
    await redis.set(keys.sms_number("demo", number) + ":lock", b"other", px=3500)
    gateway = server.auth("partner", site="demo", subject="sms-gateway",
                          channels=["sms"])  # type: ignore[arg-type]
    r = await server.client.post("/v1/sites/demo/sms", headers=gateway, json={
        "id": "m-locked", "from": number, "text": "A"})
    assert _retry_after(r) in (3, 4)  # the lock's remaining TTL, rounded up
    assert await redis.get(keys.sms_number("demo", number) + ":lock") == b"other"
