"""Text to join: ``POST /v1/sites/{site}/sms``, the inbound side of an SMS gateway.

The gateway's adapter holds a ``partner`` token of the site whose channels include ``sms``
(``switchboard token partner --site S --subject sms-gateway --channels sms``) and posts each
text it receives: ``{"id": "<the gateway's message id>", "from": "+8613800138000",
"text": "A"}``. The answer's ``reply`` is what to text back (``null``: send nothing). Alerts
for the ticket ("almost your turn", "your turn", moved, cancelled by staff) then go out
through the notification webhook like any other ticket's, to the same number, with the
language it wrote in as ``lang``.

One open ticket per number and site (``sms:num:{number}``, kept two days); a retried
message (the same ``id`` from the same gateway) gets the same answer and never a second
ticket; each number may send ``SMS_PER_MIN`` texts a minute (more are answered with no
reply: texting back a flood would pay for it). Tickets are ``sms`` channel, the site's
default class, as a kiosk's. The words: queueing/sms.py.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from queueing import keys, sms
from queueing.engine import OPEN_STATES
from queueing.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    UnknownTicket,
)
from queueing.model import PLAIN_LINES, Channel, SiteConfig, TicketRequest, display_name
from realtime import ratelimit
from realtime.api import ticket_body
from realtime.auth import Principal
from realtime.body import json_body
from realtime.context import Context, actor, ctx, principal
from realtime.docs import Operation, register

log = logging.getLogger("switchboard.sms")

SMS_PER_MIN, SMS_BURST = 6, 10
NUMBER_TTL_S = 2 * 86400  # a number's ticket and language are remembered this long
PHONE = r"\+?[0-9]{6,15}"


class SmsMessage(msgspec.Struct, forbid_unknown_fields=True):
    """One text the gateway received."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
    sender: Annotated[str, msgspec.Meta(pattern=f"^{PHONE}$")] = msgspec.field(name="from")
    # Ten concatenated parts at most; line breaks allowed, other control characters not.
    text: Annotated[str, msgspec.Meta(max_length=1600, pattern=PLAIN_LINES)] = ""


def _json(data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(data), media_type="application/json", headers=headers)


def check_gateway(p: Principal, site: str) -> None:
    """An admin, or a partner of ``site`` whose channels include sms (the gateway)."""
    p.require("partner", site=site)
    if not p.is_admin and "sms" not in p.channels:
        raise Forbidden("this partner token is not for the sms channel (make one with "
                        "--channels sms)", role=p.role, field="channels")


