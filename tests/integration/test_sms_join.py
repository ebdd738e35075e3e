"""Text to join against a real server and Redis: the SMS gateway's adapter posts each text it
receives to ``POST /v1/sites/{site}/sms`` and texts back the answer's ``reply``. The gateway
itself is outside (a fake: these tests post as it would)."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
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
    first = await text(s, "A")  # no words to tell the language: a +86 number, zh
    assert first["command"] == "join" and first["lang"] == "zh"
    t = first["ticket"]
    assert (t["service"], t["status"], t["position"]) == ("internal", "waiting", 1)
    # No gateway for alerts on this server: the reply promises none.
    # The site's name first (the signature Chinese texts carry), then the ticket.
    assert first["reply"].startswith("【")
    assert f"】您已取号 {t['number']}（内科），下一位就是您" in first["reply"]
    assert "回复“查询”看进度，“取消”退号。" in first["reply"] and "短信通知" not in first["reply"]
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
    n2 = other["ticket"]["number"]
    assert other["lang"] == "en" and other["ticket"]["position"] == 2
    assert other["reply"].startswith(
        f"Demo Community Clinic: your ticket {n2} (Internal medicine). 1 person ahead")
    assert "Reply STATUS to check, CANCEL to leave. Live: " in other["reply"]
    assert "text you" not in other["reply"]
    # Their number now answers in English without English words.
    again = await text(s, "?", sender="+447700900123")
    assert again["command"] == "help" and again["lang"] == "en"
    assert again["reply"].startswith(
        "Demo Community Clinic: Text a letter for a ticket: A Internal medicine")
    dup = await text(s, "B", sender="447700900123")  # the same phone without its +
    assert dup["ticket"]["id"] == other["ticket"]["id"]
    assert dup["reply"].startswith(f"You already have {n2} (Internal medicine): 1 person ahead")
    assert dup["reply"].endswith(" One ticket per phone; for someone else, use their phone or "
                                 "the kiosk.")
    st = await text(s, "How long?", sender="+447700900123")
    assert st["command"] == "status"
    assert st["reply"].startswith(f"{n2} (Internal medicine): 1 person ahead")

    r = await s.client.post("/v1/sites/demo/counters/1/call-next", headers=s.auth("admin"))
    assert r.json()["id"] == t["id"]
    called = await text(s, "查询")
    assert called["reply"] == f"{t['number']} 号：到您了，请现在到1号诊室。"
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
    assert gone["reply"] == f"{n2} is cancelled. Thank you for letting us know."


async def test_cancel_stop_start_and_join_again(server: Server, redis: Redis) -> None:
    s = server
    joined = await text(s, "取号 儿科")
    tid, number = joined["ticket"]["id"], joined["ticket"]["number"]
    assert joined["lang"] == "zh" and joined["ticket"]["service"] == "paediatrics"
    on = await text(s, "status")
    assert "off" not in on["reply"] and "关闭" not in on["reply"]  # texts are on
    stop = await text(s, "STOP")
    assert stop["reply"] == ("OK: you will get no more texts from Demo Community Clinic, not "
                             f"even when {number} is called. {number} keeps its place. Text "
                             "START to get texts again.")
    assert await redis.hget(keys.ticket("demo", tid), "notify") in (None, b"")
    status = await text(s, "status")
    assert status["reply"].endswith("Texts about it are off: reply START to turn them on.")
    assert (await text(s, "START"))["reply"] == (f"Texts about {number} are on again: we'll "
                                                 "text you when you are called.")
    assert await redis.hget(keys.ticket("demo", tid), "notify") == PHONE.encode()
    bye = await text(s, "cancel")
    assert bye["ticket"]["status"] == "cancelled"
    got = (await s.client.get(f"/v1/tickets/{tid}", headers=s.auth("admin"))).json()
    assert got["status"] == "cancelled" and got["cancel_reason"] == "by_holder"
    none = await text(s, "status")
    assert none["ticket"] is None
    # Its ticket ended today: how, not "no ticket waiting".
    assert re.match(rf"{number} \(Paediatrics\) was cancelled at \d\d:\d\d\. Text a letter",
                    none["reply"]), none["reply"]
    assert (await text(s, "STOP"))["reply"] == (
        "OK: you will get no more texts from Demo Community Clinic. Text START to get them again.")
    # A new ticket after the old one ended.
    new = await text(s, "d")
    assert new["ticket"]["service"] == "pharmacy" and new["ticket"]["id"] != tid


async def test_words_not_understood_get_the_menu_without_an_echo(server: Server,
                                                                redis: Redis) -> None:
    s = server
    before = await _tickets(redis)
    what = await text(s, "join https://refund.example/pay", sender="+8613900000001")
    assert what["command"] == "help" and what["ticket"] is None
    assert "refund" not in what["reply"]  # a spoofed sender must not get a link from us
    assert what["reply"].startswith("Sorry, Demo Community Clinic has no such service. Text a "
                                    "letter for a ticket: A Internal medicine, B Paediatrics")
    hello = await text(s, "hello 👍", sender="+8613900000002")
    assert hello["reply"].startswith("抱歉，没看懂。回复字母取号")
    huh = await text(s, "你好，请问", sender="+8613900000003")
    assert huh["reply"].startswith("【示范社区诊所】回复字母取号：A 内科，B 儿科")  # greetings
    bare = await text(s, "JOIN", sender="+8613900000001")  # five services: which one?
    assert bare["command"] == "help" and "Text a letter" in bare["reply"]
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
    # A modem that reuses its ids: another sender's message with that id is its own (it
    # never gets the first person's answer and link) ...
    other = await text(s, "HELP", sender="+447700900081", msg_id="gw-77")
    assert other["command"] == "help" and other["ticket"] is None
    # ... and the same sender's same id with another text is refused, not replayed.
    r = await s.client.post("/v1/sites/demo/sms", headers=_gateway(s),
                            json={**body, "text": "CANCEL"})
    assert (r.status_code, r.json()["code"]) == (422, "idempotency_mismatch")


async def test_texts_sent_at_once_make_one_ticket(server: Server, redis: Redis) -> None:
    """Gateways deliver in parallel and people press send twice: five "A" at once made five
    tickets (one per number is a read then a write); a HELP beside a join lost the ticket."""
    s = server
    before = await _tickets(redis)
    sender = "+447700900051"
    answers = await asyncio.gather(*[text(s, "A", sender=sender) for _ in range(5)],
                                   text(s, "HELP", sender=sender), text(s, "HELP", sender=sender))
    ids = {a["ticket"]["id"] for a in answers[:5]}
    assert len(ids) == 1 and await _tickets(redis) == before + 1
    status = await text(s, "status", sender=sender)
    assert status["ticket"]["id"] in ids


async def test_a_number_typed_at_the_kiosk_is_known_by_text(server: Server,
                                                           redis: Redis) -> None:
    s = server
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("kiosk", site="demo"),
                            json={"service": "lab", "channel": "kiosk",
                                  "notify": "+447700900077"})
    kiosk = r.json()
    await s.caught_up()  # the hub's view follows
    status = await text(s, "status", sender="+447700900077")
    assert status["ticket"]["id"] == kiosk["id"]
    again = await text(s, "join a", sender="+447700900077")
    assert again["ticket"]["id"] == kiosk["id"]  # not a second ticket
    assert again["reply"].startswith(f"You already have {kiosk['number']} (Laboratory)")


async def test_no_ticket_by_text_while_no_counter_serves(server: Server, redis: Redis) -> None:
    """At 03:05 a text would have been first in the morning, ahead of everyone who came in."""
    s = server
    before = await _tickets(redis)
    r = await s.client.post("/v1/sites/demo/counters/4/close", headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    await s.caught_up()  # the hub's view follows
    closed = await text(s, "join laboratory", sender="+447700900099")
    assert closed["ticket"] is None and await _tickets(redis) == before
    assert closed["reply"] == ("No counter is serving Laboratory at Demo Community Clinic now, "
                               "so no ticket can be taken by text. Please text again when it "
                               "is open.")
    await s.client.post("/v1/sites/demo/counters/4/open", headers=s.auth("admin"))
    await s.caught_up()  # the hub's view follows
    assert (await text(s, "join laboratory", sender="+447700900099"))["command"] == "join"


async def test_who_may_post_and_bad_input(server: Server, redis: Redis) -> None:
    s = server
    url = "/v1/sites/demo/sms"
    ok = {"id": "x1", "from": PHONE, "text": "A"}
    for headers, status, code in [
        ({}, 401, "unauthorized"),
        (s.auth("kiosk", site="demo"), 403, "forbidden"),
        # A partner's default channels do not include sms: an app's or a booking site's
        # back end cannot post texts as any phone number (text-to-join review).
        (s.auth("partner", site="demo", subject="app"), 403, "forbidden"),
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
        ({"id": "x7", "from": PHONE, "text": 5}, "text"),
    ]:
        r = await s.client.post(url, headers=_gateway(s), json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text
    r = await s.client.post("/v1/sites/nowhere/sms", headers=s.auth("admin"), json=ok)
    assert (r.status_code, r.json()["code"]) == (404, "unknown_site")
    assert await _tickets(redis) == before
    # What a phone adds is no reason to leave someone without an answer: control and format
    # characters are dropped, a long text is cut.
    odd = await text(s, "A\x00\u2068", sender="+447700900061")
    assert odd["command"] == "join"
    long = await text(s, "HELP " + "x" * 5000, sender="+447700900062")
    assert long["command"] == "help" and long["reply"]


async def test_a_flood_from_one_number_is_not_answered(server: Server, redis: Redis) -> None:
    s = server
    sender = "+8613700000009"
    joined = await text(s, "E", sender=sender)
    answers = [await text(s, "help", sender=sender) for _ in range(13)]
    ignored = [a for a in answers if a["command"] == "ignored"]
    assert len(answers) - len(ignored) == 9  # the burst, then nothing to text back
    assert all(a["reply"] is None and a["reason"] == "rate_limited" for a in ignored)
    # Over the limit, STOP and CANCEL still act (with nothing texted back).
    stop = await text(s, "STOP", sender=sender)
    assert (stop["command"], stop["reply"], stop["reason"]) == ("stop", None, "rate_limited")
    tid = joined["ticket"]["id"]
    assert await redis.hget(keys.ticket("demo", tid), "notify") in (None, b"")
    bye = await text(s, "CANCEL", sender=sender)
    assert bye["ticket"]["status"] == "cancelled" and bye["reply"] is None
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
    await text(server, "取号 收费", sender="+8613600000003")
    gateway = Gateway()
    notes = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    try:
        for to, langs in (("+8613600000001", ("zh", "en")), ("+8613600000002", ("zh", "en")),
                          ("+8613600000003", ("zh-CN", "en-GB")),
                          ("+8613600000003", ("en-GB",))):
            await notes.try_send(Notification(
                id=f"demo:turn:{to}:{len(langs)}", kind="turn", site="demo", to=to,
                at="2026-12-06T09:00:00Z", text={lang: "…" for lang in langs}))
    finally:
        await notes.stop()
    # The language the number wrote in, as one of the text's own keys (a zh-CN or en-GB
    # site); none when the number never texted, or when the text has no such language.
    assert [n.lang for n in gateway.got] == ["en", None, "zh-CN", None]


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


async def test_links_use_the_public_address(redis: Redis, redis_server: Any,
                                            tmp_path: Path) -> None:
    """A gateway that calls an internal address must not hand people that address."""
    from realtime.settings import from_env
    from tests.integration.conftest import _demo_json
    async with running_server(redis_server.url, tmp_path,
                              public_url="https://queue.example.org/clinic/") as s:
        await s.client.put("/v1/sites/demo", content=_demo_json(), headers=s.auth("admin"))
        await s.client.post("/v1/sites/demo/counters/1/open", headers=s.auth("admin"))
        joined = await text(s, "A", sender="+447700900444")
        assert joined["reply"].rsplit(" ", 1)[1].startswith("https://queue.example.org/clinic/s/")
    for bad in ("queue.example.org", "https://x.org/?a=1", "ftp://x.org"):
        with pytest.raises(SystemExit):
            from_env({"SWITCHBOARD_PUBLIC_URL": bad})


async def test_the_answer_names_its_reply_for_template_gateways(server: Server) -> None:
    """Alibaba Cloud and Tencent Cloud send only pre-approved templates: the answer says which
    reply it is (``kind``) with what fills it (``ticket``, ``estimate``, ``link``)."""
    joined = await text(server, "A", sender="+8613511112222")
    assert joined["kind"] == "joined" and joined["link"].startswith(server.base + "/s/")
    assert joined["link"] in joined["reply"]
    status = await text(server, "查询", sender="+8613511112222")
    assert status["kind"] == "waiting" and status["link"] is None
    assert (await text(server, "?", sender="+8613511112222"))["kind"] == "menu"
    # Not understood, with a ticket: the ticket's status leads (and the reply words).
    assert (await text(server, "hello", sender="+8613511112222"))["kind"] == "waiting_help"
    assert (await text(server, "hello", sender="+8613500000000"))["kind"] == "unknown"
    assert (await text(server, "STOP", sender="+8613511112222"))["kind"] == "stopped"


async def test_numbers_typed_full_width_are_one_number(server: Server, redis: Redis) -> None:
    """A gateway or a console that passes on what a Chinese input method typed: the same
    person as the ASCII number (one ticket per number holds), texts go to the E.164 form;
    a sender that is no number is ``invalid_phone_number`` in words, not a regex."""
    s = server
    first = await text(s, "A", sender="１３８ ００１３ ８０４４")
    again = await text(s, "A", sender="+8613800138044")
    assert again["kind"] == "already" and again["ticket"]["id"] == first["ticket"]["id"]
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("admin"), json={
        "service": "lab", "channel": "phone", "notify": "１３９－００１３－９００３"})
    assert r.status_code == 201, r.text
    kept = await redis.hget(keys.ticket("demo", r.json()["id"]), "notify")  # type: ignore[misc]
    assert kept == b"+8613900139003"
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("admin"), json={
        "service": "lab", "channel": "phone", "notify": "１２３"})
    assert r.status_code == 400 and r.json()["details"] == {
        "field": "notify", "reason": "invalid_phone_number"}, r.text
    for bad in ("abc", "12"):
        r = await s.client.post("/v1/sites/demo/sms", headers=_gateway(s),
                                json={"id": f"bad-{bad}", "from": bad, "text": "A"})
        body = r.json()
        assert r.status_code == 400 and body["details"] == {
            "field": "from", "reason": "invalid_phone_number"}, r.text
        assert "regex" not in body["message"] and "phone number" in body["message"]


async def test_status_after_being_served_says_how_the_ticket_ended(server: Server) -> None:
    """Served, then STATUS: "A001 (Internal medicine) was completed at 08:02." (a ticket of
    this number ended today), not "You have no ticket waiting"; a next ticket's "already"
    reads "...: you are next" (no capital after the colon)."""
    s = server
    joined = await text(s, "join internal medicine", sender="+447700900555")
    number = joined["ticket"]["number"]
    dup = await text(s, "A", sender="+447700900555")
    assert dup["reply"].startswith(f"You already have {number} (Internal medicine): you are "
                                   "next"), dup["reply"]
    st = await text(s, "status", sender="+447700900555")
    assert st["reply"].startswith(f"{number} (Internal medicine): you are next"), st["reply"]
    for op in ("call-next", "start", "complete"):
        r = await s.client.post(f"/v1/sites/demo/counters/1/{op}", headers=s.auth("admin"))
        assert r.status_code == 200, r.text
    done = await text(s, "status", sender="+447700900555")
    assert done["ticket"] is None
    assert re.match(rf"{number} \(Internal medicine\) was completed at \d\d:\d\d\. Text a "
                    "letter for a ticket", done["reply"]), done["reply"]
    again = await text(s, "status", sender="+447700900555")  # and still on the next text
    assert again["reply"] == done["reply"]
    zh = await text(s, "查询", sender="+447700900555")
    assert re.match(rf"{number} 号（内科）已于 \d\d:\d\d 办理完成。", zh["reply"]), zh["reply"]
