"""A site's live state, rebuilt from a snapshot and the site's events: pure, no I/O.

Hubs keep one ``SiteView`` per site they serve. Applying an event returns what it changed,
so the hub can compute each tracked ticket's new position locally: one queue change costs
one stream entry, not one write per waiting ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from queueing.model import SiteConfig
from queueing.policy import aging_budget

ACTIVE = ("waiting", "transferred", "called", "serving", "parked")
_COUNTER_STATES = frozenset({"counter_open", "counter_paused", "counter_closed"})


@dataclass(slots=True)
class Change:
    """What one event changed."""

    kind: str
    ticket: dict[str, Any] | None = None
    counter: str | None = None
    services: set[str] = field(default_factory=set)  # whose order changed
    counters: set[str] = field(default_factory=set)  # whose state or ticket changed
    parked: set[str] = field(default_factory=set)  # services whose parked list changed
    config: bool = False
    removed: list[tuple[str, str]] = field(default_factory=list)  # (service, ticket id)
    inserted: list[tuple[str, str, str]] = field(default_factory=list)  # (service, id, after)


@dataclass(slots=True)
class SiteView:
    site: str
    config: SiteConfig
    queues: dict[str, list[str]]
    tickets: dict[str, dict[str, Any]]
    counters: dict[str, dict[str, Any]]
    recent: list[dict[str, Any]]
    # Aging budgets of waiting tickets, kept exactly as the scripts keep them (policy.py).
    budgets: dict[str, int] = field(default_factory=dict)
    _index: dict[str, dict[str, int]] = field(default_factory=dict)
    # Parked tickets by id, in the order they were parked (counter consoles list them).
    parked: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Open tickets (those in ``tickets``) per channel, kept as events apply: a cap on the
    # tickets one channel may hold (text to join) reads a number, not every ticket.
    by_channel: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for t in self.tickets.values():
            self._count(t, 1)
        if not self.parked:
            parked = [t for t in self.tickets.values() if t.get("status") == "parked"]
            # By call time: about when they were set aside.
            parked.sort(key=lambda t: int(t.get("called_ms") or 0))
            self.parked = {t["id"]: t for t in parked}

    @classmethod
    def from_snapshot(cls, site: str, snap: dict[str, Any], now_ms: int = 0) -> SiteView:
        """Build from the ``snapshot`` script's result (Lua encodes empty arrays as {}).
        ``now_ms``: when it was taken. An open counter with no ticket is free since it let
        its last ticket go (``free_ms``, kept by the scripts that release one) or opened,
        whichever is later; with no opening time known, since ``now_ms``. (After a restart, a
        counter nobody had been at for an hour counted as free only from the restart, and
        the estimate said "any minute now".)"""
        cfg = msgspec.convert(snap["config"], SiteConfig)
        queues = {s.id: list(snap["queues"].get(s.id) or []) for s in cfg.services}
        raw = snap["counters"] or {}
        counters: dict[str, dict[str, Any]] = {
            cid: {"state": cs.get("state", "closed"), "ticket": cs.get("ticket", ""),
                  "since": int(cs.get("since") or 0)}
            for cid, cs in raw.items()}
        for cid, cs in counters.items():
            if now_ms and cs["state"] == "open" and not cs["ticket"]:
                freed = int(raw[cid].get("free_ms") or 0)
                cs["free_since"] = max(freed, cs["since"]) if cs["since"] else now_ms
        recent: list[dict[str, Any]] = []
        for r in snap["recent"] or []:  # newest first; a recall repeats a ticket: keep the first
            if all(x["ticket"] != r["ticket"] for x in recent):
                recent.append(r)
        budgets = {k: int(v) for k, v in (snap.get("budgets") or {}).items()}
        return cls(site, cfg, queues, dict(snap["tickets"] or {}), counters, recent, budgets)

    # -- reading --------------------------------------------------------------------------

    def position(self, ticket_id: str) -> int | None:
        t = self.tickets.get(ticket_id)
        if t is None or t["status"] not in ("waiting", "transferred"):
            return None
        svc = t["service"]
        idx = self._index.get(svc)
        if idx is None:
            idx = {tid: i for i, tid in enumerate(self.queues.get(svc, ()))}
            self._index[svc] = idx
        i = idx.get(ticket_id)
        return None if i is None else i + 1

    def waiting(self, service: str) -> int:
        return len(self.queues.get(service, ()))

    def open_in(self, channel: str) -> int:
        """Open tickets (waiting, transferred, called, serving, parked) from ``channel``."""
        return self.by_channel.get(channel, 0)

    def open_counters(self, service: str) -> list[str]:
        return [c.id for c in self.config.counters
                if service in c.services and self.counters.get(c.id, {}).get("state") == "open"]

    # -- applying -------------------------------------------------------------------------

    def apply(self, kind: str, data: dict[str, Any], at_ms: int = 0) -> Change:
        """Apply one event; ``at_ms`` (the entry's time) dates a counter's state change."""
        t = data.get("ticket")
        ch = Change(kind, t, data.get("counter") or None)
        handler = getattr(self, "_on_" + kind, None)
        if handler is not None:
            cid = data.get("counter")
            before = dict(self.counters.get(cid) or {}) if cid else None
            handler(data, ch)
            if at_ms and kind in _COUNTER_STATES:
                self.counters[data["counter"]]["since"] = at_ms
            if at_ms and before is not None and cid in self.counters:
                now = self.counters[cid]
                # Free (open, no ticket) since: when it let its last ticket go or opened. An
                # open counter free long while people wait has nobody at it (the estimator's
                # ``idle_since_ms``); unknown (None) after a snapshot until it next changes.
                if now.get("ticket") or now.get("state") != "open":
                    now.pop("free_since", None)
                elif before.get("ticket") or before.get("state") != "open":
                    now["free_since"] = at_ms
        if t is not None:
            self._count(self.tickets.get(t["id"]), -1)
            if t["status"] in ACTIVE:
                self.tickets[t["id"]] = t
                self._count(t, 1)
            else:
                self.tickets.pop(t["id"], None)
            if t["status"] == "parked":
                if t["id"] not in self.parked:
                    ch.parked.add(t["service"])
                self.parked[t["id"]] = t
            else:
                left = self.parked.pop(t["id"], None)
                if left is not None:
                    ch.parked.add(left["service"])
        return ch

    def _count(self, t: dict[str, Any] | None, n: int) -> None:
        if t is not None:
            channel = t.get("channel") or ""
            self.by_channel[channel] = self.by_channel.get(channel, 0) + n

    def _insert(self, svc: str, tid: str, after: str, ch: Change, stood: bool = False) -> None:
        """``stood``: promoted where it stood (policy.plan_promotion), so only those between
        its new place and its old one were overtaken, not everyone behind it."""
        q = self.queues.setdefault(svc, [])
        old = q.index(tid) if tid in q else None
        if old is not None:
            q.remove(tid)
        end = old if stood and old is not None else len(q)
        at = 0 if not after else q.index(after) + 1 if after in q else end
        for passed in q[at:end]:  # everyone behind the new ticket was overtaken by it
            if passed in self.budgets:
                self.budgets[passed] -= 1
        self.budgets[tid] = aging_budget(at, self.config.policy.aging_factor)
        q.insert(at, tid)
        self._index.pop(svc, None)
        ch.services.add(svc)
        ch.inserted.append((svc, tid, after))

    def _remove(self, svc: str, tid: str, ch: Change) -> None:
        q = self.queues.get(svc)
        self.budgets.pop(tid, None)
        if q and tid in q:
            q.remove(tid)
            self._index.pop(svc, None)
            ch.services.add(svc)
            ch.removed.append((svc, tid))

    def _set_counter(self, cid: str, ch: Change, **kv: Any) -> None:
        self.counters.setdefault(cid, {"state": "closed", "ticket": ""}).update(kv)
        ch.counters.add(cid)

    def _on_issued(self, d: dict[str, Any], ch: Change) -> None:
        self._insert(d["ticket"]["service"], d["ticket"]["id"], d.get("after") or "", ch)

    _on_unparked = _on_issued

    def _on_called(self, d: dict[str, Any], ch: Change) -> None:
        t = d["ticket"]
        for svc in self.queues:
            self._remove(svc, t["id"], ch)
        self._set_counter(d["counter"], ch, ticket=t["id"])
        self.recent = [r for r in self.recent if r["ticket"] != t["id"]]
        self.recent.insert(0, {"ticket": t["id"], "number": t["number"], "counter": d["counter"],
                               "service": t["service"], "ts": t.get("called_ms")})
        del self.recent[20:]

    def _on_recalled(self, d: dict[str, Any], ch: Change) -> None:
        self._on_called(d, ch)

    def _release(self, d: dict[str, Any], ch: Change) -> None:
        cid = d.get("counter")
        if cid and self.counters.get(cid, {}).get("ticket") == d["ticket"]["id"]:
            self._set_counter(cid, ch, ticket="")

    def _on_started(self, d: dict[str, Any], ch: Change) -> None:
        if d.get("counter"):
            ch.counters.add(d["counter"])

    def _on_completed(self, d: dict[str, Any], ch: Change) -> None:
        self._release(d, ch)

    _on_parked = _on_completed

    def _on_no_show(self, d: dict[str, Any], ch: Change) -> None:
        self._release(d, ch)
        if d.get("returned"):
            self._insert(d["ticket"]["service"], d["ticket"]["id"], d.get("after") or "", ch)

    def _on_undone(self, d: dict[str, Any], ch: Change) -> None:
        # A complete or no-show taken back: the ticket is the counter's again (out of its
        # queue if the no-show had returned it there).
        t = d["ticket"]
        for svc in self.queues:
            self._remove(svc, t["id"], ch)
        self._set_counter(d["counter"], ch, ticket=t["id"])

    def _on_transferred(self, d: dict[str, Any], ch: Change) -> None:
        self._release(d, ch)
        if d.get("from_service"):  # a waiting ticket moved by id leaves its old queue
            self._remove(d["from_service"], d["ticket"]["id"], ch)
        self._insert(d["ticket"]["service"], d["ticket"]["id"], d.get("after") or "", ch)

    def _on_promoted(self, d: dict[str, Any], ch: Change) -> None:
        # An early check-in given its appointment's place: it moves forward from where it
        # stood, and only those it passed spend budget.
        t = d["ticket"]
        ch.removed.append((t["service"], t["id"]))
        self._insert(t["service"], t["id"], d.get("after") or "", ch, stood=True)

    def _on_cancelled(self, d: dict[str, Any], ch: Change) -> None:
        t = d["ticket"]
        self._remove(t["service"], t["id"], ch)
        self._release(d, ch)

    def _on_day_closed(self, d: dict[str, Any], ch: Change) -> None:
        before = int(d.get("before_ms") or 0)
        self.recent = [r for r in self.recent if int(r.get("ts") or 0) >= before]

    def _counter_state(self, d: dict[str, Any], ch: Change) -> None:
        self._set_counter(d["counter"], ch, state=d["state"])

    _on_counter_open = _counter_state
    _on_counter_paused = _counter_state
    _on_counter_closed = _counter_state

    def _on_site_updated(self, d: dict[str, Any], ch: Change) -> None:
        self.config = msgspec.convert(d["config"], SiteConfig)
        for s in self.config.services:
            self.queues.setdefault(s.id, [])
        for c in self.config.counters:
            self.counters.setdefault(c.id, {"state": "closed", "ticket": ""})
        ch.config = True