async def sms_inbound(request: Request) -> Response:
    site = request.path_params["site"]
    p = principal(request)
    check_gateway(p, site)
    c = ctx(request)
    msg = await json_body(request, SmsMessage, c.settings.max_body_bytes)
    cfg = await c.engine.config(site)  # unknown_site before anything is counted
    done = keys.prefix(site) + f"sms:msg:{p.subject}:{msg.id}"
    seen = await c.redis.get(done)
    if seen is not None:
        return Response(seen, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    try:
        await ratelimit.take(c.redis, "sms", site, msg.sender, SMS_PER_MIN, SMS_BURST,
                             what="texts from this number")
    except RateLimited:
        log.warning("sms: texts from %s…%s at %s over %d a minute: not answered",
                    msg.sender[:4], msg.sender[-2:], site, SMS_PER_MIN)
        return _json({"reply": None, "lang": None, "command": "ignored",
                      "reason": "rate_limited", "ticket": None})
    answer = await Desk(c, site, cfg, p, request).handle(msg)
    body = msgspec.json.encode(answer)
    if not await c.redis.set(done, body, nx=True, ex=c.settings.idempotency_ttl_s):
        # The same message twice at once: both made the same ticket (its Idempotency-Key is
        # the message id); answer as the first did.
        first = await c.redis.get(done)
        return Response(first or body, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    return Response(body, media_type="application/json")


class Desk:
    """Answers one text: reads the number's ticket, acts, words the reply."""

    def __init__(self, c: Context, site: str, cfg: SiteConfig, p: Principal,
                 request: Request) -> None:
        self.c, self.site, self.cfg, self.p, self.request = c, site, cfg, p, request
        self.actor = actor(p, "sms")

    async def handle(self, msg: SmsMessage) -> dict[str, Any]:
        parsed = sms.parse(msg.text, self.cfg)
        state = {k.decode(): v.decode() for k, v in
                 (await self.c.redis.hgetall(keys.sms_number(self.site, msg.sender))).items()}  # type: ignore[misc]
        lang = sms.reply_language(parsed.lang, state.get("lang"), self.cfg)
        ticket = await self._open_ticket(state.get("ticket"))
        command = parsed.command
        if command is sms.Command.JOIN and parsed.service is None:
            if len(self.cfg.services) == 1 and parsed.unknown is None:
                parsed = sms.Parsed(command, self.cfg.services[0].id, parsed.lang)
            elif ticket is None:  # which one? (or one that is not here): the menu
                command = sms.Command.HELP
        reply, ticket = await self._act(command, parsed, msg, lang, ticket)
        mapping = {"lang": lang}
        if ticket is not None and ticket["status"] in OPEN_STATES:
            mapping["ticket"] = ticket["id"]
        pipe = self.c.redis.pipeline(transaction=True)
        pipe.hset(keys.sms_number(self.site, msg.sender), mapping=mapping)
        if "ticket" not in mapping:
            pipe.hdel(keys.sms_number(self.site, msg.sender), "ticket")
        pipe.expire(keys.sms_number(self.site, msg.sender), NUMBER_TTL_S)
        await pipe.execute()
        public = None if ticket is None else {k: ticket.get(k) for k in (
            "id", "number", "service", "status", "position", "people_ahead", "counter")}
        return {"reply": reply, "lang": lang, "command": command.value, "ticket": public}

    async def _open_ticket(self, ticket_id: str | None) -> dict[str, Any] | None:
        if not ticket_id:
            return None
        try:
            t = await self.c.engine.ticket(ticket_id)
        except UnknownTicket:  # expired with its site's history
            return None
        return t if t["status"] in OPEN_STATES else None

    async def _act(self, command: sms.Command, parsed: sms.Parsed, msg: SmsMessage, lang: str,
                   ticket: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
        site_name = display_name(self.cfg.name, lang, self.site)
        menu = sms.menu(self.cfg, lang)
        if command is sms.Command.HELP:
            if parsed.unknown is not None:
                kind = "unknown_service" if parsed.command is sms.Command.JOIN else "unknown"
                return sms.say(kind, lang, word=parsed.unknown, menu=menu,
                               site=site_name), ticket
            return menu, ticket
        if command is sms.Command.JOIN:
            if ticket is not None:
                return await self._status(ticket, lang, "already"), ticket
            return await self._join(parsed.service or "", msg, lang)
        if command is sms.Command.STOP:
            if ticket is None:
                return sms.say("stopped_none", lang, site=site_name), None
            ticket = await self.c.engine.set_notify(ticket["id"], None, self.actor)
            return sms.say("stopped", lang, number=ticket["number"]), ticket
        if ticket is None:
            return sms.say("none", lang, site=site_name, menu=menu), None
        if command is sms.Command.CANCEL:
            try:
                ticket = await self.c.engine.cancel(ticket["id"], self.actor, reason="by_holder")
            except Conflict:  # being served (a called ticket may be given up: "I can't come")
                return sms.say("cannot_cancel", lang, number=ticket["number"]), ticket
            return sms.say("cancelled", lang, number=ticket["number"]), ticket
        return await self._status(ticket, lang, "waiting"), ticket

    async def _join(self, service: str, msg: SmsMessage, lang: str
                    ) -> tuple[str, dict[str, Any]]:
        req = TicketRequest(service=service, channel=Channel.SMS, notify=msg.sender)
        issued = await self.c.engine.issue(self.site, req, self.actor, f"sms:{msg.id}")
        t = await ticket_body(self.c, self.site, issued.ticket, issued.replay)
        names = {"number": t["number"], "service": self._service(t["service"], lang)}
        if t["status"] == "called":  # nobody ahead and a counter free: called at once
            text = sms.say("called_now", lang, counter=self._counter(t, lang), **names)
        else:
            wait = sms.wait_text(lang, t["people_ahead"] or 0, t.get("estimate"),
                                 self._serving(t["service"]))
            text = sms.say("joined", lang, wait=wait, **names)
        return text + await self._link(t["tracker"], lang), t

    async def _status(self, t: dict[str, Any], lang: str, kind: str) -> str:
        number = t["number"]
        if t["status"] == "called":
            return sms.say("called", lang, number=number, counter=self._counter(t, lang))
        if t["status"] == "serving":
            return sms.say("serving", lang, number=number, counter=self._counter(t, lang))
        if t["status"] == "parked":
            return sms.say("parked", lang, number=number)
        estimate = None
        if self.c.hub is not None:
            estimate = self.c.hub.estimate_ticket(await self.c.hub.feed(self.site), t["id"])
        wait = sms.wait_text(lang, t["people_ahead"] or 0, estimate, self._serving(t["service"]))
        return sms.say(kind, lang, number=number, service=self._service(t["service"], lang),
                       wait=wait)

    def _service(self, sid: str, lang: str) -> str:
        s = self.cfg.service(sid)
        return display_name(s.name if s else None, lang, sid)

    def _counter(self, t: dict[str, Any], lang: str) -> str:
        ctr = self.cfg.counter(t.get("counter") or "")
        return display_name(ctr.name if ctr else None, lang, t.get("counter") or "")

    def _serving(self, service: str) -> bool:
        """Whether a counter is open for ``service`` now (else "no estimate yet" says why)."""
        hub = self.c.hub
        feed = hub.feeds.get(self.site) if hub is not None else None
        if feed is None:
            return True
        return bool(feed.view.open_counters(service))

    async def _link(self, tracker: str, lang: str) -> str:
        """A short link to the ticket's live page: the page's own link carries its token
        (~300 characters, five SMS parts in Chinese); ``/s/CODE`` redirects to it."""
        code = secrets.token_urlsafe(8)  # 64 bits: not guessed, as the token is not
        await self.c.redis.set(short_key(code), tracker, ex=self.c.settings.token_ttl_s)
        base = str(self.request.base_url).rstrip("/")
        return sms.say("link", lang, url=f"{base}/s/{code}")


async def sms_outbox(request: Request) -> Response:
    """``GET /v1/sites/{site}/sms/outbox?number=…``, the demo only: the texts the worker
    would have sent ``number`` through a gateway (none is configured in the demo), oldest
    first, at most 50 (``OutboxNotifier``). The demo's phone page shows them."""
    site = request.path_params["site"]
    check_gateway(principal(request), site)
    c = ctx(request)
    if not c.settings.demo:
        raise NotFound("the outbox is the demo's (switchboard serve --demo): a real "
                       "deployment's texts go through its gateway")
    number = request.query_params.get("number", "")
    if not re.fullmatch(PHONE, number):
        raise BadRequest("'number' is a phone number: + and 6 to 15 digits", field="number")
    raw = await c.redis.lrange(keys.sms_outbox(site, number), 0, -1)  # type: ignore[misc]
    return _json({"messages": [msgspec.json.decode(m) for m in raw]})


def short_key(code: str) -> str:
    return f"{keys.ROOT}:sl:{code}"


async def short_link(request: Request) -> Response:
    """``GET /s/{code}``: the ticket page a text's short link stands for (302), or 404."""
    code = request.path_params["code"]
    target = None
    if 0 < len(code) <= 32 and code.replace("-", "").replace("_", "").isalnum():
        target = await ctx(request).redis.get(short_key(code))
    if target is None:
        return HTMLResponse(GONE_PAGE, status_code=404)
    return RedirectResponse(target.decode(), status_code=302,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


GONE_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Link expired / 链接已失效</title>
<body style="font: 1.2rem/1.5 system-ui, sans-serif; margin: 2rem; max-width: 32rem">
<h1>This link has expired / 链接已失效</h1>
<p>Text STATUS to the same number to hear where your ticket is.</p>
<p lang="zh">请向同一号码发送“查询”了解您的排队进度。</p>
</body></html>
"""


ROUTES = [Route("/v1/sites/{site}/sms", sms_inbound, methods=["POST"]),
          Route("/v1/sites/{site}/sms/outbox", sms_outbox, methods=["GET"]),
          Route("/s/{code}", short_link, methods=["GET"])]

register(
    Operation("post", "/v1/sites/{site}/sms", "Text to join: one SMS the gateway received "
              "({id, from, text}); answers {reply, lang, command, ticket} — reply is what to "
              "text back (null: nothing). JOIN/a service's letter takes an sms ticket, STATUS, "
              "CANCEL, STOP, HELP; also in Chinese", "admin, or a partner of the site whose "
              "channels include sms", SmsMessage, 200,
              ("bad_request", "unknown_field", "unknown_site", "forbidden",
               "payload_too_large")),
    Operation("get", "/v1/sites/{site}/sms/outbox", "The demo only (serve --demo, no "
              "gateway): the texts the worker would have sent `number`, oldest first, at most "
              "50: {messages: [notification]}", "admin, or a partner of the site whose channels "
              "include sms", errors=("not_found", "bad_request", "forbidden"),
              query=("number",)),
)
