"""20 counters calling next while 1,000 tickets are issued concurrently from many channels."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter as Tally

from redis.asyncio import Redis

from queueing.engine import Actor, Engine
from queueing.errors import QueueEmpty
from queueing.model import Channel, Counter, Service, SiteConfig, TicketRequest
from queueing.store import Store
from tests.integration.replay import check_replay, read_events

SERVICES = ["a", "b", "c"]
CLASSES = ["emergency", "priority", "appointment", "revisit", "walk_in"]


def site() -> SiteConfig:
    services = [Service(s, s.upper(), s.upper()) for s in SERVICES]
    counters = [Counter(str(i), f"C{i}", [SERVICES[i % 3]] + ([SERVICES[(i + 1) % 3]]
                                                                if i % 2 else []))
                for i in range(20)]
    return SiteConfig(name="Busy", timezone="Europe/Paris", languages=["en"], services=services,
                      counters=counters)


async def test_every_ticket_called_exactly_once(redis: Redis) -> None:
    # Real clock: the scripts run in whatever order Redis serialises them.
    engine = Engine(Store(redis), config_ttl_s=60)
    admin = Actor("admin", "test")
    cfg = site()
    await engine.put_site("busy", cfg, admin)
    for c in cfg.counters:
        await engine.counter_op("busy", c.id, "open", admin)

    total = 1000
    rng = random.Random(3)
    channels = list(Channel)
    issued: list[dict[str, object]] = []
    issuing_done = asyncio.Event()

    async def issuer(k: int) -> None:
        for i in range(k, total, 25):
            r = TicketRequest(service=rng.choice(SERVICES), channel=channels[i % len(channels)],
                              priority=rng.choices(CLASSES, [1, 10, 5, 5, 79])[0])
            issued.append((await engine.issue("busy", r, Actor(f"kiosk{k}", "kiosk"))).ticket)

    called: list[str] = []

    async def counter(cid: str) -> None:
        who = Actor(f"agent:{cid}", "counter")
        while True:
            try:
                t = await engine.counter_op("busy", cid, "call-next", who)
            except QueueEmpty:
                if issuing_done.is_set():
                    return
                await asyncio.sleep(0.001)
                continue
            called.append(t["id"])
            await engine.counter_op("busy", cid, "complete", who)

    async def issue_all() -> None:
        await asyncio.gather(*(issuer(k) for k in range(25)))
        issuing_done.set()

    await asyncio.wait_for(asyncio.gather(issue_all(), *(counter(c.id) for c in cfg.counters)),
                           timeout=90)
    # A last sweep: anything issued after a counter saw an empty queue.
    for c in cfg.counters:
        while True:
            try:
                t = await engine.counter_op("busy", c.id, "call-next", admin)
            except QueueEmpty:
                break
            called.append(t["id"])
            await engine.counter_op("busy", c.id, "complete", admin)

    assert len(issued) == total
    ids = Tally(called)
    assert len(ids) == total and max(ids.values()) == 1, "every ticket called exactly once"
    assert set(ids) == {t["id"] for t in issued}
    for svc in SERVICES:
        nums = sorted(int(re.sub(r"\D", "", str(t["number"]))) for t in issued
                      if t["service"] == svc)
        assert nums == list(range(1, len(nums) + 1)), f"numbers of {svc} unique and gapless"
    # The stream is the serial order: each call-next took exactly the policy's choice.
    queues = check_replay(cfg, await read_events(redis, "busy"), cfg.policy.aging_factor)
    assert all(len(q) == 0 for q in queues.values())
