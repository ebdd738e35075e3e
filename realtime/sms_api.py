"""Text to join: ``POST /v1/sites/{site}/sms``, the inbound side of an SMS gateway.

The gateway's adapter holds a ``partner`` token of the site whose channels include ``sms``
(``switchboard token partner --site S --subject sms-gateway --channels sms``) and posts each
text it receives: ``{"id": "<the gateway's message id>", "from": "+8613800138000",
"text": "A"}``. The answer's ``reply`` is what to text back (``null``: send nothing). Alerts
for the ticket ("almost your turn", "your turn", moved, cancelled by staff) then go out
through the notification webhook like any other ticket's, to the same number, with the
language it wrote in as ``lang``.

One open ticket per number and site: the one it took by text (``sms:num:{number}``, the
number in E.164 as queueing/phone.py reads a gateway's: "8613800138000" is "+8613800138000",
and at a Chinese site so is "13800138000"; kept a week) or one that names the number for
alerts (typed at the kiosk); one text of a number is answered at a time (a lock), so texts
sent at once never make two. A retried message (the same ``id`` from the same gateway and
sender) gets the same answer and never a second ticket; the same id with another text is
refused. Each number may send ``SMS_PER_MIN``
texts a minute: past it STOP and CANCEL still act, nothing is texted back (a flood would pay
for it). Each gateway may make ``JOINS_PER_MIN`` tickets a minute per site (429 past it).
A site holds at most ``SWITCHBOARD_SMS_MAX_OPEN_PER_SITE`` open sms tickets (a JOIN past it
is answered, with no ticket). Outside the site's issuing hours (``policy.hours``,
queueing/hours.py) a JOIN is answered with when a text can take a ticket (``kind``
``site_closed`` or ``service_closed``, ``closed``: the refusal's details). Tickets are taken
only while a counter for the service is open
or paused, are ``sms`` channel and the site's default class, as a kiosk's. A service no
counter lists is not offered (as the kiosk leaves it out, queueing/served.py): the menu
omits it and a text naming it is answered as one naming no service. The words:
queueing/sms.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from queueing import hours, keys, optout, phone, served, sms, sms_desk
from queueing.engine import OPEN_STATES
from queueing.errors import (
    Conflict,
    Forbidden,
    IdempotencyMismatch,
    NotFound,
    RateLimited,
    SiteClosed,
    UnknownTicket,
)
from queueing.model import Channel, SiteConfig, TicketRequest, display_name
from realtime import ratelimit, sms_bookings
from realtime.api import ticket_body
from realtime.auth import Principal
from realtime.body import json_body
from realtime.context import Context, actor, ctx, principal
from realtime.docs import Operation, register
from realtime.idempotency import retry_after_s

log = logging.getLogger("switchboard.sms")

SMS_PER_MIN, SMS_BURST = 6, 10  # texts per number
JOINS_PER_MIN, JOINS_BURST = 120, 120  # new tickets per gateway (token subject) and site
# STATUS with no ticket waiting, after one of the number's ended today: how it ended.
ENDED_KINDS = {"done": "ended_done", "no_show": "ended_no_show",
               "cancelled": "ended_cancelled"}
NUMBER_TTL_S = 7 * 86400  # a number's ticket and language are remembered this long
PHONE = phone.PATTERN  # as written: queueing/phone.py makes it one spelling
MAX_TEXT = 1600  # ten concatenated parts: a longer text is cut, not refused
LOCK_TTL_MS, LOCK_WAIT_S = 5000, 5.0


class SmsMessage(msgspec.Struct, forbid_unknown_fields=True):
    """One text the gateway received."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
    sender: Annotated[str, msgspec.Meta(pattern=f"^{PHONE}$")] = msgspec.field(name="from")
    # What the person wrote, as it came: control and format characters are dropped and a
    # text over MAX_TEXT is cut (a person whose phone added an odd character still gets an
    # answer); the body's own limit bounds it.
    text: str = ""


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
    sender = phone.normalise(msg.sender, cfg.phone_region(), international=True, field="from")
    # A message id is the gateway's (GSM modems reuse theirs): the answer is kept per
    # gateway, sender and id, with what was sent, so a reused id never replays another
    # person's answer (and its link).
    digest = hashlib.sha256(f"{p.subject}\0{sender}\0{msg.id}".encode()).hexdigest()[:40]
    done = keys.prefix(site) + f"sms:msg:{digest}"
    fp = hashlib.sha256(msg.text.encode()).hexdigest()[:16]
    seen = await c.redis.get(done)
    if seen is not None:
        return _replay(seen, fp)
    limited = False
    try:
        await ratelimit.take(c.redis, "sms", site, sender, SMS_PER_MIN, SMS_BURST,
                             what="texts from this number")
    except RateLimited:
        limited = True
    await sms_desk.mark(c.redis, site)  # texts of the worker may ask for a reply
    async with number_lock(c, site, sender):
        answer = await Desk(c, site, cfg, p, request, sender, limited).handle(msg)
    if answer["command"] == "ignored":  # not acted on: a later retry may be
        return _json(answer)
    stored = msgspec.json.encode({"fp": fp, "answer": answer})
    if not await c.redis.set(done, stored, nx=True, ex=c.settings.idempotency_ttl_s):
        first = await c.redis.get(done)  # the same message twice at once: as the first
        if first is not None:
            return _replay(first, fp)
    return _json(answer)


