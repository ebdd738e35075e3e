"""The day log: one compact record per ticket milestone, kept 31 days per site.

Pure: turns a site event into ``(local day, record)``. The server appends records through a
Redis consumer group, exactly once per event (queueing/lua/record.lua), and rebuilds the
day's accuracy and operations from them (``queueing.estimate.AccuracyTracker``/``DayStats``)
and warms each hub's rate tracker with the last week.

Record kinds (``k``): ``i`` issued, ``c`` first call, ``d`` completed (service time),
``n`` no-show (terminal), ``r`` no-show that returned the ticket to its place, ``a``
abandoned (cancelled before being called; under the service that issued the ticket, whose
``i`` record it is), ``z`` closed unserved at the end of the day, ``t`` transferred in (``s``
the new service, ``f`` the one it came from), ``x`` called in a queue it was transferred to
after an earlier call (a call there, with no wait of its own), ``y`` called again at a
counter after a no-show sent it back to the queue or after it was parked (``t``: the call; a
call at that counter, not a new ticket for the service), ``h`` parked at a counter, ``w`` a
counter's complete or no-show taken back (``undo``): ``g`` is the offset (``o``) of the
record it takes back, which readers then leave out (``taken_back``) with the ``w`` itself.

A ``t`` or ``h`` record of a ticket a counter had (called or being served) carries the
counter (``ctr``) and its time with the ticket: ``a`` the last call (or start, when pressed
since), ``b`` the transfer or park — busy time at the counter though nobody was served
there. ``t`` records written before they did (and transfers of tickets in a queue) have
none: that time is unknown, not zero.

Counter records (``o`` opened, ``p`` paused, ``q`` closed) carry the counter (``ctr``), the
time of the change (``t``), the state it left (``f``) and who did it (``u``); they are filed
under the local day of the change, and their ``s`` is empty (no service: readers that count
per service pass them by, as readers written before them did).

``l`` a ticket cancelled while called (the counter ``ctr``, ``a`` the call, ``b`` the cancel:
time at the counter with nobody served; written since 2026-12-07 — before, such a cancel
wrote nothing).

``u`` on ``c``, ``x``, ``y``, ``d``, ``n``, ``t``, ``h`` and counter records is the actor: the
subject of the staff token that called, completed, marked absent, transferred, parked or
opened (never a patient's name or number);
``ctr`` on ``c``, ``x`` and ``y`` records is the counter that called. ``y`` records are
written since 2026-12-06: before, such a call wrote nothing. Records written before these
fields existed lack them: readers treat a missing ``u``/``ctr`` as unknown.
"""

from __future__ import annotations

from typing import Any

from queueing.estimate import Estimate
from queueing.numbering import local_day

KEEP_DAYS = 31
# A counter's state change: its record kind.
COUNTER_KINDS = {"counter_open": "o", "counter_paused": "p", "counter_closed": "q"}
STAFF_KINDS = frozenset({"c", "x", "y", "d", "n", "t", "h", "w"})
# Calls at a counter: first calls, calls after a transfer, calls after a return or a park.
CALL_KINDS = ("c", "x", "y")


def record_for(kind: str, data: dict[str, Any], offset: str, timezone: str, *, ts: int = 0,
               actor: str = "") -> tuple[str, dict[str, Any]] | None:
    """The record an event adds to the day log, if any: a ticket's under its issue day, a
    counter's (which needs the event's time ``ts``) under the day of the change."""
    if kind in COUNTER_KINDS:
        return _counter_record(kind, data, offset, timezone, ts, actor)
    t = data.get("ticket")
    if not isinstance(t, dict) or not t.get("issued_ms"):
        return None
    issued = int(t["issued_ms"])
    base: dict[str, Any] = {"o": offset, "s": t["service"], "r": int(t.get("rank") or 0)}
    rec: dict[str, Any] | None = None
    if kind == "issued":
        rec = base | {"k": "i", "t": issued, "c": t.get("channel"), "p": t.get("priority")}
    elif kind == "called" and _first_call(data, t):
        rec = base | {"k": "c", "i": issued, "t": int(t["called_ms"])}
        # The estimate given at issue was for the service the ticket was taken for: a
        # ticket moved to another queue before its call is counted, not scored.
        est = _estimate(t) if t.get("origin_service", t["service"]) == t["service"] else None
        if est is not None:
            rec["e"] = est
    elif kind == "completed":
        rec = base | {"k": "d", "ctr": data.get("counter") or t.get("counter"),
                      "a": _service_start(data, t), "b": int(t.get("ended_ms") or 0)}
    elif kind == "called" and data.get("from") == "transferred":
        rec = base | {"k": "x"}
    elif kind == "called":
        rec = base | {"k": "y", "t": int(t.get("called_ms") or 0)}
    elif kind == "no_show" and not data.get("returned"):
        rec = base | {"k": "n", "ctr": data.get("counter"), "a": int(t.get("called_ms") or 0),
                      "b": int(t.get("ended_ms") or 0)}
    elif kind == "no_show":
        rec = base | {"k": "r", "ctr": data.get("counter")}
    elif kind == "cancelled" and data.get("reason") == "day_closed":
        rec = base | {"k": "z", "i": issued, "t": int(t.get("ended_ms") or 0),
                      "f": data.get("from")}
    elif kind == "cancelled" and data.get("from") == "called":
        # Called, then cancelled (a text "cancel" as the number shows, the person gone at
        # the counter): the call had no outcome of its own before, so the day did not add up.
        rec = base | {"k": "l", "ctr": data.get("counter") or t.get("counter"),
                      "a": int(t.get("called_ms") or 0), "b": int(t.get("ended_ms") or 0)}
    elif kind == "cancelled" and data.get("from") in ("waiting", "transferred", "parked"):
        rec = base | {"k": "a", "s": t.get("origin_service") or t["service"], "i": issued,
                      "t": int(t.get("ended_ms") or 0)}
    elif kind == "transferred":
        rec = base | {"k": "t", "s": data.get("to_service") or t["service"],
                      "f": data.get("from_service")} | _handling(data, t, ts)
    elif kind == "parked":
        rec = base | {"k": "h"} | _handling(data, t, ts)
    elif kind == "undone" and data.get("undid_offset"):
        rec = base | {"k": "w", "g": data["undid_offset"], "ctr": data.get("counter")}
    if rec is None:
        return None
    ctr = data.get("counter") or t.get("counter")
    if rec["k"] in CALL_KINDS and ctr:
        rec["ctr"] = ctr
    if actor and rec["k"] in STAFF_KINDS:
        rec["u"] = actor
    return local_day(issued, timezone), rec


