"""A phone-line or desk ticket with a number takes ``lang``, the language of its texts (one
the site speaks, else 400 ``bad_request`` with ``details.reason: unsupported_language``); a
ticket taken by text keeps the language its text was written in, when it tells (Chinese
characters: zh). Over HTTP, with the real notification watcher and a fake SMS gateway."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from queueing.booking import langs
from queueing.engine import Engine
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server
from tests.integration.test_notif_webhook import SECRET, Receiver, receiver
from tests.integration.test_security_review import demo_server
from tests.integration.test_text_language import AGENT, sent, until, watching


@contextlib.asynccontextmanager
async def texting(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
                  ) -> AsyncIterator[tuple[Receiver, Server, Engine]]:
    """The demo served with texts going to a fake gateway, and room 1 open."""
    async with receiver() as rec, demo_server(
            redis_server, tmp_path, notify_webhook_url=rec.url,
            notify_webhook_secret=SECRET) as s, watching(redis, rec.url) as engine:
        await engine.counter_op("demo", "1", "open", AGENT)
        yield rec, s, engine


async def served_in_turn(engine: Engine, rec: Receiver, n: int) -> dict[str, str | None]:
    """Room 1 calls and completes ``n`` tickets: {ticket: the language of its turn text}."""
    for _ in range(n):
        await engine.counter_op("demo", "1", "call-next", AGENT)
        await engine.counter_op("demo", "1", "complete", AGENT)
    turns = await until(lambda: (lambda x: x if len(x) == n else None)(
        sent(rec, "turn")), f"{n} turn texts")
    return {t["ticket"]: t.get("lang") for t in turns}


async def test_a_phone_ticket_s_texts_go_in_the_language_staff_chose(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with texting(redis, redis_server, tmp_path) as (rec, s, engine):
        agent = s.auth("agent", site="demo", counter="1")
        # A Chinese number whose person asked for English on the phone, and a British one
        # for Chinese; one without lang: as before (the gateway's default).
        cases = [("+8613800138001", "en"), ("+447700900801", "zh"), ("+447700900802", None)]
        tickets = []
        for number, lang in cases:
            body: dict[str, Any] = {"service": "internal", "channel": "phone", "notify": number}
            r = await s.client.post("/v1/sites/demo/tickets", headers=agent,
                                    json=body if lang is None else {**body, "lang": lang})
            assert r.status_code == 201, r.text
            assert "lang" not in r.json()  # the ticket is as before
            tickets.append(r.json()["id"])
        assert await langs.of_ticket(redis, "demo", tickets[1]) == "zh"
        # A language the site does not speak is refused, naming the ones it does; nothing
        # is issued.
        r = await s.client.post("/v1/sites/demo/tickets", headers=agent, json={
            "service": "internal", "channel": "phone", "notify": "+447700900803", "lang": "fr"})
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "bad_request" and r.json()["details"] == {
            "field": "lang", "reason": "unsupported_language", "allowed": ["zh", "en"]}
        r = await s.client.post("/v1/sites/demo/tickets", headers=agent, json={
            "service": "internal", "channel": "phone", "lang": "English"})
        assert r.status_code == 400 and r.json()["details"]["field"] == "lang", r.text
        # No number to text: the language has nothing to apply to (a page may always send
        # its own): accepted, not kept.
        r = await s.client.post("/v1/sites/demo/tickets", headers=agent, json={
            "service": "internal", "channel": "window", "lang": "fr"})
        assert r.status_code == 201, r.text
        assert await langs.of_ticket(redis, "demo", r.json()["id"]) is None
        lang = await served_in_turn(engine, rec, len(tickets))
        assert [lang[t] for t in tickets] == ["en", "zh", None]


async def test_a_ticket_taken_by_a_chinese_text_is_called_in_chinese(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """A British number (whose country suggests English) texts in Chinese: its alerts come
    in Chinese; a bare letter from another gets its country's English. Nothing is kept on
    the ticket (a number's alerts follow the language it last wrote in, docs/sms.md)."""
    async with texting(redis, redis_server, tmp_path) as (rec, s, engine):
        gateway = s.auth("partner", site="demo", subject="sms-gateway",  # type: ignore[arg-type]
                         channels=["sms"])

        async def text(body: str, n: int, sender: str) -> dict[str, Any]:
            r = await s.client.post("/v1/sites/demo/sms", headers=gateway, json={
                "id": f"m{n}", "from": sender, "text": body})
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

        joined = await text("取号 内科", 1, "+447700900901")
        assert joined["command"] == "join" and joined["lang"] == "zh"
        bare = await text("A", 2, "+447700900902")
        assert bare["lang"] == "en"
        zh_ticket, bare_ticket = joined["ticket"]["id"], bare["ticket"]["id"]
        assert await langs.of_ticket(redis, "demo", zh_ticket) is None
        lang = await served_in_turn(engine, rec, 2)
        assert (lang[zh_ticket], lang[bare_ticket]) == ("zh", "en")
