"""Replays a site's event stream through the pure reference policy, checking every step.

The stream is the serial order of everything that happened, so if each ``issued`` event
inserts where ``queueing.policy`` says and each ``called`` event calls the head that
``choose_head`` picks, the Lua scripts and the pure policy agree.
"""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import Redis

from queueing import keys
from queueing.model import SiteConfig
from queueing.policy import Head, ServiceQueue, choose_head


async def read_events(redis: Redis, site: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for eid, fields in await redis.xrange(keys.events(site)):
        data = msgspec.json.decode(fields[b"d"])
        data["_type"] = fields[b"t"].decode()
        data["_ts"] = int(fields[b"ts"])
        data["_actor"] = fields[b"a"].decode()
        data["_via"] = fields[b"ch"].decode()
        out.append((eid.decode(), data))
    return out


def check_replay(cfg: SiteConfig, events: list[tuple[str, dict[str, Any]]],
                 factor: float, back: int | None = None) -> dict[str, ServiceQueue]:
    """Replay ``events`` through the Python policy (queueing/policy.py) and check each
    insertion lands where the Lua put it. ``back``: the site's no_show_return_after (None:
    ``cfg``'s)."""
    if back is None:
        back = cfg.policy.no_show_return_after
    queues = {s.id: ServiceQueue(factor=factor) for s in cfg.services}
    ranks: dict[str, tuple[int, int]] = {}
    for _, ev in events:
        kind = ev["_type"]
        t = ev.get("ticket")
        if kind == "transferred" and ev.get("from") in ("waiting", "transferred"):
            queues[ev["from_service"]].remove(t["id"])  # moved by id out of its queue
        if kind in ("issued", "unparked") or (kind in ("no_show", "transferred")
                                                and ev.get("index") is not None):
            q = queues[t["service"]]
            ins = q.insert(t["id"], float(t["key"]), bool(t["preempt"]),
                           back if kind == "no_show" else 0)
            assert ins.index == ev["index"], (kind, t["number"], ins.index, ev["index"])
            ranks[t["id"]] = (t["rank"], t["ref_ms"])
        elif kind == "promoted":  # an early check-in given its appointment's place
            ins = queues[t["service"]].promote(t["id"], float(t["key"]), bool(t["preempt"]))
            assert ins is not None and ins.index == ev["index"], (kind, t["number"], ins)
            ranks[t["id"]] = (t["rank"], t["ref_ms"])
        elif kind == "called":
            counter = cfg.counter(ev["counter"])
            assert counter is not None
            if ev["from"] in ("waiting", "transferred"):
                heads = []
                for sid in counter.services:
                    q = queues[sid]
                    if len(q):
                        hid = q.entries[0].id
                        rank, ref = ranks[hid]
                        heads.append(Head(sid, hid, rank, ref, counter.weights.get(sid, 1.0)))
                best = choose_head(heads, ev["_ts"])
                # A specific call may take anyone; call-next must take the policy's choice.
                if ev.get("next", True) and best is not None and best.ticket != t["id"]:
                    raise AssertionError(f"called {t['number']} but policy says {best.ticket}")
                queues[t["service"]].remove(t["id"])
        elif ((kind == "cancelled" and ev["from"] in ("waiting", "transferred"))
              or (kind == "undone" and ev["from"] == "waiting")):  # a returned no-show back
            queues[t["service"]].remove(t["id"])
    return queues
