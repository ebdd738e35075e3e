"""A technician-device simulator: drives technicians along their routes, for demos and load
tests.

    python -m clients.device_sim --base http://127.0.0.1:8000 --token DISPATCHER_OR_ADMIN \
        --region demo [--techs demo.t1,demo.t2] [--speed-kmh 40] [--time-scale 1] \
        [--accept 0.9] [--gps-every-s 1] [--offline-every-s 0] [--minutes 10]

Each simulated device gets its technician's token (``POST /v1/technicians/{id}/token``),
speaks the msgpack subprotocol like a wristband, goes online, follows ``tech:{id}``, answers
each ``offer`` (accepting with probability ``--accept`` after a short think), drives to its
first accepted job in a straight line at ``--speed-kmh`` sending a GPS fix every
``--gps-every-s`` (the server's geofence marks the arrival), works for the job's duration
and completes it. ``--time-scale`` runs work and waiting faster than real time (driving
speed stays what you set: the server refuses fixes implying more than 200 km/h).

With ``--offline-every-s N`` a device drops its connection every N seconds for a while; what
it does meanwhile (fixes, actions) is buffered and sent on reconnect, each action with its
own id so nothing is lost and nothing is applied twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from clients.client import Client

log = logging.getLogger("switchboard.device_sim")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def step_towards(a: tuple[float, float], b: tuple[float, float], metres: float
                 ) -> tuple[tuple[float, float], bool]:
    """Move from ``a`` towards ``b`` by ``metres`` (flat-earth, fine at city scale)."""
    dy = (b[0] - a[0]) * 111_320
    dx = (b[1] - a[1]) * 111_320 * math.cos(math.radians(a[0]))
    dist = math.hypot(dx, dy)
    if dist <= metres or dist == 0:
        return b, True
    f = metres / dist
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f), False


@dataclass
class Stats:
    fixes: int = 0
    actions: int = 0
    offers: int = 0
    accepted: int = 0
    rejected: int = 0
    completed: int = 0
    reconnects: int = 0
    offer_bytes: list[int] = field(default_factory=list)


@dataclass
class Device:
    tech: str
    token: str
    url: str
    speed_kmh: float = 40.0
    time_scale: float = 1.0
    accept: float = 0.9
    gps_every_s: float = 1.0
    offline_every_s: float = 0.0
    dwell_s: float = 40.0  # stay at a job this long before working (the geofence's dwell)
    seed: int = 0
    stats: Stats = field(default_factory=Stats)
    pos: tuple[float, float] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    outbox: deque[dict[str, Any]] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _aids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    offline: bool = False
    _answers: set[asyncio.Task[None]] = field(default_factory=set)
    done: set[str] = field(default_factory=set)  # jobs finished here (the server may lag)
    seen_offers: set[str] = field(default_factory=set)

    async def run(self, seconds: float) -> Stats:
        rng = random.Random(self.seed)
        client = Client(self.url, self.token, encoding="msgpack")
        await client.start()
        await client.subscribe(f"tech:{self.tech}")
        self.act("online")
        end = time.monotonic() + seconds
        tasks = [asyncio.create_task(self._receive(client, rng)),
                 asyncio.create_task(self._send(client))]
        if self.offline_every_s:
            tasks.append(asyncio.create_task(self._flap(client)))
        try:
            await self._drive(end)
        finally:
            for t in tasks:
                t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            await client.close()
        return self.stats

    # -- outgoing: everything goes through the outbox (kept while offline) ------------------

    def act(self, kind: str, job: str = "", reason: str = "") -> None:
        self.outbox.append({"op": "act", "aid": f"{self.tech}-{next(self._aids)}",
                            "k": kind, "t": now_ms(), "j": job, "r": reason,
                            "id": next(self._ids)})
        self.stats.actions += 1

    def fix(self) -> None:
        if self.pos is None:
            return
        self.outbox.append({"op": "gps", "t": now_ms(), "la": round(self.pos[0], 6),
                            "lo": round(self.pos[1], 6), "id": next(self._ids)})
        self.stats.fixes += 1

    async def _send(self, client: Client) -> None:
        sent: dict[int, dict[str, Any]] = {}
        self._sent = sent
        while True:
            if self.offline or not client.connected.is_set() or not self.outbox:
                await asyncio.sleep(0.05)
                continue
            msg = self.outbox[0]
            try:
                await client.send(msg)
            except (ConnectionError, OSError, Exception):  # lost mid-send: keep it queued
                await asyncio.sleep(0.1)
                continue
            self.outbox.popleft()
            sent[msg["id"]] = msg

    def _acked(self, msg_id: int | None, ok: bool) -> None:
        sent = getattr(self, "_sent", {})
        msg = sent.pop(msg_id, None) if msg_id is not None else None
        if msg is not None and not ok and msg["op"] == "gps":
            self.stats.rejected += 1

    async def _flap(self, client: Client) -> None:
        """Go offline now and then: unacknowledged messages are sent again on reconnect."""
        while True:
            await asyncio.sleep(self.offline_every_s)
            self.offline = True
            await asyncio.sleep(min(10.0, self.offline_every_s / 2))
            # Whatever was sent but not acknowledged goes out again (same ids: applied once).
            sent = getattr(self, "_sent", {})
            for _, msg in sorted(sent.items()):
                self.outbox.appendleft(msg)
            sent.clear()
            self.offline = False
            self.stats.reconnects += 1

    # -- incoming ---------------------------------------------------------------------------

    async def _receive(self, client: Client, rng: random.Random) -> None:
        async for msg in client:
            op = msg.get("op")
            if op in ("pong", "error"):
                self._acked(msg.get("id"), op == "pong")
                continue
            data = msg.get("data") or {}
            full = op == "snapshot" or msg.get("type") in ("route_changed", "status")
            if full and "route" in data:
                self.state = data
                if self.pos is None and data.get("position"):
                    self.pos = (data["position"]["lat"], data["position"]["lon"])
                # Offers made before this device connected are in the state: answer them too.
                for o in data.get("offers") or []:
                    self._offer({"j": o["job"], "dl": o.get("deadline_ms"), "n": o.get("n")},
                                rng)
            if msg.get("type") == "offer":
                self._offer(data, rng)

    def _offer(self, data: dict[str, Any], rng: random.Random) -> None:
        key = f"{data['j']}#{data.get('n')}"
        if key in self.seen_offers:
            return
        self.seen_offers.add(key)
        self.stats.offers += 1
        answer = asyncio.create_task(self._answer(data, rng))
        self._answers.add(answer)
        answer.add_done_callback(self._answers.discard)

    async def _answer(self, offer: dict[str, Any], rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(1, 5) / self.time_scale)
        if rng.random() < self.accept:
            self.stats.accepted += 1
            self.act("accept", offer["j"])
        else:
            self.act("decline", offer["j"], "busy")

    # -- the technician's day ---------------------------------------------------------------

    def _next_job(self) -> dict[str, Any] | None:
        route: list[dict[str, Any]] = self.state.get("route") or []
        for stop in route:
            if (stop.get("job") and stop["job"] not in self.done
                    and stop.get("status") in ("assigned", "en_route", "on_site")):
                return stop
        return None

    async def _drive(self, end: float) -> None:
        mps = self.speed_kmh / 3.6
        while time.monotonic() < end:
            stop = self._next_job()
            if stop is None or self.pos is None:
                await asyncio.sleep(self.gps_every_s)
                self.fix()
                continue
            target = (stop["lat"], stop["lon"])
            if stop["status"] == "assigned":
                self.act("depart", stop["job"])
                stop["status"] = "en_route"
            arrived = False
            while not arrived and time.monotonic() < end:
                await asyncio.sleep(self.gps_every_s)
                self.pos, arrived = step_towards(self.pos, target, mps * self.gps_every_s)
                self.fix()
            # Stay put while the geofence's dwell runs, then work.
            for _ in range(max(1, int(self.dwell_s / self.gps_every_s))):
                await asyncio.sleep(self.gps_every_s)
                self.fix()
            await asyncio.sleep(float(stop.get("duration_s") or 600) / self.time_scale)
            self.act("complete", stop["job"])
            self.stats.completed += 1
            self.done.add(stop["job"])


async def fleet(base: str, token: str, region: str, techs: list[str] | None, seconds: float,
                **kw: Any) -> dict[str, Stats]:
    """Simulate the devices of ``techs`` (default: every technician of the region)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        if not techs:
            plan = (await http.get(f"/v1/regions/{region}/plan")).json()
            techs = sorted(plan["routes"])
        tokens, start = {}, {}
        for t in techs:
            r = await http.post(f"/v1/technicians/{t}/token")
            r.raise_for_status()
            tokens[t] = r.json()["token"]
            info = (await http.get(f"/v1/technicians/{t}")).json()
            where = info.get("position") or info["home"]
            start[t] = (where["lat"], where["lon"])
    url = base.replace("http", "ws", 1) + "/ws"
    devices = [Device(t, tokens[t], url, seed=i, pos=start[t], **kw)
               for i, t in enumerate(techs)]
    results = await asyncio.gather(*(d.run(seconds) for d in devices))
    return dict(zip(techs, results, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m clients.device_sim", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--token", required=True, help="admin or the region's dispatcher token")
    ap.add_argument("--region", required=True)
    ap.add_argument("--techs", help="comma-separated technician ids (default: all)")
    ap.add_argument("--speed-kmh", type=float, default=40.0)
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--accept", type=float, default=0.9)
    ap.add_argument("--gps-every-s", type=float, default=1.0)
    ap.add_argument("--offline-every-s", type=float, default=0.0)
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    stats = asyncio.run(fleet(args.base, args.token, args.region,
                              args.techs.split(",") if args.techs else None, args.minutes * 60,
                              speed_kmh=args.speed_kmh, time_scale=args.time_scale,
                              accept=args.accept, gps_every_s=args.gps_every_s,
                              offline_every_s=args.offline_every_s))
    for tech, s in stats.items():
        print(f"{tech}: {s.offers} offers, {s.accepted} accepted, {s.completed} completed, "
              f"{s.fixes} fixes ({s.rejected} rejected), {s.actions} actions, "
              f"{s.reconnects} offline spells")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
