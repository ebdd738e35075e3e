"""Text to join against a real server and Redis: the SMS gateway's adapter posts each text it
receives to ``POST /v1/sites/{site}/sms`` and texts back the answer's ``reply``. The gateway
itself is outside (a fake: these tests post as it would)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from queueing import keys
from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications
from queueing.booking.notify import Notification, OutboxNotifier
from tests.integration.conftest import Server, running_server

PHONE = "+8613800138000"
_ids = itertools.count(1)


def _gateway(s: Server) -> dict[str, str]:
    return s.auth("partner", site="demo", subject="sms-gateway", channels=["sms"])  # type: ignore[arg-type]


async def text(s: Server, body: str, sender: str = PHONE, msg_id: str | None = None,
               status: int = 200) -> dict[str, Any]:
    r = await s.client.post("/v1/sites/demo/sms", headers=_gateway(s), json={
        "id": msg_id or f"m{next(_ids)}", "from": sender, "text": body})
    assert r.status_code == status, r.text
    out: dict[str, Any] = r.json()
    return out


async def _tickets(redis: Redis) -> int:
    return len([k async for k in redis.scan_iter(match=keys.prefix("demo") + "t:*")])


async def test_join_by_letter_status_call_and_the_short_link(server: Server,
                                                             redis: Redis) -> None:
    s = server
    first = await text(s, "A")  # no words to tell the language: the site's first (zh)
    assert first["command"] == "join" and first["lang"] == "zh"
    t = first["ticket"]
    assert (t["service"], t["status"], t["position"]) == ("internal", "waiting", 1)
    assert first["reply"].startswith(f"您的号码是 {t['number']}（内科）。下一位就是您")
    full = (await s.client.get(f"/v1/tickets/{t['id']}", headers=s.auth("admin"))).json()
    assert full["channel"] == "sms"
    assert await redis.hget(keys.ticket("demo", t["id"]), "notify") == PHONE.encode()
    # The reply links to the live ticket page through a short link (the page's own link
    # carries a token of ~300 characters).
    link = first["reply"].rsplit(" ", 1)[1]
    assert link.startswith(s.base + "/s/") and len(link) < len(s.base) + 20
    r = await s.client.get(link, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith(f"/ticket/{t['id']}?token=")
    page = await s.client.get(r.headers["location"])
    assert page.status_code == 200
    token = r.headers["location"].split("token=")[1]
    own = await s.client.get(f"/v1/tickets/{t['id']}", headers={
        "Authorization": f"Bearer {token}"})
    assert own.status_code == 200  # the holder's own token
    gone = await s.client.get("/s/not-a-code", follow_redirects=False)
    assert gone.status_code == 404 and "expired" in gone.text

    # Someone else joins behind; English words, English answers.
    other = await text(s, "join internal medicine", sender="+447700900123")
    assert other["lang"] == "en" and other["ticket"]["position"] == 2
    assert other["reply"].startswith(f"Your ticket is {other['ticket']['number']} (Internal "
                                     "medicine). 1 person is ahead of you")
    # Their number now answers in English without English words.
    again = await text(s, "?", sender="+447700900123")
    assert again["command"] == "help" and again["lang"] == "en"
    assert again["reply"].startswith("Reply with a letter to take a ticket: A Internal medicine")
    dup = await text(s, "B", sender="+447700900123")  # waiting: the same ticket
    assert dup["ticket"]["id"] == other["ticket"]["id"]
    assert dup["reply"].startswith(f"You already have ticket {other['ticket']['number']} "
                                   "(Internal medicine). 1 person is ahead of you")
    st = await text(s, "status", sender="+447700900123")
    assert st["command"] == "status"
    assert st["reply"].startswith(f"Ticket {other['ticket']['number']} (Internal medicine): "
                                  "1 person is ahead of you")

    r = await s.client.post("/v1/sites/demo/counters/1/call-next", headers=s.auth("admin"))
    assert r.json()["id"] == t["id"]
    called = await text(s, "查询")
    assert called["reply"] == f"{t['number']} 号：到您了，请马上到1号诊室。"
    assert called["ticket"]["status"] == "called"
    # A second JOIN answers with the ticket it has (called: go now), not a new one.
    before = await _tickets(redis)
    dup = await text(s, "B")
    assert dup["ticket"]["id"] == t["id"] and await _tickets(redis) == before
    assert dup["reply"] == called["reply"]
    # Being served: cannot be cancelled by text.
    r = await s.client.post("/v1/sites/demo/counters/1/start", headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    no = await text(s, "取消")
    assert no["command"] == "cancel" and no["ticket"]["status"] == "serving"
    assert no["reply"].startswith(f"{t['number']} 号正在办理中，无法用短信取消")
    assert (await text(s, "查询"))["reply"] == f"{t['number']} 号正在1号诊室办理。"
    # Someone called who cannot come texts CANCEL: the counter need not wait for them.
    r = await s.client.post("/v1/sites/demo/counters/2/call-next", headers=s.auth("admin"))
    assert r.json()["id"] == other["ticket"]["id"]
    gone = await text(s, "Cancel", sender="+447700900123")
    assert gone["ticket"]["status"] == "cancelled"
    assert gone["reply"] == (f"Ticket {other['ticket']['number']} is cancelled. Thank you for "
                             "letting us know.")


async def test_cancel_stop_and_join_again(server: Server, redis: Redis) -> None:
    s = server
    joined = await text(s, "取号 儿科")
    tid = joined["ticket"]["id"]
    assert joined["lang"] == "zh" and joined["ticket"]["service"] == "paediatrics"
    stop = await text(s, "STOP")
    assert stop["reply"] == (f"You will get no more texts about ticket {joined['ticket']['number']}"
                             ". It keeps its place: reply STATUS to check.")
    assert await redis.hget(keys.ticket("demo", tid), "notify") in (None, b"")
    assert (await s.client.get(f"/v1/tickets/{tid}", headers=s.auth("admin"))).json()[
        "status"] == "waiting"
    bye = await text(s, "cancel")
    assert bye["ticket"]["status"] == "cancelled"
    got = (await s.client.get(f"/v1/tickets/{tid}", headers=s.auth("admin"))).json()
    assert got["status"] == "cancelled" and got["cancel_reason"] == "by_holder"
    none = await text(s, "status")
    assert none["ticket"] is None
    assert none["reply"].startswith("You have no ticket waiting at ")
    assert "Reply with a letter to take a ticket" in none["reply"]
    assert (await text(s, "STOP"))["reply"].startswith("You will get no more texts from ")
    # A new ticket after the old one ended.
    new = await text(s, "d")
    assert new["ticket"]["service"] == "pharmacy" and new["ticket"]["id"] != tid


async def test_words_not_understood_get_the_menu(server: Server, redis: Redis) -> None:
    s = server
    before = await _tickets(redis)
    what = await text(s, "hello", sender="+8613900000001")
    assert what["command"] == "help" and what["ticket"] is None
    assert what["reply"].startswith("抱歉，没有看懂“hello”。回复字母取号：A 内科，B 儿科")
    which = await text(s, "join dentist", sender="+8613900000001")
    assert which["reply"].startswith('There is no service "dentist" at ')
    bare = await text(s, "JOIN", sender="+8613900000001")  # five services: which one?
    assert bare["command"] == "help" and "Reply with a letter" in bare["reply"]
    assert await _tickets(redis) == before


async def test_a_retried_message_gets_the_same_answer_and_one_ticket(server: Server,
                                                                    redis: Redis) -> None:
    s = server
    before = await _tickets(redis)
    body = {"id": "gw-77", "from": PHONE, "text": "C"}
    r1 = await s.client.post("/v1/sites/demo/sms", headers=_gateway(s), json=body)
    r2 = await s.client.post("/v1/sites/demo/sms", headers=_gateway(s), json=body)
    assert r1.status_code == r2.status_code == 200
    assert r1.content == r2.content and r2.headers["idempotent-replayed"] == "true"
    assert await _tickets(redis) == before + 1


async def test_who_may_post_and_bad_input(server: Server, redis: Redis) -> None:
    s = server
    url = "/v1/sites/demo/sms"
    ok = {"id": "x1", "from": PHONE, "text": "A"}
    for headers, status, code in [
        ({}, 401, "unauthorized"),
        (s.auth("kiosk", site="demo"), 403, "forbidden"),
        (s.auth("partner", site="demo", subject="app"), 200, None),  # default channels: sms
        (s.auth("partner", site="demo", subject="web", channels=["web"]), 403,  # type: ignore[arg-type]
         "forbidden"),
        (s.auth("partner", site="other", subject="sms", channels=["sms"]), 403,  # type: ignore[arg-type]
         "forbidden"),
    ]:
        r = await s.client.post(url, headers=headers, json=ok)
        assert r.status_code == status, (headers, r.text)
        if code:
            assert r.json()["code"] == code
    before = await _tickets(redis)
    for body, field in [
        ({"id": "x2", "from": "12ab", "text": "A"}, "from"),
        ({"id": "x3", "text": "A"}, "from"),
        ({"id": "", "from": PHONE, "text": "A"}, "id"),
        ({"id": "x4", "from": PHONE, "text": "A", "extra": 1}, "extra"),
        ({"id": "x5", "from": PHONE, "text": "A\x00"}, "text"),
        ({"id": "x6", "from": PHONE, "text": "A" * 1601}, "text"),
        ({"id": "x7", "from": PHONE, "text": 5}, "text"),
    ]:
        r = await s.client.post(url, headers=_gateway(s), json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text
    r = await s.client.post("/v1/sites/nowhere/sms", headers=s.auth("admin"), json=ok)
    assert (r.status_code, r.json()["code"]) == (404, "unknown_site")
    assert await _tickets(redis) == before


async def test_a_flood_from_one_number_is_not_answered(server: Server, redis: Redis) -> None:
    s = server
    answers = [await text(s, "help", sender="+8613700000009") for _ in range(14)]
    ignored = [a for a in answers if a["command"] == "ignored"]
    assert len(answers) - len(ignored) == 10  # the burst, then nothing to text back
    assert all(a["reply"] is None and a["reason"] == "rate_limited" for a in ignored)
    # Other numbers are not affected.
    assert (await text(s, "help", sender="+8613700000010"))["command"] == "help"


class Gateway:
    def __init__(self) -> None:
        self.got: list[Notification] = []

    async def send(self, n: Notification) -> None:
        self.got.append(n)

    async def aclose(self) -> None:
        pass


async def test_alerts_go_in_the_language_the_number_wrote_in(server: Server,
                                                            redis: Redis) -> None:
    await text(server, "join pharmacy", sender="+8613600000001")
    gateway = Gateway()
    notes = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    try:
        for to in ("+8613600000001", "+8613600000002"):
            await notes.try_send(Notification(
                id=f"demo:turn:{to}", kind="turn", site="demo", to=to, at="2026-12-06T09:00:00Z",
                text={"zh": "请 D001 号到 5号窗口", "en": "Ticket D001, please go to Counter 5"}))
    finally:
        await notes.stop()
    assert [n.lang for n in gateway.got] == ["en", None]  # the second never texted the site


async def test_the_openapi_document_lists_it(server: Server) -> None:
    spec = (await server.client.get("/openapi.json")).json()
    op = spec["paths"]["/v1/sites/{site}/sms"]["post"]
    assert "Text to join" in op["summary"]


async def test_the_demo_outbox(server: Server, redis: Redis, redis_server: Any,
                               tmp_path: Path) -> None:
    """The demo has no gateway: the worker keeps the texts (``OutboxNotifier``) and the phone
    page reads them; a real deployment has no outbox (404)."""
    r = await server.client.get("/v1/sites/demo/sms/outbox", params={"number": PHONE},
                                headers=_gateway(server))
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    box = OutboxNotifier(redis)
    for i in range(OutboxNotifier.KEEP + 3):
        await box.send(Notification(id=f"demo:turn:{i}", kind="turn", site="demo", to=PHONE,
                                    text={"en": f"call {i}"}, at="2026-12-06T09:00:00Z"))
    async with running_server(redis_server.url, tmp_path / "d", demo=True) as demo:
        url = "/v1/sites/demo/sms/outbox"
        r = await demo.client.get(url, params={"number": PHONE}, headers=_gateway(demo))
        got = r.json()["messages"]
        assert len(got) == OutboxNotifier.KEEP  # the newest, oldest first
        assert got[0]["id"] == "demo:turn:3"
        assert got[-1]["text"] == {"en": f"call {OutboxNotifier.KEEP + 2}"}
        assert (await demo.client.get(url, params={"number": "+8613000000000"},
                                      headers=_gateway(demo))).json() == {"messages": []}
        r = await demo.client.get(url, params={"number": "x"}, headers=_gateway(demo))
        assert (r.status_code, r.json()["code"]) == (400, "bad_request")
        r = await demo.client.get(url, params={"number": PHONE},
                                  headers=demo.auth("kiosk", site="demo"))
        assert r.status_code == 403
    assert await redis.ttl(keys.sms_outbox("demo", PHONE)) > 0