def taken_back(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` without the completions and no-shows a counter took back (``undo``) and
    the ``w`` records that say so: the day's figures count what happened in the end."""
    gone = {r.get("g") for r in records if r.get("k") == "w"}
    if not gone:
        return records
    return [r for r in records if r.get("k") != "w" and r.get("o") not in gone]


def _counter_record(kind: str, data: dict[str, Any], offset: str, timezone: str, ts: int,
                    actor: str) -> tuple[str, dict[str, Any]] | None:
    if not ts or not data.get("counter"):
        return None
    rec = {"o": offset, "s": "", "k": COUNTER_KINDS[kind], "ctr": data["counter"], "t": ts,
           "f": data.get("from")}
    if actor:
        rec["u"] = actor
    return local_day(ts, timezone), rec


def _handling(data: dict[str, Any], t: dict[str, Any], ts: int) -> dict[str, Any]:
    """A counter's time with a ticket it transferred or parked: ``ctr``, ``a`` (the last
    call, or start when pressed since) and ``b`` (the event's time). Nothing when the ticket
    was not at a counter (moved by id from a queue) or the time is not known."""
    called, started = int(t.get("called_ms") or 0), int(t.get("started_ms") or 0)
    if not (data.get("counter") and data.get("from") in ("called", "serving") and called
            and ts >= called):
        return {}
    a = started if data["from"] == "serving" and called <= started <= ts else called
    return {"ctr": data["counter"], "a": a, "b": ts}


def _service_start(data: dict[str, Any], t: dict[str, Any]) -> int:
    """When service began for a completed ticket.

    ``complete`` stamps ``started_ms`` with the same instant as ``ended_ms`` when the agent
    never pressed start (queueing/lua/ticket_op.lua), and a ``started_ms`` left over from
    before a transfer belongs to another visit: in both cases, and whenever the completion
    came straight from ``called``, service is measured from the (last) call.
    """
    ended = int(t.get("ended_ms") or 0)
    started = int(t.get("started_ms") or 0)
    skipped = data.get("from") == "called" or not started or started == ended
    if skipped:
        called = int(t.get("called_ms") or 0)
        if called and (not ended or called <= ended):
            return called
    return started or ended


def _first_call(data: dict[str, Any], t: dict[str, Any]) -> bool:
    """The call that ends the ticket's wait: its first call. The event says so (``first``);
    events written before it did: a call from ``waiting`` of a ticket never sent back or
    transferred (then every transfer came after a call)."""
    if "first" in data:
        return bool(data["first"])
    return (data.get("from") == "waiting" and not int(t.get("returned") or 0)
            and t.get("origin_service", t["service"]) == t["service"])


def _estimate(t: dict[str, Any]) -> list[float] | None:
    """[wait, low, high, model median, model log-spread] as announced at issue."""
    try:
        return [float(t[k]) for k in ("est_wait", "est_low", "est_high", "est_m", "est_sd")]
    except (KeyError, TypeError, ValueError):
        return None


def announced(e: list[float]) -> Estimate:
    """The ``Estimate`` a day-log record's ``e`` field stands for."""
    return Estimate(e[0], e[1], e[2], (e[3], e[4]) if len(e) >= 5 else (0.0, 0.0))
