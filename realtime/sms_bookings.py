"""Texts about appointments, from the number the booking texts go to.

A booking made by phone or at the window with a number for its texts (``notify``) is found
by that number (``bk:nt:<number>``, kept as long as the booking; and ``bk:cu:<number>``,
a booking made for the number itself). From that number:

- ``CANCEL`` (取消, "I can't come") cancels its one upcoming appointment, or the one whose
  booking code the text holds ("CANCEL KK7RZM"); with several and no code, they are listed
  and the code asked for. An open ticket is cancelled instead, unless the text names the
  appointment (its code, "appointment", 预约).
- ``YES`` / ``CONFIRM`` / 确认 takes the place a waiting list offers (until its deadline).
- A number ("1", "2") answers a suspension: the alternative of that number, as the
  suspension's text (or this desk's last reply) listed them; ``CANCEL`` cancels.
- ``ARRIVED`` / 签到 / 我到了, or the booking code alone, checks in on the day, by the
  kiosk's rules (``BookingEngine.check_in``: not before ``early_check_in_s``, a late arrival
  a walk-in or refused); so does a service's letter (or ``JOIN``) for the appointment's
  service: the person keeps the appointment's place instead of taking a walk-in ticket.
  A letter of another service is asked about ("JOIN B" then takes a ticket).
- A bare letter or number while an appointment is upcoming is asked about, never a ticket
  taken silently (it may answer the appointment's text); ``JOIN C`` takes one.
- ``STATUS`` or a text not understood, without a ticket: the appointments and what to reply.

Replies say which booking (service, time, code). Only the number's own bookings are ever
named or acted on: a code from another number is not read as one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec

from queueing import keys, sms, typed
from queueing.booking.consumer import local_text
from queueing.booking.schedule import local_date
from queueing.errors import Conflict, NotFound, TooEarly, TooLate
from queueing.model import display_name
from realtime.api import ticket_body
from realtime.booking_api import _feed_holds, booking_engine

if TYPE_CHECKING:
    from realtime.sms_api import Desk

UPCOMING = frozenset({"held", "confirmed", "waitlisted", "offered"})
CHECK_IN = frozenset({"confirmed", "no_show"})  # as the kiosk checks in (rules.ALLOWED)
_ABOUT_BOOKING = re.compile(r"APPOINT|BOOKING|预约|预订")
MAX_BOOKINGS = 20  # read per text (a number holds max_open_bookings open ones, 3 by default)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


class Appointments:
    """The number's bookings at the site, and the answer to a text about them."""

    def __init__(self, desk: Desk, lang: str) -> None:
        self.desk, self.lang = desk, lang
        self.engine = booking_engine(desk.request)
        self.all: list[dict[str, Any]] = []
        self.tz = ZoneInfo("UTC")
        self.early_s = 3600
        self.resources: dict[str, Any] = {}

    async def load(self) -> None:
        d = self.desk
        p = keys.prefix(d.site) + "bk:"
        ids: set[str] = set()
        for key in (p + "nt:" + d.sender, p + "cu:" + d.sender):
            ids.update(m.decode() for m in await d.c.redis.zrange(key, 0, MAX_BOOKINGS - 1))
        if not ids:
            return
        try:
            s = await self.engine.schedule(d.site)
        except NotFound:  # no booking schedule (any more)
            return
        self.tz, self.early_s = s.tz, s.policy.early_check_in_s
        self.resources = {r.id: r.name for r in s.config.resources}
        now_day = local_date(self.engine.now(), self.tz)
        for bid in ids:
            try:
                b = await self.engine.get(bid)
            except NotFound:  # expired with its slot
                continue
            if b["status"] in UPCOMING or (b["status"] == "no_show" and local_date(
                    _ms(b["start"]), self.tz) == now_day):
                self.all.append(b)
        self.all.sort(key=lambda b: (b["start"], b["id"]))

    # -- what the text is about --------------------------------------------------------------

    def named(self, text: str) -> dict[str, Any] | None:
        """The booking whose code the text holds ("CANCEL KK7RZM", "kk7 rzm")."""
        flat = re.sub(r"[^A-Z0-9]", "", typed.plain(text).upper())
        return next((b for b in self.all if b["code"] in flat), None)

    def today(self) -> list[dict[str, Any]]:
        """Bookings that can be checked in now (today, check-in open)."""
        now = self.engine.now()
        day = local_date(now, self.tz)
        return [b for b in self.all if b["status"] in CHECK_IN
                and local_date(_ms(b["start"]), self.tz) == day
                and now >= _ms(b["start"]) - self.early_s * 1000]

    def waiting_answer(self) -> list[dict[str, Any]]:
        """Suspended bookings whose person has not answered."""
        return [b for b in self.all if (b.get("suspension") or {}).get("answered") is False]

    async def answer(self, command: sms.Command, parsed: sms.Parsed, text: str,
                     ticket: dict[str, Any] | None
                     ) -> tuple[str, dict[str, Any] | None] | None:
        """The reply to a text about the number's appointments, with the ticket a check-in
        made; None: not about them (the ticket desk answers)."""
        if command in (sms.Command.STOP, sms.Command.START, sms.Command.ACK):
            return None
        await self.load()
        if not self.all:
            if command in (sms.Command.CONFIRM, sms.Command.ARRIVED):
                return self._say("bk_none", site=self._site(), menu=self._menu()), None
            return None
        code = self.named(text)
        C = sms.Command
        if command is C.CANCEL:
            if ticket is not None and code is None and not _ABOUT_BOOKING.search(text.upper()):
                return None  # the ticket, as before
            return await self._one(code, [b for b in self.all if b["status"] in UPCOMING],
                                   "CANCEL", self._cancel)
        if command is C.CONFIRM:
            offered = [b for b in self.all if b["status"] == "offered"]
            if code is None and not offered:
                return self._say("bk_no_offer", one=self._summary(self.all)), None
            return await self._one(code, offered, "YES", self._confirm)
        if parsed.bare and text.strip().isdigit() and self.waiting_answer():
            return await self._choose(int(text.strip()))
        if command is C.ARRIVED or (code is not None and command is C.HELP):
            if code is not None and code not in self.today():
                if command is C.HELP:  # the code alone, not today: what it is
                    return self._say("bk_one", one=self._line(code), hint=self._hint(code)), None
                return self._say("bk_not_today", one=self._line(code)), None
            today = self.today()
            if code is None and not today:
                return self._say("bk_not_today", one=self._line(self.all[0])), None
            return await self._one(code, today, "ARRIVED", self._check_in)
        if command is C.JOIN and ticket is None:
            return await self._join(parsed)
        if ticket is None and command in (C.STATUS, C.HELP) and not parsed.choices:
            return self._say("bk_status", one=self._summary(self.all)), None
        return None

    async def _join(self, parsed: sms.Parsed) -> tuple[str, dict[str, Any] | None] | None:
        """A service's letter (or JOIN) from a number with an appointment: checked in for
        it when it is today and open; another service's letter, or one while an appointment
        is upcoming, asked about; else None (a ticket is taken)."""
        today = self.today()
        mine = [b for b in today if parsed.service in (None, b["service"])]
        if mine:
            return await self._check_in(mine[0])
        if not parsed.bare:  # "JOIN B", a service's name: asked for plainly
            return None
        first = today[0] if today else next(
            (b for b in self.all if b["status"] in UPCOMING), None)
        if first is None:
            return None
        svc = self.desk.offered.service(parsed.service or "")
        letter = svc.prefix if svc else ""
        return self._say("bk_join_or", one=self._line(first), hint=self._hint(first),
                         letter=letter, service=self.desk._service(parsed.service or "",
                                                                   self.lang)), None

    # -- acting ------------------------------------------------------------------------------

    async def _one(self, code: dict[str, Any] | None, among: list[dict[str, Any]], word: str,
                   act: Any) -> tuple[str, dict[str, Any] | None]:
        if code is not None:
            return await act(code)  # type: ignore[no-any-return]
        if len(among) == 1:
            return await act(among[0])  # type: ignore[no-any-return]
        if not among:
            return self._say("bk_status", one=self._summary(self.all)), None
        zh = {"CANCEL": "取消", "YES": "确认", "ARRIVED": "签到"}
        w = zh[word] if self.lang == "zh" else word
        return self._say("bk_pick", n=len(among), lines=self._lines(among), word=w,
                         code=among[0]["code"]), None

    async def _cancel(self, b: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        try:
            await self.engine.cancel(b["id"], self.desk.actor)
        except Conflict:
            return self._say("bk_status", one=self._summary([b])), None
        return self._say("bk_cancelled", one=self._line(b)), None

    async def _confirm(self, b: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        if b["status"] != "offered":
            return self._say("bk_no_offer", one=self._summary([b])), None
        try:
            done = await self.engine.confirm(b["id"], self.desk.actor)
        except Conflict:  # the offer lapsed meanwhile
            return self._say("bk_offer_gone", one=self._line(b)), None
        return self._say("bk_confirmed", one=self._line(done)), None

    async def _check_in(self, b: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        d = self.desk
        try:
            done = await self.engine.check_in(d.site, b["code"], "sms", d.actor)
        except TooEarly as e:
            opens = (e.details.get("opens") or "")[11:16]
            return self._say("bk_too_early", one=self._line(b), opens=opens), None
        except (TooLate, Conflict):
            return self._say("bk_too_late", one=self._line(b)), None
        if done.ticket.get("promote_at") and not done.replay:
            await _feed_holds(d.c, d.site, done.ticket)
        t = await ticket_body(d.c, d.site, done.ticket, done.replay)
        d.estimate = t.get("estimate")
        wait = sms.wait_text(self.lang, t["people_ahead"] or 0, t.get("estimate"),
                             d._serving(t["service"]))
        text = self._say("bk_checked_in", one=self._line(b), number=t["number"], wait=wait)
        return text + await d._link(t["tracker"], self.lang), t

    async def _choose(self, n: int) -> tuple[str, dict[str, Any] | None]:
        """Alternative ``n`` (from 1) of the suspended booking: as this desk last listed
        them, else as the suspension's text did (the booking's stored alternatives)."""
        b = self.waiting_answer()[0]
        listed = await self._listed(b)
        if not 1 <= n <= len(listed):
            return self._say("bk_status", one=self._summary([b])), None
        try:
            moved = await self.engine.reschedule(b["id"], listed[n - 1], self.desk.actor)
        except Conflict:  # taken meanwhile (or the suspension was lifted)
            fresh = await self.engine.get(b["id"])
            return self._say("bk_taken", one=self._line(b),
                             alts=self._alternatives(fresh)), None
        return self._say("bk_moved", one=self._line(moved)), None

    async def _listed(self, b: dict[str, Any]) -> list[str]:
        d = self.desk
        mine = await d.c.redis.hget(keys.sms_number(d.site, d.sender), "alts")  # type: ignore[misc]
        if mine:
            kept = msgspec.json.decode(mine)
            if kept.get("booking") == b["id"]:
                return [str(x) for x in kept.get("slots") or []]
        raw = await self.engine.raw(b["id"])
        stored = raw.get("alts")
        alts = msgspec.json.decode(stored) if isinstance(stored, str) and stored else []
        return [a["slot"] for a in alts if isinstance(a, dict)][:2] if isinstance(
            alts, list) else []

    # -- words -------------------------------------------------------------------------------

    def _say(self, kind: str, **values: object) -> str:
        return " ".join(self.desk._say(kind, self.lang, **values).split())

    def _site(self) -> str:
        return display_name(self.desk.cfg.name, self.lang, self.desk.site)

    def _menu(self) -> str:
        return sms.menu(self.desk.offered, self.lang)

    def _line(self, b: dict[str, Any]) -> str:
        return sms.say("bk_line", self.lang, service=self.desk._service(b["service"], self.lang),
                       time=local_text(_ms(b["start"]), self.tz).pick(self.lang),
                       code=b["code"])

    def _lines(self, bs: list[dict[str, Any]]) -> str:
        return ("；" if self.lang == "zh" else "; ").join(self._line(b) for b in bs)

    def _summary(self, bs: list[dict[str, Any]]) -> str:
        if len(bs) == 1:
            return sms.say("bk_one", self.lang, one=self._line(bs[0]), hint=self._hint(bs[0]))
        return sms.say("bk_many", self.lang, lines=self._lines(bs))

    def _hint(self, b: dict[str, Any]) -> str:
        """What to reply about ``b``: its state and the words."""
        susp = b.get("suspension") or {}
        if susp.get("answered") is False:
            return sms.say("hint_suspended", self.lang, alts=self._alternatives(b))
        if b["status"] == "offered":
            until = local_text(_ms(b["offer_until"]), self.tz).pick(self.lang)
            return sms.say("hint_offered", self.lang, until=until)
        if b["status"] == "waitlisted":
            return sms.say("hint_waitlisted", self.lang)
        if b in self.today():
            return sms.say("hint_today", self.lang)
        return sms.say("hint_booked", self.lang)

    def _resource(self, rid: str) -> str:
        return display_name(self.resources.get(rid), self.lang, rid)

    def _alternatives(self, b: dict[str, Any]) -> str:
        """The suspended booking's alternatives free now, numbered ("1) Thu 19 Nov 10:00
        Dr Two"), remembered for the number's reply ("1")."""
        alts = [a for a in (b.get("suspension") or {}).get("alternatives") or []
                if isinstance(a, dict)][:3]
        self.desk.remember["alts"] = msgspec.json.encode(
            {"booking": b["id"], "slots": [a["slot"] for a in alts]}).decode()
        if not alts:
            return sms.say("alts_none", self.lang)
        items = [f"{i}) {local_text(_ms(a['start']), self.tz).pick(self.lang)} "
                 f"{self._resource(a.get('resource') or '')}".rstrip()
                 for i, a in enumerate(alts, 1)]
        return sms.say("alts", self.lang, items=("；" if self.lang == "zh" else "; ").join(items),
                       n=len(alts))
