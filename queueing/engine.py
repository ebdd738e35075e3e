"""The queue executor: every transport (HTTP, websocket, arq task) calls these methods.

It validates input against the site's configuration, asks the pure policy code what it
needs, and runs one store script per change. No business rule lives in a route.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from queueing import hours, keys, phone, served, transitions
from queueing.booking import langs
from queueing.errors import (
    BadRequest,
    CounterBusy,
    InvalidTransition,
    SiteChanged,
    SwitchboardError,
    UndoExpired,
    UnknownCounter,
    UnknownService,
    UnknownSite,
    UnknownTicket,
)
from queueing.model import (
    Channel,
    CounterState,
    SiteConfig,
    TicketRequest,
    TicketStatus,
    validate_site,
)
from queueing.numbering import local_day
from queueing.store import Store
from queueing.tickets import number_key, public
from queueing.transitions import Op


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, and through which channel: recorded on every event (the audit log)."""

    subject: str
    via: str = "api"


@dataclass(slots=True)
class _Cached:
    config: SiteConfig
    tz: ZoneInfo
    at: float


@dataclass(frozen=True, slots=True)
class Issued:
    ticket: dict[str, Any]
    replay: bool


# Counter operations that act on the counter's current ticket, and their transition op.
CURRENT_OPS = {
    "recall": Op.RECALL, "start": Op.START, "complete": Op.COMPLETE, "no-show": Op.NO_SHOW,
    "park": Op.PARK, "transfer": Op.TRANSFER,
}
STATE_OPS = {"open": CounterState.OPEN, "pause": CounterState.PAUSED,
             "close": CounterState.CLOSED}
OPEN_STATES = frozenset(s.value for s in (transitions.WAITING_STATES | transitions.ACTIVE_STATES
                                          | {TicketStatus.PARKED}))
# Why a ticket was cancelled, as its ticket and the ``cancelled`` event say.
CANCEL_REASONS = ("day_closed", "by_staff", "by_holder")
COUNTER_OPS = ("open", "pause", "close", "call-next", "call", *CURRENT_OPS, "unpark", "undo")


