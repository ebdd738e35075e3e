"""Counter operations safe to retry (``Idempotency-Key``), against a real server: a console
or an integration whose answer was lost retries it with the same key. Before, a retried
call-next was ``409 counter_busy`` (the ticket called, the clerk told it failed), a retried
complete/no-show/park/transfer ``409 counter_idle``, and a retried recall a second recall
(one call more towards the recall limit, the number said again on the board)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from queueing import keys
from tests.integration.conftest import Server

URL = "/v1/sites/demo/counters/1/"


def clerk(s: Server, key: str | None = None) -> dict[str, str]:
    auth = s.auth("agent", site="demo", counter="1", subject="clerk-1")
    return {**auth, "Idempotency-Key": key} if key else auth


async def issue(s: Server, n: int, customer: str | None = None) -> list[str]:
    body: dict[str, Any] = {"service": "internal", "channel": "window"}
    if customer:
        body["customer"] = customer
    numbers = []
    for _ in range(n):
        r = await s.client.post("/v1/sites/demo/tickets", json=body, headers=s.auth("admin"))
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    return numbers


async def waiting(s: Server) -> list[str]:
    r = await s.client.get("/v1/sites/demo/services/internal/queue", headers=s.auth("admin"))
    return [t["number"] for t in r.json()["tickets"]]


async def called(s: Server) -> list[str]:
    """The site's counters' current tickets."""
    r = await s.client.get("/v1/sites/demo", headers=s.auth("admin"))
    return [c["ticket"] for c in r.json()["counters"] if c.get("ticket")]


async def test_a_retried_call_next_answers_the_ticket_it_called(server: Server) -> None:
    a, b, c = await issue(server, 3)
    first = await server.client.post(URL + "call-next", headers=clerk(server, "press-1"))
    again = await server.client.post(URL + "call-next", headers=clerk(server, "press-1"))
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and first.json()["number"] == a
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await waiting(server) == [b, c]
    assert await called(server) == [first.json()["id"]]
    # Without a key, as before: a second call-next is a second press (the counter is busy).
    r = await server.client.post(URL + "call-next", headers=clerk(server))
    assert (r.status_code, r.json()["code"]) == (409, "counter_busy")
    for calls in (2, 3):  # and each recall without a key is one more call
        r = await server.client.post(URL + "recall", headers=clerk(server))
        assert r.json()["calls"] == calls


async def test_another_body_with_the_same_key_is_refused_and_changes_nothing(
        server: Server) -> None:
    await issue(server, 2)
    first = await server.client.post(URL + "call-next", headers=clerk(server, "press-1"))
    before = (await waiting(server), await called(server))
    for op, body in (("complete", {}), ("call-next", {"outcome": "x"}), ("recall", {})):
        r = await server.client.post(URL + op, json=body, headers=clerk(server, "press-1"))
        assert (r.status_code, r.json()["code"]) == (422, "idempotency_mismatch"), r.text
    assert (await waiting(server), await called(server)) == before
    t = await server.client.get(f"/v1/tickets/{first.json()['id']}", headers=server.auth("admin"))
    assert (t.json()["status"], t.json()["calls"]) == ("called", 1)


async def test_a_retried_recall_is_one_recall_and_a_retried_complete_is_answered(
        server: Server) -> None:
    await issue(server, 2)
    t = (await server.client.post(URL + "call-next", headers=clerk(server, "p1"))).json()
    for _ in range(3):
        r = await server.client.post(URL + "recall", headers=clerk(server, "p2"))
        assert (r.status_code, r.json()["calls"], r.json()["status"]) == (200, 2, "called")
    for _ in range(2):
        r = await server.client.post(URL + "complete", json={"outcome": "ok"},
                                     headers=clerk(server, "p3"))
        assert (r.status_code, r.json()["id"], r.json()["status"]) == (200, t["id"], "done")
    for _ in range(2):  # undo takes back that complete once; its retry says so again
        r = await server.client.post(URL + "undo", headers=clerk(server, "p4"))
        d = r.json()
        assert (r.status_code, d["status"], d["undone"]) == (200, "called", "completed")
    for _ in range(2):  # open/pause/close answer the counter's state: the first answer
        r = await server.client.post(URL + "pause", headers=clerk(server, "p5"))
        assert r.status_code == 200 and r.json()["state"] == "paused" and r.json()["offset"]


async def test_a_kept_answer_holds_no_name_and_a_retry_has_the_name_as_it_is_now(
        server: Server, redis: Redis) -> None:
    await issue(server, 1, customer="Mrs Li")
    first = await server.client.post(URL + "call-next", headers=clerk(server, "press-9"))
    assert first.json()["customer"] == "Mrs Li"
    records = keys.prefix("demo") + "idem:counter:*"  # in the site's slot: its scripts write it
    kept = [await redis.get(k) async for k in redis.scan_iter(match=records)]
    assert len(kept) == 1 and b"Mrs Li" not in kept[0] and first.json()["id"].encode() in kept[0]
    again = await server.client.post(URL + "call-next", headers=clerk(server, "press-9"))
    assert again.json() == first.json()
    # Erased (GDPR art. 17): the retry's answer has no name either.
    r = await server.client.post("/v1/sites/demo/erase", json={"ticket": first.json()["id"]},
                                 headers=server.auth("admin"))
    assert r.status_code == 200, r.text
    again = await server.client.post(URL + "call-next", headers=clerk(server, "press-9"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert "customer" not in again.json()


async def test_keys_are_per_caller_and_checked(server: Server) -> None:
    await issue(server, 2)
    r = await server.client.post(URL + "call-next", headers=clerk(server, "x" * 201))
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")
    assert await called(server) == []
    first = await server.client.post(URL + "call-next", headers=clerk(server, "press-1"))
    assert first.status_code == 200
    # Another person's token at the same counter: the same key is a key of its own.
    other = server.auth("agent", site="demo", counter="1", subject="clerk-2")
    r = await server.client.post(URL + "call-next", headers={**other, "Idempotency-Key": "press-1"})
    assert (r.status_code, r.json()["code"]) == (409, "counter_busy")


async def test_a_retried_transfer_from_the_queue_list_is_one_transfer(server: Server) -> None:
    """Reception moves a waiting ticket to another service from the queue list; the answer
    is lost and the console sends it again with the same key: answered with the first move
    (no second event, no error), and the same key for another ticket or service refused."""
    a, b = await issue(server, 2, customer="Mr Wu")
    queue = (await server.client.get("/v1/sites/demo/services/internal/queue",
                                     headers=server.auth("admin"))).json()["tickets"]
    tid = next(t["id"] for t in queue if t["number"] == a)
    path = f"/v1/tickets/{tid}/transfer"
    first = await server.client.post(path, json={"service": "lab"},
                                     headers=clerk(server, "move-1"))
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["service"]) == ("transferred", "lab")
    before = (await server.client.get(f"/v1/tickets/{tid}", headers=server.auth("admin"))
              ).json()
    for _ in range(2):
        again = await server.client.post(path, json={"service": "lab"},
                                         headers=clerk(server, "move-1"))
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json() and again.json()["customer"] == "Mr Wu"
    assert (await server.client.get(f"/v1/tickets/{tid}", headers=server.auth("admin"))
            ).json() == before  # not moved again (its place in the new queue kept)
    assert await waiting(server) == [b]
    r = await server.client.post(path, json={"service": "paediatrics"},
                                 headers=clerk(server, "move-1"))
    assert (r.status_code, r.json()["code"]) == (422, "idempotency_mismatch"), r.text
    # A key that failed (an unknown service) is free again: nothing was done.
    r = await server.client.post(path, json={"service": "nope"}, headers=clerk(server, "move-2"))
    assert (r.status_code, r.json()["code"]) == (404, "unknown_service"), r.text
    r = await server.client.post(path, json={"service": "internal"},
                                 headers=clerk(server, "move-2"))
    assert r.status_code == 200 and r.json()["service"] == "internal", r.text


async def test_an_operation_that_ran_before_its_answer_was_lost_is_not_done_again(
        server: Server, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """The change is made, then the server fails before it keeps the answer (here an error
    right after the script; a process killed there leaves the same record): the retry is
    answered with what was done. Before, the failure freed the key and the retry called the
    next patient too."""
    a, b, c = await issue(server, 3, customer="Mrs Zhao")
    engine = server.app.state.sb.engine
    real = engine.counter_op

    async def ran_then_died(*args: Any, **kw: Any) -> Any:
        await real(*args, **kw)
        raise RuntimeError("the server died here")

    monkeypatch.setattr(engine, "counter_op", ran_then_died)
    lost = await server.client.post(URL + "call-next", headers=clerk(server, "press-7"))
    assert lost.status_code == 500
    monkeypatch.setattr(engine, "counter_op", real)
    again = await server.client.post(URL + "call-next", headers=clerk(server, "press-7"))
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert (again.json()["number"], again.json()["status"]) == (a, "called")
    assert again.json()["customer"] == "Mrs Zhao"
    assert await waiting(server) == [b, c] and await called(server) == [again.json()["id"]]
    # From then on an ordinary replay; the record holds the ticket's id, not its holder.
    third = await server.client.post(URL + "call-next", headers=clerk(server, "press-7"))
    assert third.json() == again.json()
    kept = [await redis.get(k) async for k in redis.scan_iter(
        match=keys.prefix("demo") + "idem:counter:*")]
    assert len(kept) == 1 and b"Mrs Zhao" not in kept[0]


async def test_a_lost_redis_reply_after_the_change_is_answered_on_retry(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis ran the script but its reply never came (a connection reset): 503 to the
    console, whose retry with the same key gets the change made, not a second one. Also a
    counter's state change (pause) and a queue-list transfer."""
    a, b = await issue(server, 2)
    store = server.app.state.sb.engine.store
    real = store.scripts

    async def reply_lost(*args: Any, **kw: Any) -> Any:
        await real(*args, **kw)
        raise RedisConnectionError("Connection reset by peer")

    async def once_lost(path: str, key: str, body: Any = None) -> httpx.Response:
        monkeypatch.setattr(store, "scripts", reply_lost)
        try:
            first = await server.client.post(path, json=body, headers=clerk(server, key))
        finally:
            monkeypatch.setattr(store, "scripts", real)
        assert (first.status_code, first.json()["code"]) == (503, "unavailable"), first.text
        again = await server.client.post(path, json=body, headers=clerk(server, key))
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        return again

    assert (await once_lost(URL + "call-next", "k1")).json()["number"] == a
    assert await waiting(server) == [b]
    done = (await once_lost(URL + "complete", "k2", {"outcome": "ok"})).json()
    assert (done["number"], done["status"]) == (a, "done")
    paused = (await once_lost(URL + "pause", "k3")).json()
    assert (paused["counter"], paused["state"], paused["ticket"]) == ("1", "paused", None)
    assert paused["offset"]
    queue = (await server.client.get("/v1/sites/demo/services/internal/queue",
                                     headers=server.auth("admin"))).json()["tickets"]
    moved = await once_lost(f"/v1/tickets/{queue[0]['id']}/transfer", "k4", {"service": "lab"})
    assert (moved.json()["number"], moved.json()["service"]) == (b, "lab")
    assert await waiting(server) == []
