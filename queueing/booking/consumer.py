"""Notifications that follow the site event streams (run in the worker process).

One watcher per site keeps a ``queueing.view.SiteView`` (a snapshot, then the stream, like
the hub's feeds) and calls the notifier for:

- ``called`` / ``recalled`` of a ticket with ``notify``: "your turn: counter 5";
- ``transferred`` of such a ticket ("now waits for the laboratory") and ``cancelled`` by
  staff or by the end of the day (not by its holder);
- a queue change that brings such a ticket within the alert thresholds: "almost your turn"
  (``alerts``: once per ticket, armed in Redis when it joined beyond them);
- ``booking_offered`` and ``booking_suspended``: a freed place to accept, a suspension with
  its reason and alternatives.

Each notification is claimed once in Redis (``SET NX``) before it is sent, so several
workers, or a watcher restarted on the same events, send it once. A watcher remembers its
stream offset in Redis; after a restart it sends the calls and offers it missed (up to
``max_age_s`` old) before going live.

In the site's quiet hours (the booking policy's ``quiet_hours``, queueing/booking/quiet.py) an
offer, and a suspension, its lifting or a staff cancellation of an appointment not within
``quiet.URGENT_S`` of their end, is queued (with the retries, in Redis) for when they end,
and checked then as a retry is; a suspension's text sent then lists no alternatives (they
may be taken by the morning: its link shows the free ones).

A text the gateway refused is tried again for minutes. Each retry, and each text a restarted
watcher catches up on, first reads its ticket or booking again and is dropped if it is no
longer true (queueing/booking/fresh.py: "go to Room 1" after the visit ended); every
notification says until when it is news (``valid_until``). Outcomes are counted in Redis
for the server's /metrics (queueing/booking/delivery.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing import keys, optout, sms, sms_desk
from queueing.booking import alerts, delivery, fresh, langs, quiet, texts
from queueing.booking.model import BookingConfig
from queueing.booking.notify import Notification, Notifier, NotifyFailed, local_iso
from queueing.engine import Engine, wall_ms
from queueing.errors import SwitchboardError
from queueing.model import announcement, display_name
from queueing.view import Change, SiteView

log = logging.getLogger("switchboard.notify")
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
CLAIM_TTL_S = 2 * 86400
# A notification the gateway refused is tried again after these pauses (≈ 9 min in all:
# a gateway's hiccup must not cost a waitlisted person the offer of a place), in the
# background, so one failing message does not hold up the site's others. Pending retries
# live in Redis (keys.NOTIFY_RETRY), so a worker restarted meanwhile still sends them.
RETRY_S = (0.5, 2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
RETRY_POLL_S = 0.25


class _Pending(msgspec.Struct):
    n: Notification
    tries: int  # attempts made so far


_decode_pending = msgspec.json.Decoder(_Pending).decode


def text_lang(lang: str | None, text: dict[str, str]) -> str | None:
    """``lang`` as one of the text's own keys ("zh" → "zh-CN" on a site that says zh-CN:
    the gateway sends text[lang]), or None (it sends the site's first language)."""
    return None if not lang else sms.site_language(lang, list(text))


_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
_ZH_DAYS = "一二三四五六日"


def local_text(ms: int, tz: ZoneInfo) -> texts.PerLanguage:
    """A time as a text says it, in the site's zone, per language: "Tue 8 Dec 10:30",
    "12月8日（周二）10:30" (another language reads the English one)."""
    t = datetime.fromtimestamp(ms / 1000, tz)
    hm = t.strftime("%H:%M")
    return texts.PerLanguage({
        "en": f"{_EN_DAYS[t.weekday()]} {t.day} {_EN_MONTHS[t.month - 1]} {hm}",
        "zh": f"{t.month}月{t.day}日（周{_ZH_DAYS[t.weekday()]}）{hm}"})


class SiteWatcher:
    def __init__(self, owner: Notifications, site: str) -> None:
        self.owner = owner
        self.site = site
        self.key = site  # alerts.SiteState: the estimator follows this watcher's view
        self.p = keys.prefix(site)
        self.view: SiteView
        self.tz = ZoneInfo("UTC")
        self.offset = "0-0"
        self.armed: set[str] = set()
        self.lengths = alerts.CallLengths()
        self.catching_up = False
        self._quiet: tuple[bytes | None, list[str] | None] = (None, None)

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._load()
                await self._catch_up()
                backoff = 0.1
                await self._tail()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, SwitchboardError) as exc:
                log.warning("notifications of %s: %s; restarting", self.site, exc)
            except Exception:
                log.exception("notifications of %s failed; restarting", self.site)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _load(self) -> None:
        snap = await self.owner.engine.snapshot(self.site)
        self.view = SiteView.from_snapshot(self.site, snap)
        self.tz = ZoneInfo(self.view.config.timezone)
        self.offset = snap["offset"]
        ids = [tid for tid, t in self.view.tickets.items() if t.get("notify")]
        self.armed = set()
        if ids:
            states = await self.owner.redis.mget([self._alert_key(t) for t in ids])
            self.armed = {tid for tid, st in zip(ids, states, strict=True) if st == b"armed"}
        await self._check(set(self.view.queues))

    async def _catch_up(self) -> None:
        """Send the event notifications (calls, offers) missed while no watcher ran."""
        cursor = await self.owner.redis.get(self.p + "nt:cursor")
        if cursor is None or cursor.decode() == self.offset:
            return
        oldest = self.owner.clock() - self.owner.max_age_s * 1000
        rows = await self.owner.redis.xrange(keys.events(self.site), "(" + cursor.decode(),
                                             self.offset, count=5000)
        self.catching_up = True
        try:
            for eid, fields in rows:
                if int(fields[b"ts"]) >= oldest:
                    await self._events(fields[b"t"].decode(), _decode(fields[b"d"]),
                                       eid.decode(), fields.get(b"ch", b"").decode())
        finally:
            self.catching_up = False

    async def _tail(self) -> None:
        # Caught up to the snapshot: remember it (also tells tests the watcher is live).
        await self.owner.redis.set(self.p + "nt:cursor", self.offset, ex=7 * 86400)
        last_saved = time.monotonic()
        stream = keys.events(self.site)
        while True:
            reply = await self.owner.reader.xread({stream: self.offset}, count=500, block=5000)
            for _, entries in reply or ():
                for eid, fields in entries:
                    kind, data = fields[b"t"].decode(), _decode(fields[b"d"])
                    change = self.view.apply(kind, data)
                    if kind == "site_updated":
                        self.tz = ZoneInfo(self.view.config.timezone)
                    self.offset = eid.decode()
                    await self._on(kind, data, change, self.offset,
                                   fields.get(b"ch", b"").decode())
            if time.monotonic() - last_saved > 1.0:
                await self.owner.redis.set(self.p + "nt:cursor", self.offset, ex=7 * 86400)
                last_saved = time.monotonic()

    # -- events -----------------------------------------------------------------------------

    async def _on(self, kind: str, data: dict[str, Any], change: Change, eid: str,
                  via: str = "") -> None:
        if self.owner.estimates is not None:
            self.owner.estimates.observe(self, kind, data, eid, via)
        await self._events(kind, data, eid, via)
        self.lengths.observe(kind, data)
        t = data.get("ticket")
        if kind == "issued" and t and t.get("notify"):
            if t.get("channel") == "phone":
                # Taken for a caller on the phone line: no slip, so the number comes by text.
                await self._send(f"issued:{eid}", await self._issued_note(t, data, eid))
            await self._arm(t, int(data.get("index") or 0) + 1)
        elif kind in ("transferred", "notify_set") and t and t.get("notify"):
            # Moved to another queue, maybe far back: warned again when it nears the front
            # there, even if "almost" came in the old queue. A number typed after the ticket
            # came out: armed as if given at issue, from where the ticket is now (already
            # near the front: only "your turn" comes).
            pos = self.view.position(t["id"])
            if pos:
                await self._arm(t, pos, again=kind == "transferred")
        elif kind == "notify_set" and t:
            self.armed.discard(t["id"])  # the number taken back
        if change.services or change.counters or change.config:
            # The server's estimate of a ticket counts the other services its counters
            # serve (a cashier queue slows the pharmacy at a shared counter): every queue.
            whole = change.counters or change.config or self.owner.estimates is not None
            await self._check(set(self.view.queues) if whole else change.services)

    async def _arm(self, t: dict[str, Any], position: int, again: bool = False) -> None:
        """Arm "almost your turn" for a ticket beyond the thresholds: once per ticket (a key
        that went to "sent" stays so), unless ``again`` (a move to another queue)."""
        if not self._due(position, t["service"], t["id"]):
            self.armed.add(t["id"])
            await self.owner.redis.set(self._alert_key(t["id"]), "armed", nx=not again,
                                       ex=CLAIM_TTL_S)

    async def _events(self, kind: str, data: dict[str, Any], eid: str, via: str = "") -> None:
        """The texts an event sends. ``via`` is the request's channel as recorded on the
        event; for a booking's confirm, cancel and move, who acted: ``holder`` (its own
        token), ``staff`` or ``partner`` (realtime/booking_api.py)."""
        if kind in ("called", "recalled"):
            t = data.get("ticket") or {}
            if t.get("notify"):
                cfg = self.view.config
                text = {lang: announcement(cfg, lang, t["number"], data["counter"])
                        for lang in cfg.languages}
                ctr = cfg.counter(data["counter"])
                n = await self.owner.with_lang(Notification(
                    id=f"{self.site}:turn:{eid}", kind="turn", site=self.site, to=t["notify"],
                    text=text, at=self._now_iso(), valid_until=self._until("turn"),
                    ticket=t["id"], data={"number": t["number"], "counter": data["counter"]}))
                # The counter's name in the language the text goes in ("Room 1" to an
                # English number, not the site's first language's "1号诊室"): a gateway
                # that fills its own template from data has only this name.
                n.data["counter_name"] = display_name(ctr.name if ctr else None,
                                                      n.lang or cfg.languages[0],
                                                      data["counter"])
                await self._send(f"turn:{eid}", n)
        elif kind in ("transferred", "cancelled", "no_show"):
            t = data.get("ticket") or {}
            note = self._ticket_note(kind, t, data, eid) if t.get("notify") else None
            if note is not None and note.kind == "cancelled_day_closed" and quiet.at_night(
                    self.owner.clock(), self.tz, await self._quiet_hours()):
                # Not at 03:00 (quiet.py): they were told when the last counter closed.
                log.info("notification %s dropped: the day closed at night", note.id)
                await delivery.stale(self.owner.redis, note.id, note.kind, "night")
            elif note is not None:
                await self._send(f"{note.kind}:{eid}", note)
        elif kind == "counter_closed":
            await self._no_counter(str(data.get("counter") or ""), eid)
        elif kind in ("booking_offered", "booking_suspended", "booking_confirmed",
                      "booking_rescheduled", "booking_cancelled", "booking_unsuspended",
                      "booking_waitlisted"):
            b = data.get("booking") or {}
            if kind == "booking_waitlisted" and b.get("channel") not in CONFIRMED_BY_TEXT:
                return  # an app's own screen says it; a caller has nothing but a text
            if kind in ("booking_confirmed", "booking_rescheduled") and not (
                    b.get("channel") in CONFIRMED_BY_TEXT or via == "staff"):
                return  # an app or a partner's site tells its users itself
            if kind == "booking_cancelled" and via != "staff":
                return  # whoever cancelled it knows (a partner tells its own users)
            held = await self._held_until(kind, b) if b.get("notify") else None
            if held is not None and kind == "booking_suspended":
                data = {**data, "alternatives": []}  # may be taken by then: the page says
            if kind == "booking_cancelled" and b.get("notify"):
                await self._send(f"{kind}:{eid}", self._booking_note(kind, b, data, eid), held)
            elif b.get("notify"):
                names = (await self._resources() if kind in (
                    "booking_rescheduled", "booking_suspended", "booking_confirmed") else None)
                replies = kind in ("booking_suspended", "booking_confirmed") and \
                    await sms_desk.answers(self.owner.redis, self.site, str(b["notify"]))
                note = await linked(self._booking_note(kind, b, data, eid, names, replies),
                                    {**b, "site": self.site}, self.owner.links,
                                    self.owner.clock())
                await self._send(f"{kind}:{eid}", note, held)

    async def _no_counter(self, counter: str, eid: str) -> None:
        """The last counter of a service closed (none open or paused): each ticket waiting
        for it with a number hears so, once per ticket and service. Nothing else happens to
        the ticket: it waits until a counter opens (then its calls are texted) or the day's
        close cancels it (not texted at night: quiet.at_night). Not sent at night either:
        the day's close shuts the counters at 03:00 with only next-day check-ins waiting."""
        if quiet.at_night(self.owner.clock(), self.tz, await self._quiet_hours()):
            return
        cfg = self.view.config
        ctr = cfg.counter(counter)
        for svc in ctr.services if ctr else ():
            if any(self.view.counters.get(c.id, {}).get("state") in ("open", "paused")
                   for c in cfg.counters if svc in c.services):
                continue
            s = cfg.service(svc)
            name = texts.names(s.name if s else None, cfg.languages, svc)
            for tid in self.view.queues.get(svc) or ():
                t = self.view.tickets.get(tid) or {}
                if not t.get("notify"):
                    continue
                await self._send(f"noctr:{tid}:{svc}", Notification(
                    id=f"{self.site}:no_counter:{eid}:{tid}", kind="no_counter",
                    site=self.site, to=t["notify"], at=self._now_iso(),
                    valid_until=self._until("no_counter"), ticket=tid,
                    text=texts.render("no_counter", cfg.languages, service=name,
                                      number=t["number"]),
                    data={"number": t["number"], "service": svc, "counter": counter}))

    async def _held_until(self, kind: str, b: dict[str, Any]) -> int | None:
        """When quiet hours end, if the text of this event waits for it (quiet.py); None:
        it goes now."""
        if kind not in QUIET_KINDS:
            return None
        end = quiet.quiet_end(self.owner.clock(), self.tz, await self._quiet_hours())
        if end is None:
            return None
        if kind != "booking_offered" and quiet.urgent(int(b.get("start_ms") or 0), end):
            return None  # today, in the next hours: they must know before they set out
        return end

    async def _quiet_hours(self) -> list[str] | None:
        """The booking policy's ``quiet_hours`` (read again when the schedule's version
        changes)."""
        try:
            ver = await self.owner.redis.get(self.p + "bk:ver")
            if ver is None or ver != self._quiet[0]:
                raw = await self.owner.redis.get(self.p + "bk:config")
                cfg = msgspec.json.decode(raw, type=BookingConfig) if raw else None
                self._quiet = (ver, cfg.policy.quiet_hours if cfg else None)
        except (RedisError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("quiet hours of %s: %s", self.site, exc)
            return None
        return self._quiet[1]

    def _ticket_note(self, kind: str, t: dict[str, Any], data: dict[str, Any],
                     eid: str) -> Notification | None:
        """A ticket moved to another queue, missed when called (closed, or back in the
        queue), or cancelled by staff or the end of the day (a person who cancelled it
        themselves knows): someone waiting outside the building with only an SMS must hear
        of it."""
        cfg = self.view.config
        values: dict[str, Any] = {"number": t["number"]}
        extra: dict[str, Any] = {"number": t["number"]}
        if kind == "transferred":
            name = "moved"
            sid = data.get("to_service") or t["service"]
            svc = cfg.service(sid)
            values["service"] = texts.names(svc.name if svc else None, cfg.languages, sid)
            extra |= {"service": sid, "from_service": data.get("from_service")}
        elif kind == "no_show":
            # Called and not there: closed, or back in the queue once (policy) — someone
            # waiting outside with only an SMS must know which.
            name = "no_show_back" if data.get("returned") else "no_show"
        elif data.get("reason") in ("by_staff", "day_closed"):
            name = "cancelled_" + data["reason"]
            values["site"] = texts.names(cfg.name, cfg.languages, self.site)
            extra["reason"] = data["reason"]
        else:
            return None
        return Notification(id=f"{self.site}:{name}:{eid}", kind=name, site=self.site,
                            to=t["notify"], text=texts.render(name, cfg.languages, **values),
                            at=self._now_iso(), valid_until=self._until(name), ticket=t["id"],
                            data=extra)

    async def _issued_note(self, t: dict[str, Any], data: dict[str, Any],
                           eid: str) -> Notification:
        """A caller's ticket from the phone line (no slip): where, which number, how many
        ahead, about how long (the estimate's median, as STATUS says it), and, where the
        number can answer by text, the words to reply with."""
        cfg = self.view.config
        svc = cfg.service(t["service"])
        ahead = int(data.get("index") or 0)
        est = (self.owner.estimates.wait(self, t["id"], ahead + 1)
               if self.owner.estimates is not None else None)
        minutes = max(1, round(est[0] / 60)) if est is not None else None
        replies = await sms_desk.answers(self.owner.redis, self.site, str(t["notify"]))
        return Notification(
            id=f"{self.site}:issued:{eid}", kind="issued", site=self.site, to=t["notify"],
            text=texts.render("issued", cfg.languages, number=t["number"], ahead=ahead,
                              service=texts.names(svc.name if svc else None, cfg.languages,
                                                  t["service"]),
                              site=texts.names(cfg.name, cfg.languages, self.site),
                              minutes=minutes, replies=replies),
            at=self._now_iso(), valid_until=self._until("issued"), ticket=t["id"],
            data={"number": t["number"], "service": t["service"], "ahead": ahead})

    def _alternatives_text(self, alts: list[Any],
                           resources: dict[str, texts.PerLanguage]) -> texts.PerLanguage:
        """Up to two alternatives a suspension offers, numbered, as a sentence per language
        ('' for none): "Free now: 1) Thu 19 Nov 10:00 with Dr Two; 2) …" /
        "可选：1) 11月19日（周四）10:00，王医生；2) …"."""
        langs_ = self.view.config.languages or ["en"]
        out = {}
        for lang in langs_:
            zh = lang.startswith("zh")
            items: list[str] = []
            for a in alts:
                if not isinstance(a, dict) or not a.get("start"):
                    continue
                ms = int(datetime.fromisoformat(a["start"]).timestamp() * 1000)
                when = local_text(ms, self.tz).pick(lang)
                rid = str(a.get("resource") or "")
                who = (resources.get(rid) or texts.names(None, langs_, rid)).pick(lang)
                n = len(items) + 1  # numbered: the SMS desk takes "1" for the first
                items.append(f"{n}) {when}，{who}" if zh else f"{n}) {when} with {who}")
            if not items:
                out[lang] = ""
            elif zh:
                out[lang] = "可选：" + "；".join(items) + "。"
            else:
                out[lang] = " Free now: " + "; ".join(items) + "."
        return texts.PerLanguage(out)

    async def _resources(self) -> dict[str, texts.PerLanguage]:
        """The booking schedule's doctors and rooms by id, named in the site's languages
        (none if it cannot be read: the text then names the id)."""
        try:
            raw = await self.owner.redis.get(self.p + "bk:config")
            cfg = msgspec.json.decode(raw, type=BookingConfig) if raw else None
        except (RedisError, msgspec.DecodeError, msgspec.ValidationError):
            return {}
        langs_ = self.view.config.languages
        return {r.id: texts.names(r.name, langs_, r.id) for r in cfg.resources} if cfg else {}

    def _booking_note(self, kind: str, b: dict[str, Any], data: dict[str, Any],
                      eid: str, resources: dict[str, texts.PerLanguage] | None = None,
                      replies: bool = False) -> Notification:
        """The text of a booking event. ``replies``: the number can answer by text (the SMS
        desk's): a suspension's text then asks for the alternative's number."""
        resources = resources or {}
        cfg = self.view.config
        svc = cfg.service(b["service"])
        values: dict[str, Any] = {
            "time": local_text(b["start_ms"], self.tz), "code": b["code"],
            "service": texts.names(svc.name if svc else None, cfg.languages, b["service"])}
        extra: dict[str, Any] = {"slot": b["slot"], "code": b["code"]}
        template: str | None = None  # the text's template, when not the kind's own
        if kind == "booking_offered":
            name = "offer"
            values["until"] = local_text(b["offer_until"], self.tz)
        elif kind == "booking_confirmed":
            name = "booked"
            values["site"] = texts.names(cfg.name, cfg.languages, self.site)
            values["resource"] = resources.get(str(b.get("resource") or ""))
            values["replies"] = replies
        elif kind == "booking_rescheduled":
            # Moved by staff (a call to the hospital) or by the person: the new time, and
            # the old one so nobody wonders which of two texts holds.
            name = "rebooked"
            was = data.get("from") or {}
            values["was"] = local_text(int(was.get("start_ms") or b["start_ms"]), self.tz)
            extra |= {"from_slot": was.get("slot")}
            old_res = str(was.get("resource") or str(was.get("slot") or "").split(".")[0])
            if old_res and old_res != b["resource"]:
                # Another doctor or room (maybe at the same time): say which, or "moved to
                # 11:00 (it was 11:00)" tells the person nothing.
                template = "rebooked_to"
                values["resource"] = resources.get(str(b.get("resource") or "")) or texts.names(
                    None, cfg.languages, b["resource"])
                values["was_resource"] = resources.get(old_res) or texts.names(
                    None, cfg.languages, old_res)
                extra |= {"resource": b["resource"], "from_resource": old_res}
        elif kind == "booking_cancelled":
            name = "booking_cancelled"
            values["site"] = texts.names(cfg.name, cfg.languages, self.site)
        elif kind == "booking_waitlisted":
            # On the waiting list, not booked: said plainly, or a caller who heard "we have
            # put you down" comes for a place they do not have.
            name = "waitlisted"
        elif kind == "booking_unsuspended":
            # The suspension was lifted before they answered: the appointment stands.
            name = "unsuspended"
            extra["suspension"] = (data.get("suspension") or {}).get("id")
        else:
            name = "suspended"
            s = data.get("suspension") or {}
            values["reason"] = s.get("reason", "")  # as staff wrote it, quoted
            alts = data.get("alternatives")
            alts = alts if isinstance(alts, list) else []
            values["alts"] = self._alternatives_text(alts[:2], resources)
            shown = sum(isinstance(a, dict) and bool(a.get("start")) for a in alts[:2])
            if replies and shown:  # "Reply 1 or 2 to take a time, or CANCEL."
                template = "suspended_reply"
                values["numbers"] = texts.PerLanguage(
                    {"en": " or ".join(map(str, range(1, shown + 1))),
                     "zh": " 或 ".join(map(str, range(1, shown + 1)))})
            extra |= {"reason": s.get("reason"), "suspension": s.get("id"),
                      "alternatives": alts}
        text = texts.render(template or name, cfg.languages, **values)
        until = b["offer_until"] if name == "offer" else b.get("end_ms") or b["start_ms"]
        return Notification(id=f"{self.site}:{name}:{eid}", kind=name, site=self.site,
                            to=b["notify"], text=text, at=self._now_iso(),
                            valid_until=self._until(name, int(until)), booking=b["id"],
                            data=extra, lang=text_lang(b.get("lang"), text))

    # -- "almost your turn" -----------------------------------------------------------------

    def _due(self, position: int, service: str, ticket_id: str) -> bool:
        open_now = len(self.view.open_counters(service))
        if open_now == 0:
            # Nobody can call them: "almost your turn, come back" would be untrue. The
            # alert stays armed and goes when a counter opens (a counter change re-checks).
            return False
        th = self.owner.thresholds
        est = self.owner.estimates
        if est is not None:
            # The server's estimate, the one STATUS and the ticket page give: its P90 within
            # the window (alerts.py), or the position rule. None (no counter known to come):
            # by position only.
            if position <= th.position:
                return True
            got = est.wait(self, ticket_id, position)
            return got is not None and got[1] <= th.wait_s
        # The likely-longest wait, not the mean, from call lengths blended with the prior
        # (alerts.py): a first 3-second visit made "6 ahead" look due, and the only alert
        # went half an hour early.
        wait = alerts.wait_p90_s(position, open_now, self.lengths.get(service))
        return alerts.almost_due(position, wait, th)

    async def _check(self, services: set[str]) -> None:
        """Send "almost" to the armed tickets now due. From the front of each queue, and
        only as far as the first armed ticket beyond the position threshold that is not due
        (those behind it wait longer): one estimate per due ticket, plus one, per change."""
        if not self.armed:
            return
        th = self.owner.thresholds
        for svc in services:
            queue = self.view.queues.get(svc) or []
            depth = (alerts.SCAN_MAX if self.owner.estimates is not None else
                     alerts.scan_depth(th, len(self.view.open_counters(svc)),
                                       self.lengths.get(svc)))
            for i, tid in enumerate(queue[:depth]):
                if tid not in self.armed:
                    continue
                if not self._due(i + 1, svc, tid):
                    if i + 1 > th.position:
                        break
                    continue
                self.armed.discard(tid)
                old = await self.owner.redis.set(self._alert_key(tid), "sent", xx=True,
                                                 get=True, ex=CLAIM_TTL_S)
                if old == b"armed":
                    await self._almost(self.view.tickets[tid], i + 1)

    async def _almost(self, t: dict[str, Any], position: int) -> None:
        cfg = self.view.config
        n = Notification(id=f"{self.site}:almost:{t['id']}", kind="almost", site=self.site,
                         to=t["notify"], at=self._now_iso(), valid_until=self._until("almost"),
                         ticket=t["id"], text=texts.render("almost", cfg.languages,
                                                           ahead=position - 1,
                                                           number=t["number"]),
                         data={"number": t["number"], "position": position,
                               "service": t["service"]})
        if not await self.owner.try_send(n):  # claimed already (the alert key went armed -> sent)
            await self.owner.retry_later(n)

    def _alert_key(self, ticket_id: str) -> str:
        return self.p + "nt:almost:" + ticket_id

    # -- sending ----------------------------------------------------------------------------

    async def _send(self, claim: str, n: Notification, at_ms: int | None = None) -> None:
        claimed = await self.owner.redis.set(self.p + "nt:" + claim, 1, nx=True, ex=CLAIM_TTL_S)
        if claimed and at_ms is not None:
            await self.owner.send_at(n, at_ms)  # quiet hours: checked again when sent
        # Caught up after a restart, an event may be minutes old: is it still true?
        elif claimed and not await self.owner.try_send(n, check=self.catching_up):
            await self.owner.retry_later(n)

    def _now_iso(self) -> str:
        return local_iso(self.owner.clock(), self.tz)

    def _until(self, kind: str, until_ms: int | None = None) -> str:
        return local_iso(fresh.valid_until_ms(kind, self.owner.clock(), until_ms), self.tz)


# Texts that wait for the end of quiet hours (an offer always; the others unless urgent).
QUIET_KINDS = frozenset({"booking_offered", "booking_suspended", "booking_unsuspended",
                         "booking_cancelled"})

# Bookings confirmed through these channels are confirmed by text (to their ``notify``):
# made by staff for a caller or a person at the desk, or on Switchboard's own pages. An app
# or a partner's site confirms to its users itself.
CONFIRMED_BY_TEXT = frozenset({"phone", "window", "web", "kiosk", "sms"})

# The short link to a booking's own page for its texts (raw booking, now in ms), or None
# where no public address is configured: realtime.links.Links.booking.
BookingLink = Callable[[dict[str, Any], int], Awaitable[str | None]]


async def linked(n: Notification, b: dict[str, Any], links: BookingLink | None,
                 now_ms: int) -> Notification:
    """``n`` with the link to the booking's page after its text and in ``data.link`` (for a
    gateway that fills its own templates); ``n`` as it is when there is no link to give or
    it could not be made (the text still says what it must)."""
    if links is None:
        return n
    try:
        url = await links(b, now_ms)
    except Exception as exc:  # a text without its link beats no text
        log.warning("no link for booking %s (%s)", b.get("id"), exc)
        return n
    if not url:
        return n
    return msgspec.structs.replace(n, text=texts.with_link(n.text, url),
                                   data={**n.data, "link": url})


class Notifications:
    """A watcher per site (sites are found in ``sb:sites`` every ``refresh_s``)."""

    def __init__(self, redis: Redis, reader: Redis, engine: Engine, notifier: Notifier,
                 thresholds: alerts.Thresholds, clock: Callable[[], int] = wall_ms,
                 max_age_s: int = 300, refresh_s: float = 10.0,
                 links: BookingLink | None = None,
                 estimates: alerts.WaitEstimates | None = None) -> None:
        self.redis = redis
        # The server's wait estimator for "almost your turn" (None: alerts.wait_p90_s).
        self.estimates = estimates
        self.links = links
        self.reader = reader
        self.engine = engine
        self.notifier = notifier
        self.thresholds = thresholds
        self.clock = clock
        self.max_age_s = max_age_s
        self.refresh_s = refresh_s
        self.sent = 0
        self.dropped = 0
        self.retry_s: tuple[float, ...] = RETRY_S
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self._retrier: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notifications")
        self._start_retrier()  # retries a previous worker left pending

    async def _run(self) -> None:
        while True:
            try:
                for raw in await self.redis.smembers(keys.SITES):  # type: ignore[misc]
                    site = raw.decode()
                    if site not in self.watchers:
                        w = SiteWatcher(self, site)
                        self.watchers[site] = asyncio.create_task(w.run(), name=f"nt:{site}")
            except (RedisError, OSError) as exc:
                log.warning("notifications: cannot list sites (%s)", exc)
            await asyncio.sleep(self.refresh_s)

    # -- sending and retries ----------------------------------------------------------------

    async def try_send(self, n: Notification, check: bool = False) -> bool:
        """Send ``n``; False if the gateway refused it (to be tried again). ``check``: first
        make sure it is still true, and drop it (True: nothing left to do) if not. A text
        to a number that opted out of the site's texts (STOP: queueing/optout.py) is dropped
        unsent, reason ``opted_out``."""
        reason = "opted_out" if await optout.blocked(self.redis, n.site, n.to) else None
        if reason is None and check:
            reason = await self.stale(n)
        if reason is not None:
            log.info("notification %s (%s to %s) dropped: %s", n.id, n.kind,
                     n.ticket or n.booking or n.site, reason)
            self.dropped += 1
            await delivery.stale(self.redis, n.id, n.kind, reason)
            return True
        if n.lang is None:
            n = await self.with_lang(n)
        try:
            await self.notifier.send(n)
        except NotifyFailed as exc:
            log.warning("notification %s not delivered (%s)", n.id, exc)
            await delivery.failed(self.redis, n.id, n.kind, self.clock())
            await delivery.booking_state(self.redis, n.site, n.booking, "failed", n.kind,
                                         self.clock(), exc.status)
            return False
        self.sent += 1
        await delivery.sent(self.redis, n.id, n.kind)
        await delivery.booking_state(self.redis, n.site, n.booking, "ok", n.kind, self.clock())
        return True

    async def stale(self, n: Notification) -> str | None:
        """Why ``n`` is no longer true (``fresh.stale``) as its ticket or booking is now, or
        None. Redis unreachable: None (sent: at least once, as before)."""
        record: dict[str, str] | None = None
        key = (keys.ticket(n.site, n.ticket) if n.ticket
               else keys.prefix(n.site) + "bk:b:" + n.booking if n.booking else None)
        if key is not None:
            try:
                raw = await self.redis.hgetall(key)  # type: ignore[misc]
            except RedisError as exc:
                log.warning("notification %s: cannot check it is still true (%s)", n.id, exc)
                return None
            record = {k.decode(): v.decode() for k, v in raw.items()}
        return fresh.stale(n, record, self.clock())

    async def with_lang(self, n: Notification) -> Notification:
        """A ticket's alerts go in the language its person chose on the page (the kiosk's
        "text me", ``langs``); else a number that texted the site (text to join) gets them
        in the language it wrote in."""
        try:
            lang = await langs.of_ticket(self.redis, n.site, n.ticket) if n.ticket else None
            if lang is None:
                raw = await self.redis.hget(keys.sms_number(n.site, n.to), "lang")  # type: ignore[misc]
                lang = None if raw is None else raw.decode()
        except RedisError:  # the text still goes, in the gateway's default language
            return n
        return msgspec.structs.replace(n, lang=text_lang(lang, n.text))

    async def retry_later(self, n: Notification, tries: int = 1) -> None:
        """Queue ``n`` (refused ``tries`` times) for its next try, in Redis."""
        if tries > len(self.retry_s):
            log.error("notification %s given up after %d attempts", n.id, tries)
            await delivery.given_up(self.redis, n.id, n.kind)
            await delivery.booking_state(self.redis, n.site, n.booking, "given_up", n.kind,
                                         self.clock())
            return
        due = self.clock() + int(self.retry_s[tries - 1] * 1000)
        await self.redis.zadd(keys.NOTIFY_RETRY, {_encode(_Pending(n, tries)): due})
        self._start_retrier()

    async def send_at(self, n: Notification, at_ms: int) -> None:
        """Send ``n`` at ``at_ms`` (the end of quiet hours), checked then as a retry is."""
        await self.redis.zadd(keys.NOTIFY_RETRY, {_encode(_Pending(n, 0)): at_ms})
        self._start_retrier()

    def _start_retrier(self) -> None:
        if self._retrier is None or self._retrier.done():
            self._retrier = asyncio.create_task(self._retry_loop(), name="notify-retry")

    async def _retry_loop(self) -> None:
        """Send the retries that are due. Each is taken with ZREM, so of several workers only
        one sends it; one no longer true is dropped (``try_send``'s check), a refusal queues
        the next try, the last one is given up (logged)."""
        while True:
            try:
                # One read while nothing is due (the usual case): the earliest entry.
                nxt = await self.redis.zrange(keys.NOTIFY_RETRY, 0, 0, withscores=True)
                now = self.clock()
                if nxt and nxt[0][1] <= now:
                    for raw in await self.redis.zrangebyscore(keys.NOTIFY_RETRY, "-inf", now,
                                                              start=0, num=50):
                        if not await self.redis.zrem(keys.NOTIFY_RETRY, raw):
                            continue  # another worker took it
                        p = _decode_pending(raw)
                        if not await self.try_send(p.n, check=True):
                            await self.retry_later(p.n, p.tries + 1)
                    continue
                wait = RETRY_POLL_S if not nxt else (nxt[0][1] - now) / 1000
                await asyncio.sleep(min(RETRY_POLL_S, max(0.005, wait)))
            except (RedisError, OSError) as exc:
                log.warning("notification retries: %s", exc)
                await asyncio.sleep(1.0)

    async def pending_retries(self) -> int:
        return int(await self.redis.zcard(keys.NOTIFY_RETRY))

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self.watchers.values(), self._retrier)
                 if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self.watchers.clear()
        self._retrier = None  # pending retries stay in Redis for the next worker