def _replay(stored: bytes, fp: str) -> Response:
    seen = msgspec.json.decode(stored)
    if seen.get("fp") != fp:
        raise IdempotencyMismatch("this message id came before with another text from this "
                                  "number")
    return _json(seen["answer"], headers={"Idempotent-Replayed": "true"})


UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@contextlib.asynccontextmanager
async def number_lock(c: Context, site: str, number: str) -> AsyncIterator[None]:
    """One text of a number at a time, across server processes: "one open ticket per
    number" is a read then a write, and gateways deliver in parallel (five "A" sent at once
    made five tickets). Held at most LOCK_TTL_MS; waited for at most LOCK_WAIT_S."""
    key = keys.sms_number(site, number) + ":lock"
    token = secrets.token_hex(8)
    deadline = time.monotonic() + LOCK_WAIT_S
    while not await c.redis.set(key, token, nx=True, px=LOCK_TTL_MS):
        if time.monotonic() > deadline:
            # Retry once the holder's lock is gone at the latest (it expires by itself).
            left = await c.redis.pttl(key)
            raise InProgress("another text from this number is being answered; retry",
                             retry_after_s=retry_after_s(left, LOCK_TTL_MS // 1000))
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        await c.redis.eval(UNLOCK, 1, key, token)  # type: ignore[misc]


class InProgress(Conflict):
    """Another text of the number held the lock longer than LOCK_WAIT_S (409, temporary,
    ``Retry-After``: the lock's remaining TTL)."""

    temporary = True


class Desk:
    """Answers one text: reads the number's ticket, acts, words the reply."""

    def __init__(self, c: Context, site: str, cfg: SiteConfig, p: Principal,
                 request: Request, sender: str, limited: bool = False) -> None:
        self.c, self.site, self.cfg, self.p, self.request = c, site, cfg, p, request
        # What a text may name and the menu lists: the services some counter serves.
        live = served.served(cfg)
        self.offered = msgspec.structs.replace(
            cfg, services=[s for s in cfg.services if s.id in live])
        self.sender = sender
        self.limited = limited  # over the number's budget: act on STOP and CANCEL only
        self.actor = actor(p, "sms")
        # Texts from the worker need a gateway to go out (or the demo's outbox).
        self.alerts = bool(c.settings.notify_webhook_url) or c.settings.demo
        self.kind = "menu"  # which reply (for template-only gateways)
        self.link: str | None = None
        self.estimate: dict[str, int] | None = None
        self.closed: dict[str, Any] | None = None  # outside issuing hours: the refusal's
        self.remember: dict[str, str] = {}  # more to keep for the number (sms_bookings)
        self.last: str | None = None  # the number's last ticket (maybe ended)

    async def handle(self, msg: SmsMessage) -> dict[str, Any]:
        text = msg.text[:MAX_TEXT]
        parsed = sms.parse(text, self.offered)
        key = keys.sms_number(self.site, self.sender)
        state = {k.decode(): v.decode() for k, v in
                 (await self.c.redis.hgetall(key)).items()}  # type: ignore[misc]
        lang = sms.reply_language(parsed.lang, state.get("lang"), self.cfg,
                                  sms.number_language(msg.sender))  # as the gateway sent it
        command = parsed.command
        if self.limited and command not in (sms.Command.STOP, sms.Command.CANCEL):
            log.warning("sms: texts from %s…%s at %s over %d a minute: not answered",
                        self.sender[:4], self.sender[-2:], self.site, SMS_PER_MIN)
            return {"reply": None, "lang": None, "command": "ignored",
                    "reason": "rate_limited", "ticket": None}
        ticket = await self._open_ticket(state.get("ticket"))
        self.last = state.get("ticket") or state.get("last")  # its ticket, maybe ended now
        if command is sms.Command.JOIN and parsed.service is None:
            if len(self.offered.services) == 1 and not parsed.unknown:
                parsed = sms.Parsed(command, self.offered.services[0].id, parsed.lang)
            elif ticket is None:  # which one? (or one that is not here): the menu
                command = sms.Command.HELP
        # About an appointment of the number's (cancel, accept, check in, answer a
        # suspension), else about its ticket.
        about = await sms_bookings.Appointments(self, lang).answer(command, parsed, text,
                                                                   ticket)
        reply, ticket = (about if about is not None
                         else await self._act(command, parsed, msg, lang, ticket))
        mapping = {"lang": lang, **self.remember}
        if ticket is not None and ticket["status"] in OPEN_STATES:
            mapping["ticket"] = ticket["id"]
        last = ticket["id"] if ticket is not None else self.last
        if last:  # for "A001 (Pharmacy) was completed at 08:02."
            mapping["last"] = last
        pipe = self.c.redis.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        if "ticket" not in mapping:
            pipe.hdel(key, "ticket")
        pipe.expire(key, NUMBER_TTL_S)
        await pipe.execute()
        public = None if ticket is None else {k: ticket.get(k) for k in (
            "id", "number", "service", "status", "position", "people_ahead", "counter")}
        if self.limited:  # acted on (STOP, CANCEL); nothing texted back to a flood
            return {"reply": None, "lang": lang, "command": command.value,
                    "reason": "rate_limited", "ticket": public}
        answer: dict[str, Any] = {
            "reply": reply, "lang": lang, "command": command.value, "kind": self.kind,
            "ticket": public, "estimate": self.estimate, "link": self.link}
        if self.closed is not None:  # a template gateway's "opens at" (site_closed...)
            answer["closed"] = self.closed
        if self.kind == "which":  # for a template gateway to fill its "which one?" from
            answer["choices"] = [{"service": s.id, "prefix": s.prefix,
                                  "name": display_name(s.name, lang, s.id)}
                                 for s in map(self.offered.service, parsed.choices) if s]
        return answer

    async def _open_ticket(self, ticket_id: str | None) -> dict[str, Any] | None:
        """The number's open ticket: the one it took by text, else one that names it for
        alerts (a number typed at the kiosk or given at the desk), the newest."""
        if ticket_id:
            try:
                t = await self.c.engine.ticket(ticket_id)
            except UnknownTicket:  # expired with its site's history
                t = None
            if t is not None and t["status"] in OPEN_STATES:
                return t
        hub = self.c.hub
        if hub is None:
            return None
        view = (await hub.feed(self.site)).view
        region = self.cfg.phone_region()
        mine = [tid for tid, t in view.tickets.items()
                if t.get("notify") and t.get("status") in OPEN_STATES
                and phone.same(t["notify"], self.sender, region, either=False)]
        if not mine:
            return None
        newest = max(mine, key=lambda tid: int(view.tickets[tid].get("issued_ms") or 0))
        try:
            return await self.c.engine.ticket(newest)
        except UnknownTicket:
            return None

    async def _act(self, command: sms.Command, parsed: sms.Parsed, msg: SmsMessage, lang: str,
                   ticket: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
        site_name = display_name(self.cfg.name, lang, self.site)
        menu = sms.menu(self.offered, lang)
        if command is sms.Command.ACK:  # "thanks", "OK", 好的: nothing to answer (a text costs)
            self.kind = "ack"
            return None, ticket
        if command is sms.Command.HELP:
            if parsed.choices:  # "passport": Passports & ID, or Passport photos?
                return self._say("which", lang, choices=sms.listing(
                    self.offered, list(parsed.choices), lang)), ticket
            if parsed.unknown and ticket is not None and parsed.command is not (
                    sms.Command.JOIN):  # "I can't come", "Hello": their ticket first
                status = await self._status(ticket, lang, "waiting")
                return self._say("waiting_help", lang, status=status), ticket
            contact = sms.contact(self.cfg, lang)
            if parsed.unknown:
                kind = "unknown_service" if parsed.command is sms.Command.JOIN else "unknown"
                return self._say(kind, lang, menu=menu, site=site_name, contact=contact), ticket
            text = sms.say("help", lang, site=site_name, menu=menu, contact=contact)
            self.kind = "menu"  # the template gateways' kind, as before
            return text, ticket
        if command is sms.Command.JOIN:
            if ticket is not None:
                return await self._status(ticket, lang, "already"), ticket
            shut = hours.refusal(self.cfg, parsed.service or "", self.c.engine.clock())
            if shut is not None:  # outside issuing hours: when it opens, not "no counter"
                return self._closed(shut, lang), None
            if not self._serving(parsed.service or ""):
                return self._say("closed", lang, site=site_name,
                                 service=self._service(parsed.service or "", lang)), None
            if await self._full():
                return self._say("full", lang, site=site_name), None
            return await self._join(parsed.service or "", msg, lang)
        if command is sms.Command.STOP:  # the number's opt-out from every text of the site
            await optout.stop(self.c.redis, self.site, self.sender, self.c.engine.clock())
            if ticket is None:
                return self._say("stopped_none", lang, site=site_name), None
            ticket = await self.c.engine.set_notify(ticket["id"], None, self.actor)
            return self._say("stopped", lang, site=site_name, number=ticket["number"]), ticket
        if command is sms.Command.START:
            await optout.start(self.c.redis, self.site, self.sender)
        if ticket is None:
            if command is not sms.Command.START and (ended := await self._ended(lang, menu)):
                return ended, None
            kind = "started_none" if command is sms.Command.START else "none"
            return self._say(kind, lang, site=site_name, menu=menu), None
        if command is sms.Command.START:
            ticket = await self.c.engine.set_notify(ticket["id"], self.sender, self.actor)
            return self._say("started", lang, number=ticket["number"]), ticket
        if command is sms.Command.CANCEL:
            try:
                ticket = await self.c.engine.cancel(ticket["id"], self.actor, reason="by_holder")
            except Conflict:  # being served (a called ticket may be given up: "I can't come")
                now = await self.c.engine.ticket(ticket["id"])
                if now["status"] == "cancelled":  # cancelled meanwhile (by staff, say)
                    return self._say("cancelled", lang, number=now["number"]), now
                return self._say("cannot_cancel", lang, number=now["number"]), now
            return self._say("cancelled", lang, number=ticket["number"]), ticket
        return await self._status(ticket, lang, "waiting"), ticket

    async def _full(self) -> bool:
        """Whether the site holds ``SWITCHBOARD_SMS_MAX_OPEN_PER_SITE`` open sms tickets
        already: a count the hub's view keeps as events apply (one process's view may lag
        the others' by a few milliseconds: a cap, not an exact limit)."""
        most = self.c.settings.sms_max_open_per_site
        if not most or self.c.hub is None:
            return False
        if (await self.c.hub.feed(self.site)).view.open_in(Channel.SMS.value) < most:
            return False
        log.warning("sms: %s holds %d open sms tickets (SWITCHBOARD_SMS_MAX_OPEN_PER_SITE): "
                    "a JOIN refused", self.site, most)
        return True

    async def _join(self, service: str, msg: SmsMessage, lang: str
                    ) -> tuple[str, dict[str, Any] | None]:
        try:
            # Per gateway: a leaked token or a flood of invented senders cannot fill the hall.
            await ratelimit.take(self.c.redis, "sms-join", self.site, self.p.subject,
                                 JOINS_PER_MIN, JOINS_BURST, what="tickets by text")
        except RateLimited:
            log.warning("sms: tickets by text at %s over %d a minute from %s: refused",
                        self.site, JOINS_PER_MIN, self.p.subject)
            raise
        req = TicketRequest(service=service, channel=Channel.SMS, notify=self.sender)
        try:
            issued = await self.c.engine.issue(self.site, req, self.actor, f"sms:{msg.id}")
        except SiteClosed as shut:  # its hours ended just now
            return self._closed(shut, lang), None
        except served.ServiceNotServed:  # its last counter stopped serving it just now
            return self._say("unknown_service", lang, menu=sms.menu(self.offered, lang),
                             site=display_name(self.cfg.name, lang, self.site)), None
        t = await ticket_body(self.c, self.site, issued.ticket, issued.replay)
        self.estimate = t.get("estimate")
        wait = sms.wait_text(lang, t["people_ahead"] or 0, t.get("estimate"),
                             self._serving(t["service"]))
        promise = sms.say("promise" if self.alerts else "no_promise", lang)
        if self.alerts and await optout.blocked(self.c.redis, self.site, self.sender):
            promise = sms.say("promise_stopped", lang)  # it sent STOP: no alerts until START
        text = self._say("joined", lang, number=t["number"], wait=wait, promise=promise,
                         service=self._service(t["service"], lang),
                         site=display_name(self.cfg.name, lang, self.site))
        return " ".join(text.split()) + await self._link(t["tracker"], lang), t

    async def _status(self, t: dict[str, Any], lang: str, kind: str) -> str:
        number = t["number"]
        if t["status"] == "called":
            return self._say("called", lang, number=number, counter=self._counter(t, lang))
        if t["status"] == "serving":
            return self._say("serving", lang, number=number, counter=self._counter(t, lang))
        if t["status"] == "parked":
            return self._say("parked", lang, number=number)
        estimate = None
        if self.c.hub is not None:
            estimate = self.c.hub.estimate_ticket(await self.c.hub.feed(self.site), t["id"])
        self.estimate = estimate
        wait = sms.wait_text(lang, t["people_ahead"] or 0, estimate, self._serving(t["service"]))
        text = self._say(kind, lang, number=number, service=self._service(t["service"], lang),
                         wait=sms.after_colon(lang, wait))
        if kind == "waiting" and not await self.c.redis.hget(  # type: ignore[misc]
                keys.ticket(self.site, t["id"]), "notify"):  # (not in the public ticket)
            text += sms.say("alerts_off", lang)
        return text

    async def _ended(self, lang: str, menu: str) -> str | None:
        """How the number's last ticket ended, if it ended today (site's time): "A001
        (Pharmacy) was completed at 08:02." and the menu; else None."""
        if not self.last:
            return None
        try:
            t = await self.c.engine.ticket(self.last)
        except UnknownTicket:  # expired with its site's history
            return None
        ended = t.get("ended_at")
        if t["status"] not in ENDED_KINDS or not ended:
            return None
        at = datetime.fromisoformat(ended)
        today = datetime.fromtimestamp(self.c.engine.clock() / 1000, at.tzinfo).date()
        if at.date() != today:
            return None
        return self._say(ENDED_KINDS[t["status"]], lang, number=t["number"],
                         service=self._service(t["service"], lang),
                         time=at.strftime("%H:%M"), menu=menu)

    def _closed(self, shut: SiteClosed, lang: str) -> str:
        """Outside issuing hours: closed (and why, a holiday's name), and when a text can
        take a ticket (``site_closed``, ``service_closed``: the gateway's template kinds,
        filled from ``details``)."""
        self.closed = shut.details
        name = shut.details.get("closed_note")
        note = sms.say("note", lang, name=display_name(name, lang)) if name else ""
        return " ".join(self._say(
            shut.code, lang, site=display_name(self.cfg.name, lang, self.site), note=note,
            service=self._service(shut.details.get("service") or "", lang),
            again=sms.again_text(lang, shut.details.get("next_open_local"))).split())

    def _say(self, kind: str, lang: str, **values: object) -> str:
        """The reply of ``kind``, remembered for the answer (``kind``): a gateway that sends
        only pre-approved templates (Alibaba Cloud, Tencent Cloud) picks its template by it
        and fills it from ``ticket``, ``estimate`` and ``link``."""
        self.kind = kind
        return sms.say(kind, lang, **values)

    def _service(self, sid: str, lang: str) -> str:
        s = self.cfg.service(sid)
        return display_name(s.name if s else None, lang, sid)

    def _counter(self, t: dict[str, Any], lang: str) -> str:
        ctr = self.cfg.counter(t.get("counter") or "")
        return display_name(ctr.name if ctr else None, lang, t.get("counter") or "")

    def _serving(self, service: str) -> bool:
        """Whether a counter for ``service`` is open or paused now: tickets are taken by
        text only then (at 03:05 a text would be first in the morning, ahead of everyone
        who comes in), and "no estimate yet" says why."""
        hub = self.c.hub
        feed = hub.feeds.get(self.site) if hub is not None else None
        if feed is None:
            return True
        return any(service in c.services and feed.view.counters.get(c.id, {}).get("state")
                   in ("open", "paused") for c in self.cfg.counters)

    async def _link(self, tracker: str, lang: str) -> str:
        """A short link to the ticket's live page: the page's own link carries its token
        (~300 characters, five SMS parts in Chinese); ``/s/CODE`` redirects to it."""
        code = secrets.token_urlsafe(8)  # 64 bits: not guessed, as the token is not
        await self.c.redis.set(keys.short_link(code), tracker, ex=self.c.settings.token_ttl_s)
        base = (self.c.settings.public_url or str(self.request.base_url)).rstrip("/")
        self.link = f"{base}/s/{code}"
        return sms.say("link", lang, url=self.link)


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
    number = phone.normalise(request.query_params.get("number", ""),
                             (await c.engine.config(site)).phone_region(),
                             international=True, field="number")  # as the phone page texts
    raw = await c.redis.lrange(keys.sms_outbox(site, number), 0, -1)  # type: ignore[misc]
    return _json({"messages": [msgspec.json.decode(m) for m in raw]})


async def short_link(request: Request) -> Response:
    """``GET /s/{code}``: the ticket page a text's short link stands for (302), or 404."""
    code = request.path_params["code"]
    target = None
    if 0 < len(code) <= 32 and code.replace("-", "").replace("_", "").isalnum():
        target = await ctx(request).redis.get(keys.short_link(code))
    if target is None:
        return HTMLResponse(GONE_PAGE, status_code=404)
    return RedirectResponse(target.decode(), status_code=302,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


GONE_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Link expired / 链接已失效</title>
<body style="font: 1.2rem/1.5 system-ui, sans-serif; margin: 2rem; max-width: 32rem">
<h1>This link has expired / 链接已失效</h1>
<p>For a ticket taken by text: text STATUS to the same number to hear where it is. For an
appointment: its latest text has a working link, or ask at reception.</p>
<p lang="zh">短信取号的，请向同一号码发送“查询”了解排队进度；
预约的，请使用最新一条短信中的链接，或到服务台咨询。</p>
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
               "payload_too_large", "conflict")),
    Operation("get", "/v1/sites/{site}/sms/outbox", "The demo only (serve --demo, no "
              "gateway): the texts the worker would have sent `number`, oldest first, at most "
              "50: {messages: [notification]}", "admin, or a partner of the site whose channels "
              "include sms", errors=("not_found", "bad_request", "forbidden"),
              query=("number",)),
)