class Engine:
    """Queue operations for every site in one Redis."""

    def __init__(self, store: Store, clock: Callable[[], int] = wall_ms,
                 config_ttl_s: float = 2.0, idempotency_ttl_s: int = 86400) -> None:
        self.store = store
        self.clock = clock
        self.config_ttl_s = config_ttl_s
        self.idempotency_ttl_s = idempotency_ttl_s
        self._configs: dict[str, _Cached] = {}

    # -- sites -------------------------------------------------------------------------

    async def put_site(self, site: str, cfg: SiteConfig, actor: Actor,
                       version: str | None = None, copy_of: str | None = None
                       ) -> dict[str, Any]:
        """Create or replace the site's document. With ``version`` (what ``GET`` answered),
        only if the site is still that document: else ``SiteChanged`` (``details.current``),
        or ``UnknownSite`` when there is no such site. ``copy_of``: the document was read
        from that other site, and is taken only as a new site (else ``BadRequest``,
        ``details.field: "id"``). Either is checked and written in one step; refused,
        nothing is written."""
        validate_site(cfg)
        guard = await self._guard(site, version, copy_of)
        svcs = {s.id: s.prefix for s in cfg.services}
        ctrs = {c.id: {"services": c.services, "weights": c.weights or {"_": 1}}
                for c in cfg.counters}
        pol = {"factor": cfg.policy.aging_factor, "recall_max": cfg.policy.recall_max,
               "no_show_after": cfg.policy.no_show_after_calls,
               "no_show_returns": int(cfg.policy.no_show_returns),
               "no_show_back": cfg.policy.no_show_return_after,
               "undo_window_s": cfg.policy.undo_window_s}
        classes = {p.id: f"{i}|{int(p.preempt)}" for i, p in enumerate(cfg.priority_classes)}
        try:
            result = await self.store.run(
                "put_site", site, self.clock(), actor.subject, actor.via,
                msgspec.json.encode(cfg).decode(), _json(svcs), _json(ctrs), _json(pol),
                secrets.token_hex(4), _json(classes), guard)
        except SiteChanged:  # saved by someone else between the guard's read and the script
            raw = await self.store.redis.get(keys.prefix(site) + "config")
            raise _refused(site, raw, copy_of) from None
        # Dropped before anything else is awaited: the hub may already have sent the change
        # (the script appended it to the stream), and a page that asks again at once (the
        # kiosk's hours) must not be answered from the old document.
        self._configs.pop(site, None)
        await self.store.redis.sadd(keys.SITES, site)  # type: ignore[misc]
        self._configs.pop(site, None)
        return result

    def forget(self, site: str) -> None:
        """Drop this process's cached document of ``site`` (deleted: the next read finds
        none). Other processes keep theirs for up to ``config_cache_s``."""
        self._configs.pop(site, None)

    async def _guard(self, site: str, version: str | None, copy_of: str | None = None) -> str:
        """What ``put_site`` checks in its script: '' (no version: replace), else the SHA-1
        of the stored document ``version`` names. The version is a digest Lua cannot compute,
        so the script checks that the stored bytes are still the ones it was computed from.
        A copy's is the SHA-1 of no bytes, which is what the script hashes for no site."""
        if version is None and copy_of is None:
            return ""
        raw = await self.store.redis.get(keys.prefix(site) + "config")
        if copy_of is not None:
            if raw is not None:
                raise _refused(site, raw, copy_of)
            return hashlib.sha1(b"").hexdigest()
        if raw is None or _version(raw) != version:
            raise _refused(site, raw)
        return hashlib.sha1(raw).hexdigest()

    async def config(self, site: str) -> SiteConfig:
        return (await self._cached(site)).config

    async def _cached(self, site: str) -> _Cached:
        hit = self._configs.get(site)
        if hit and time.monotonic() - hit.at < self.config_ttl_s:
            return hit
        raw = await self.store.redis.get(keys.prefix(site) + "config")
        if raw is None:
            raise UnknownSite(f"unknown site {site}")
        cfg = msgspec.json.decode(raw, type=SiteConfig)
        hit = _Cached(cfg, ZoneInfo(cfg.timezone), time.monotonic())
        self._configs[site] = hit
        return hit

    async def site(self, site: str) -> dict[str, Any]:
        """The site's configuration with each counter's current state, and ``unserved``:
        ``{service: tickets waiting}`` for services no counter serves that still hold some
        (left out when there are none)."""
        c = await self._cached(site)
        pipe = self.store.redis.pipeline(transaction=False)
        for ctr in c.config.counters:
            pipe.hgetall(keys.prefix(site) + "cs:" + ctr.id)
        idle = served.unserved(c.config)
        for svc in idle:
            pipe.zcard(keys.prefix(site) + "q:" + svc)
        replies = await pipe.execute()
        states, waiting = replies[:len(c.config.counters)], replies[len(c.config.counters):]
        out: dict[str, Any] = msgspec.to_builtins(c.config)
        out["id"] = site
        out["version"] = config_version(c.config)
        out.setdefault("counters", [])  # defaults are omitted when encoding
        for ctr, st in zip(out["counters"], states, strict=True):
            ctr["state"] = st.get(b"state", b"closed").decode()
            ctr["ticket"] = st.get(b"ticket", b"").decode() or None
        # Tickets waiting in a service no counter serves (its last counter stopped serving
        # it): never called unless someone acts, so the document read says so.
        stranded = served.stranded(dict(zip(idle, waiting, strict=True)))
        if stranded:
            out["unserved"] = stranded
        return out

    async def version(self, site: str) -> str:
        """The site document's version (``GET`` answers it; a ``PUT`` carrying an older one
        is refused: someone else saved meanwhile)."""
        raw = await self.store.redis.get(keys.prefix(site) + "config")  # not the cache
        if raw is None:
            raise UnknownSite(f"unknown site {site}")
        return _version(raw)

    async def sites(self) -> list[str]:
        members = await self.store.redis.smembers(keys.SITES)  # type: ignore[misc]
        return sorted(s.decode() for s in members)

    # -- tickets -----------------------------------------------------------------------

    async def issue(self, site: str, req: TicketRequest, actor: Actor,
                    idempotency_key: str | None = None, lang: str | None = None,
                    staff: bool = False) -> Issued:
        """A new ticket, or the one ``idempotency_key`` already made for this caller: keys
        are scoped to ``actor.subject`` (the token's subject), so two kiosks never share one.
        Refused in a service no counter lists (``ServiceNotServed``, queueing/served.py).
        ``lang`` (one of the site's languages, ``langs.pick``): the language of the texts
        to ``req.notify``. Outside the site's issuing hours (``policy.hours``,
        queueing/hours.py) refused (``SiteClosed``, ``ServiceClosed``; nothing changes),
        unless issued by ``staff`` (an agent or admin token: staff may serve someone after
        hours) or through the ``window`` channel (only staff issue it)."""
        c = await self._cached(site)
        if c.config.service(req.service) is None:
            # Checked here too so an unknown service costs no script call.
            raise UnknownService(f"unknown service {req.service}")
        if not staff and req.channel is not Channel.WINDOW:
            await self._open_for(site, c.config, req.service, actor, idempotency_key)
        if req.notify:  # one spelling per number (its "almost your turn" is keyed by it)
            req = msgspec.structs.replace(req, notify=phone.target(req.notify,
                                                                   c.config.phone_region()))
        now = self.clock()
        priority = req.priority or c.config.policy.default_priority
        ref_ms = req.appointment_ms if req.appointment_ms else now
        fingerprint = hashlib.sha256(msgspec.json.encode(req) + (lang or "").encode()
                                     ).hexdigest()[:16]
        ticket_id = f"{site}.{secrets.token_hex(6)}"
        if lang and req.notify:
            # Before the script: its events (and so the texts they cause) never run ahead.
            await langs.keep(self.store.redis, site, ticket_id, lang)
        with _naming_service(req.service):
            r = await self.store.run(
                "issue", site, now, actor.subject, actor.via, ticket_id, req.service,
                req.channel.value, priority, ref_ms, local_day(now, c.config.timezone),
                req.customer or "", req.notify or "", idempotency_key or "", fingerprint,
                self.idempotency_ttl_s, req.appointment_ms or "", "")
        return Issued(public(r["ticket"], r["position"] or None, c.tz), bool(r.get("replay")))

    async def _open_for(self, site: str, cfg: SiteConfig, service: str, actor: Actor,
                        idempotency_key: str | None) -> None:
        """Refuse a self-service ticket outside issuing hours, unless its Idempotency-Key
        already made one (a retry of a ticket taken at 16:29 answers it at 16:31)."""
        closed = hours.refusal(cfg, service, self.clock())
        if closed is None:
            return
        if idempotency_key and await self.store.redis.exists(
                f"{keys.prefix(site)}idem:{len(actor.subject)}:{actor.subject}:"
                f"{idempotency_key}"):
            return  # the script answers the ticket it made
        raise closed

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        site = _site_of(ticket_id)
        c = await self._cached(site)
        r = await self.store.run("get_ticket", site, self.clock(), "", "", ticket_id)
        return public(r["ticket"], r["position"] or None, c.tz)

    async def note_estimate(self, ticket_id: str, wait_s: float, low_s: float, high_s: float,
                            model: tuple[float, float] = (0.0, 0.0)) -> None:
        """Keep the estimate announced at issue on the ticket, to score it when called
        (``model`` is the estimator's median and log-spread, which calibration learns from)."""
        key = keys.ticket(_site_of(ticket_id), ticket_id)
        await self.store.redis.hset(key, mapping={  # type: ignore[misc]
            "est_wait": round(wait_s, 1), "est_low": round(low_s, 1),
            "est_high": round(high_s, 1), "est_m": round(model[0], 3),
            "est_sd": round(model[1], 5)})

    async def cancel(self, ticket_id: str, actor: Actor, reason: str = "") -> dict[str, Any]:
        """Cancel a ticket not being served. ``reason`` (one of ``CANCEL_REASONS``) is kept on
        the ticket, so its holder's page can say why."""
        if reason and reason not in CANCEL_REASONS:
            raise BadRequest(f"unknown cancel reason {reason!r}", field="reason",
                             allowed=list(CANCEL_REASONS))
        return await self._self_op(ticket_id, Op.CANCEL, actor, reason)

    async def transfer(self, ticket_id: str, service: str, actor: Actor) -> dict[str, Any]:
        """Send a waiting, transferred or parked ticket to another service's queue: it keeps
        its class and original arrival there (as a counter's transfer of its current ticket
        does), and is ``transferred``. A ticket at a counter is transferred by that counter."""
        c = await self._cached(_site_of(ticket_id))
        if c.config.service(service) is None:
            raise UnknownService(f"unknown service {service}")
        with _naming_service(service):  # refused where no counter serves (queueing/served.py)
            return await self._self_op(ticket_id, Op.MOVE, actor, service)

    async def set_notify(self, ticket_id: str, to: str | None, actor: Actor) -> dict[str, Any]:
        """Where an open ticket's "almost your turn" and "your turn" messages go (an SMS
        number, say, typed at the kiosk after the ticket came out); None stops them."""
        to = await self.notify_target(_site_of(ticket_id), to)
        # No transition (the status stays): any open ticket.
        return await self._by_id(ticket_id, "notify", sorted(OPEN_STATES), actor, to or "")

    async def notify_target(self, site: str, to: str | None) -> str | None:
        """``to`` as ``notify`` keeps it: a phone number in E.164 read in the site's
        country (``InvalidPhoneNumber``: not one), another target as it is."""
        if not to:
            return to
        return phone.target(to, (await self._cached(site)).config.phone_region(), field="to")

    async def _self_op(self, ticket_id: str, op: Op, actor: Actor, arg: str = ""
                       ) -> dict[str, Any]:
        return await self._by_id(ticket_id, op.value, transitions.sources(op), actor, arg)

    async def _by_id(self, ticket_id: str, op: str, allowed: list[str], actor: Actor,
                     arg: str) -> dict[str, Any]:
        """One of queueing/lua/ticket_self.lua's operations on a ticket named by its id."""
        site = _site_of(ticket_id)
        c = await self._cached(site)
        r = await self.store.run("ticket_self", site, self.clock(), actor.subject, actor.via,
                                 ticket_id, op, ",".join(allowed), arg)
        return public(r["ticket"], r.get("position") or None, c.tz)

    async def close_day(self, site: str, before_ms: int, actor: Actor) -> dict[str, Any]:
        """End the day: cancel (reason ``day_closed``) every ticket still open that was
        issued before ``before_ms`` — waiting, transferred, parked or called. A ticket being
        served is left to its agent (listed in ``kept``). A booking's ticket whose
        appointment is at or after ``before_ms`` (checked in early, before the close, for
        an appointment after it) belongs to the new day and stays in line (listed in
        ``carried``): cancelling it would send away a patient who came on time for the
        next day's list. Each ticket is its own atomic
        step: one that changed meanwhile is skipped, never half-closed. Then close the
        counters open or paused since before ``before_ms`` that serve nobody
        (``counters_closed``)."""
        snap = await self.snapshot(site)
        sources = set(transitions.sources(Op.CANCEL))
        closed: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        carried: list[dict[str, Any]] = []
        tickets = sorted((snap["tickets"] or {}).values(), key=lambda t: int(t["issued_ms"]))
        for t in tickets:
            if int(t["issued_ms"]) >= before_ms:
                continue
            if int(t.get("appointment_ms") or 0) >= before_ms:
                carried.append({"id": t["id"], "number": t["number"], "status": t["status"]})
                continue
            if t["status"] not in sources:
                kept.append({"id": t["id"], "number": t["number"], "status": t["status"]})
                continue
            try:
                done = await self.cancel(t["id"], actor, reason="day_closed")
            except InvalidTransition:
                continue
            closed.append({"id": done["id"], "number": done["number"], "from": t["status"]})
        counters = await self._close_counters(site, snap["counters"] or {}, before_ms, actor)
        # Then the board forgets the day's calls (one event, which boards follow).
        await self.store.run("day_end", site, self.clock(), actor.subject, actor.via,
                             before_ms, len(closed), len(kept), len(carried))
        return {"site": site, "before_ms": before_ms, "closed": closed, "kept": kept,
                "carried": carried, "counters_closed": counters}

    async def _close_counters(self, site: str, counters: dict[str, Any], before_ms: int,
                              actor: Actor) -> list[str]:
        """Close the counters left open or paused since before ``before_ms`` (nobody
        closed them: the day's figures would count them open till midnight, and the next
        day would start with them open), each an ordinary ``counter_closed`` by ``actor``.
        One still serving someone (``counter_busy``) is left to its agent."""
        done = []
        for cid, cs in sorted(counters.items()):
            if cs.get("state") not in ("open", "paused") or int(cs.get("since") or 0) >= before_ms:
                continue
            try:
                r = await self.store.run("counter_state", site, self.clock(), actor.subject,
                                         actor.via, cid, CounterState.CLOSED.value)
            except CounterBusy:
                continue
            if r.get("offset"):  # closed now, not meanwhile by someone else
                done.append(cid)
        return done

    async def find(self, site: str, number: str) -> list[dict[str, Any]]:
        """The open ticket (waiting, transferred, called, serving or parked) holding
        ``number`` at ``site`` — "I am A023" at reception, or "a 23": letters and number
        are compared, not the text. No two open tickets of a site share a number
        (queueing/numbering.py), so the list has one ticket or none."""
        want = number_key(number)
        if want is None:
            raise BadRequest("'number' is a ticket number: a service prefix and digits, "
                             "e.g. A023", field="number")
        await self._cached(site)
        snap = await self.snapshot(site)
        ids = [t["id"] for t in (snap["tickets"] or {}).values()
               if number_key(t["number"]) == want]
        found = [await self.ticket(tid) for tid in ids]
        return [t for t in found if t["status"] in OPEN_STATES]  # ended in between: gone

    async def queue(self, site: str, service: str, limit: int = 0) -> dict[str, Any]:
        c = await self._cached(site)
        r = await self.store.run("queue", site, self.clock(), "", "", service, limit)
        tickets = r["tickets"] or []
        return {"service": service, "total": r["total"],
                "tickets": [public(t, i + 1, c.tz) for i, t in enumerate(tickets)]}

    # -- counters ----------------------------------------------------------------------

    async def counter_op(self, site: str, counter: str, op: str, actor: Actor,
                         ticket: str | None = None, service: str | None = None,
                         outcome: str | None = None) -> dict[str, Any]:
        """One counter operation; returns the affected ticket (or the counter's state)."""
        c = await self._cached(site)
        if c.config.counter(counter) is None:
            raise UnknownCounter(f"unknown counter {counter}")
        now = self.clock()
        base = (site, now, actor.subject, actor.via)
        if op in STATE_OPS:
            r = await self.store.run("counter_state", *base, counter, STATE_OPS[op].value)
            # As the site document says it: no current ticket is null, not "".
            return r | {"ticket": r.get("ticket") or None}
        if op == "call-next":
            r = await self.store.run("call_next", *base, counter)
        elif op == "call":
            _need(ticket, "ticket")
            _same_site(site, ticket or "")
            # ``service``, if given, is where the caller saw the ticket: refused if it has
            # been moved since (calling any ticket of the site by id stays possible).
            r = await self.store.run("call", *base, counter, ticket or "",
                                     ",".join(transitions.sources(Op.CALL)), service or "")
        elif op == "undo":
            if ticket or service or outcome:
                raise BadRequest("'undo' takes back the counter's last complete or no-show "
                                 "and takes no body", field="ticket" if ticket else
                                 "service" if service else "outcome")
            try:
                r = await self.store.run("undo", *base, counter)
            except UndoExpired as e:  # the script says a code; the window is the site's
                raise UndoExpired(str(e), window_s=c.config.policy.undo_window_s) from None
            return public(r["ticket"], None, c.tz) | {"undone": r["undone"]}
        elif op == "unpark":
            _need(ticket, "ticket")
            _same_site(site, ticket or "")
            return await self._self_op(ticket or "", Op.UNPARK, actor)
        elif op in CURRENT_OPS:
            if ticket:
                # These act on the counter's current ticket; a ticket named here would be
                # silently ignored (and the wrong one transferred).
                raise BadRequest(
                    f"{op!r} acts on the counter's current ticket and takes no 'ticket'"
                    + ("; a waiting ticket moves with POST /v1/tickets/{id}/transfer"
                       if op == "transfer" else ""), field="ticket")
            top = CURRENT_OPS[op]
            arg = ""
            if op == "transfer":
                _need(service, "service")
                arg = service or ""
            elif op == "complete":
                arg = outcome or ""
            with _naming_service(arg if op == "transfer" else ""):
                r = await self.store.run("ticket_op", *base, counter, top.value,
                                         ",".join(transitions.sources(top)), arg)
        else:
            raise BadRequest(f"unknown counter operation {op!r}", allowed=list(COUNTER_OPS))
        return public(r["ticket"], r.get("position") or None, c.tz)

    # -- hub support -------------------------------------------------------------------

    async def promote_due(self, site: str, limit: int = 500) -> list[dict[str, Any]]:
        """Give early check-ins whose time has come their appointment's place (promote.lua):
        the worker calls this every few seconds; a repeated call promotes nobody twice.
        Returns ``{ticket, index, offset}`` per ticket promoted."""
        r = await self.store.run("promote", site, self.clock(), "promote", "worker", limit)
        return list(r["promoted"] or [])

    async def snapshot(self, site: str) -> dict[str, Any]:
        return await self.store.run("snapshot", site, self.clock(), "", "")

    async def trim(self, site: str, keep_ms: int, keep_entries: int) -> dict[str, Any]:
        return await self.store.run("trim", site, self.clock(), "", "", keep_ms, keep_entries)


