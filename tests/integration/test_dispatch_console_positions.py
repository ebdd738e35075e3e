"""The dispatcher console's technician positions over the ``region:`` topic, real hub and
Redis, wall clock: every new fix reaches the console within ~2 s (it used to wait for ~100 m
of movement or a minute), and a region's positions cost one message per 2 s whatever the
number of technicians (coalesced per technician, latest fix wins)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import msgspec

from clients.client import Client
from dispatch.engine import DispatchEngine
from dispatch.gps import Fix
from dispatch.recompute import Recomputer
from realtime.hub.region_topic import POSITION_EVERY_MS
from tests.integration.conftest import Server
from tests.integration.test_dispatch_hub import _wall, city, dserver, ws_url  # noqa: F401
from tests.integration.test_dispatch_support import ADMIN, add_techs, tech_spec


@dataclass
class Seen:
    """What the console got: position messages, their bytes, each technician's last fix."""

    messages: int = 0
    position_messages: int = 0
    bytes: int = 0
    last_fix: dict[str, int] = field(default_factory=dict)
    lags_ms: list[int] = field(default_factory=list)  # received − the fix's time


async def _follow(console: Client, seen: Seen) -> None:
    while True:
        msg = await console.next()
        if msg.get("op") != "event":
            continue
        seen.messages += 1
        seen.bytes += len(msgspec.json.encode(msg))
        rows = [r for r in msg["data"].get("techs") or () if r.get("position")]
        if msg["type"] == "techs":
            seen.position_messages += 1
        now = _wall()
        for r in rows:
            seen.last_fix[r["id"]] = r["position"]["t"]
            seen.lags_ms.append(now - r["position"]["t"])


async def drive(server: Server, eng: DispatchEngine, n_techs: int, every_s: float,
                seconds: float) -> tuple[Seen, dict[str, int], float]:
    """``n_techs`` devices sending a fix every ``every_s`` for ``seconds`` (half of them
    standing at a job, half driving ~10 m per fix) while a console follows the region.
    Returns what the console saw, each technician's last fix sent, and the end (ms).
    (docs/dispatch.md's measurement: 200 technicians, a fix every 3 s, 40 s.)"""
    techs = {f"city.g{i:03d}": tech_spec(52.30 + 0.001 * i, 4.85) for i in range(n_techs)}
    await add_techs(eng, _wall(), techs)
    token = server.token("dispatcher", region="city")
    seen = Seen()
    sent: dict[str, int] = {}
    async with Client(ws_url(server), token) as console:
        await console.subscribe("region:city")
        assert (await console.next(5))["op"] == "snapshot"
        follow = asyncio.create_task(_follow(console, seen))
        end = time.monotonic() + seconds
        k = 0
        while time.monotonic() < end:
            k += 1
            for i, tid in enumerate(techs):
                t = _wall()
                lat = 52.30 + 0.001 * i + (0.0001 * k if i % 2 else 0.0)
                await eng.gps(tid, Fix(t, lat, 4.85), ADMIN)
                sent[tid] = t
            await asyncio.sleep(every_s)
        stop = _wall()
        await asyncio.sleep(POSITION_EVERY_MS / 1000 + 0.5)  # the trailing release
        follow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follow
    return seen, sent, stop


async def test_every_fix_reaches_the_console_within_two_seconds_in_few_messages(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:  # noqa: F811
    eng, _ = city
    seconds, every_s = 6.0, 0.5
    seen, sent, _stop = await drive(dserver, eng, 20, every_s, seconds)
    # The last fix of every technician, standing or driving, is on the console (the
    # trailing release: nothing came after it).
    assert {tid: seen.last_fix.get(tid) for tid in sent} == sent
    # No fix waited much longer than the pacing (the loop's own scheduling aside).
    assert max(seen.lags_ms) <= POSITION_EVERY_MS + 1000, max(seen.lags_ms)
    # 20 technicians × 12 fixes = 240 fixes in ~ seconds / 2 s messages (not 240).
    assert seen.position_messages <= seconds * 1000 / POSITION_EVERY_MS + 2, seen