@contextlib.contextmanager
def _naming_service(service: str) -> Iterator[None]:
    """A script's ``service_not_served`` with ``details.service`` (scripts return a code and
    a message only)."""
    try:
        yield
    except served.ServiceNotServed:
        raise served.refusal(service) from None


def _json(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


def _need(value: str | None, name: str) -> None:
    if not value:
        raise BadRequest(f"{name!r} is required for this operation", field=name)


def _site_of(ticket_id: str) -> str:
    site = keys.site_of_ticket(ticket_id)
    if not site:
        raise UnknownTicket(f"unknown ticket {ticket_id}")
    return site


def _same_site(site: str, ticket_id: str) -> None:
    if keys.site_of_ticket(ticket_id) != site:
        raise UnknownTicket(f"ticket {ticket_id} is not at site {site}")


def config_version(cfg: SiteConfig) -> str:
    """A site document's version: a digest of what is stored."""
    return hashlib.sha256(msgspec.json.encode(cfg)).hexdigest()[:16]


def _version(raw: bytes) -> str:
    return config_version(msgspec.json.decode(raw, type=SiteConfig))


def _refused(site: str, raw: bytes | None, copy_of: str | None = None) -> SwitchboardError:
    """Why a guarded ``put_site`` was not written, given what is stored now (``raw``)."""
    if copy_of is not None:  # a copy is taken as a new site only
        return BadRequest(f"site {site!r} already exists, and this document is a copy of site "
                          f"{copy_of!r} (its id): put it without id and version to replace "
                          f"{site!r} with it, or edit what GET /v1/sites/{site} answers",
                          field="id", copy_of=copy_of, site=site)
    if raw is None:
        return UnknownSite(f"site {site!r} does not exist, so no version of it can be current: "
                           "put the document without version to create it",
                           field="version", site=site)
    return SiteChanged("the site was saved by someone else since this document was read: "
                       "read it again (or put it without its version to replace theirs)",
                       current=_version(raw), field="version")
