"""A technician-device simulator: drives technicians along their routes, for demos and load
tests.

    SWITCHBOARD_TOKEN=DISPATCHER_OR_ADMIN python -m clients.device_sim \
        --base http://127.0.0.1:8000 --region demo [--techs demo.t1,demo.t2] \
        [--speed-kmh 40] [--time-scale 1] [--accept 0.9] [--gps-every-s 1] \
        [--offline-every-s 0] [--minutes 10]

The dispatcher's (or an admin's) token comes from ``--token-file PATH`` (its first line;
``-`` reads standard input) or ``--token TOKEN``, else the ``SWITCHBOARD_TOKEN`` environment
variable. ``--token`` is seen by every user of the machine in ``ps`` for as long as the run
lasts: prefer the file or the variable.
令牌可用 --token-file 或环境变量 SWITCHBOARD_TOKEN 传入（--token 会在 ps 中被他人看到）。

Each simulated device gets its technician's token (``POST /v1/technicians/{id}/token``),
speaks the msgpack subprotocol like a wristband, goes online (if the server has it offline),
follows ``tech:{id}``, answers each ``offer`` (accepting with probability ``--accept`` after a
short think), drives to its first accepted job in a straight line at ``--speed-kmh`` sending
a GPS fix every ``--gps-every-s`` (the server's geofence marks the arrival), works for the
job's duration and completes it. ``--time-scale`` runs work and thinking faster than real
time (driving speed stays what you set: the server refuses fixes implying more than
200 km/h).

A job with a time window is not driven to at once: the technician waits where it is and
departs when, at ``--speed-kmh`` in a straight line, it arrives at the window's opening (the
window is the server's wall-clock time, so this wait is not shortened by ``--time-scale``).

Action ids are ``<run>-<n>``: ``<run>`` is random per run (8 hex digits), so a second run
never reuses an id the server still remembers (2 days). With ``--offline-every-s N`` a device
drops its connection every N seconds for a while; what it does meanwhile (fixes, actions) is
buffered and sent on reconnect, each action again with its own id, so nothing is lost and
nothing is applied twice. An action the server refuses (``error``) is counted and logged with
its code, and the technician does not pretend it happened: it follows the server's view of its
route (a refused ``complete`` is not counted as done, a job the server no longer gives it is
not driven to); a job whose actions keep being refused is given up.

At the end (``--minutes`` or Ctrl-C / SIGTERM) each device sends what it still has buffered,
then goes ``offline`` (best effort, a few seconds at most; the server refuses it while a job
is under way, which is logged), and a summary is printed. The exit status is 0 after such an
orderly end, 130 if a second Ctrl-C cut the ending short.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
import os
import random
import secrets
import signal
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clients.client import Client, Refused

log = logging.getLogger("switchboard.device_sim")

# A job whose actions were refused this many times is given up (the server's view wins).
MAX_REFUSALS_PER_JOB = 3
# On the way out: how long to wait for buffered messages and the ``offline`` action.
FLUSH_S = 5.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_run_id() -> str:
    """A short random prefix for this run's action ids (``[0-9a-f]{8}``)."""
    return secrets.token_hex(4)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (b[0] - a[0]) * 111_320
    dx = (b[1] - a[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def step_towards(a: tuple[float, float], b: tuple[float, float], metres: float
                 ) -> tuple[tuple[float, float], bool]:
    """Move from ``a`` towards ``b`` by ``metres`` (flat-earth, fine at city scale)."""
    dist = distance_m(a, b)
    if dist <= metres or dist == 0:
        return b, True
    f = metres / dist
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f), False


@dataclass
class Stats:
    fixes: int = 0
    actions: int = 0
    offers: int = 0
    accepted: int = 0  # accepts the server applied
    rejected: int = 0  # GPS fixes the server refused
    refused: int = 0  # actions the server refused
    refusals: Counter[str] = field(default_factory=Counter)  # refused actions by error code
    completed: int = 0  # completes the server applied
    reconnects: int = 0
    went_offline: bool = False  # the server applied this run's final ``offline``
    offer_bytes: list[int] = field(default_factory=list)
    # The server shut this device out (its token expired or was revoked: the technician
    # removed, say): why, as the protocol said it. The device stopped there.
    shut_out: str = ""


class _JobLost(Exception):
    """The job being driven is no longer this technician's (server's view) or was refused."""


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
    go_online: bool = True  # send ``online`` at the start (not if the server has it online)
    run_id: str = field(default_factory=new_run_id)  # action ids are ``<run_id>-<n>``
    stats: Stats = field(default_factory=Stats)
    pos: tuple[float, float] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    outbox: deque[dict[str, Any]] = field(default_factory=deque)
    # Message ids start high: the client's own subscribe ids count from 1.
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000))
    _aids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sent: dict[int, dict[str, Any]] = field(default_factory=dict)  # sent, not yet answered
    offline: bool = False
    _answers: set[asyncio.Task[None]] = field(default_factory=set)
    done: set[str] = field(default_factory=set)  # jobs completed here (the server may lag)
    refused_jobs: Counter[str] = field(default_factory=Counter)  # refusals per job
    given_up: set[str] = field(default_factory=set)  # jobs refused too often: not driven
    seen_offers: set[str] = field(default_factory=set)
    _offline_aid: str = ""

    async def run(self, seconds: float, stop: asyncio.Event | None = None) -> Stats:
        rng = random.Random(self.seed)
        stop = stop or asyncio.Event()
        client = Client(self.url, self.token, encoding="msgpack")
        await client.start()
        await client.subscribe(f"tech:{self.tech}")
        if self.go_online:
            self.act("online")
        end = time.monotonic() + seconds
        tasks = [asyncio.create_task(self._receive(client, rng)),
                 asyncio.create_task(self._send(client))]
        flap = asyncio.create_task(self._flap()) if self.offline_every_s else None
        drive = asyncio.create_task(self._drive(end))
        halt = asyncio.create_task(stop.wait())
        receive = tasks[0]
        try:
            await asyncio.wait({drive, halt, receive}, return_when=asyncio.FIRST_COMPLETED)
            for t in (drive, halt, flap, *self._answers):
                if t is not None:
                    t.cancel()
            await asyncio.gather(drive, halt, *(t for t in [flap] if t),
                                 *self._answers, return_exceptions=True)
            refused = (receive.exception() if receive.done() and not receive.cancelled()
                       else None)
            if isinstance(refused, Refused):  # no reconnect helps: stop, say why
                self.stats.shut_out = " ".join(
                    x for x in (refused.code, refused.reason) if x)
                log.warning("%s: shut out by the server (%s): stopped", self.tech,
                            self.stats.shut_out)
                return self.stats
            failed = drive.exception() if drive.done() and not drive.cancelled() else None
            if failed is not None:
                raise failed
            await self._sign_off()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.close()
        return self.stats

    async def _sign_off(self) -> None:
        """Send what is buffered, then ``offline``; wait for the answers, FLUSH_S at most."""
        self._resend_unanswered()
        self.offline = False
        self._offline_aid = self.act("offline")
        for _ in range(int(FLUSH_S / 0.05)):
            if not (self.outbox or self._sent):
                break
            await asyncio.sleep(0.05)
        if self.outbox or self._sent:
            log.warning("%s: %d messages unsent, %d unanswered at the end", self.tech,
                        len(self.outbox), len(self._sent))

    # -- outgoing: everything goes through the outbox (kept while offline) ------------------

    def act(self, kind: str, job: str = "", reason: str = "") -> str:
        """Queue an action with a new id (a retry of the same action re-sends the message,
        id and all); returns its action id."""
        aid = f"{self.run_id}-{next(self._aids)}"
        self.outbox.append({"op": "act", "aid": aid, "k": kind, "t": now_ms(), "j": job,
                            "r": reason, "id": next(self._ids)})
        self.stats.actions += 1
        return aid

    def fix(self) -> None:
        if self.pos is None:
            return
        self.outbox.append({"op": "gps", "t": now_ms(), "la": round(self.pos[0], 6),
                            "lo": round(self.pos[1], 6), "id": next(self._ids)})
        self.stats.fixes += 1

    def _resend_unanswered(self) -> None:
        """Whatever was sent but not answered goes out again (same ids: applied once)."""
        for _, msg in sorted(self._sent.items(), reverse=True):
            self.outbox.appendleft(msg)
        self._sent.clear()

    async def _send(self, client: Client) -> None:
        connects = client.stats.connects
        while True:
            if client.stats.connects != connects and client.connected.is_set():
                connects = client.stats.connects  # a real reconnect: answers may be lost
                self._resend_unanswered()
            if self.offline or not client.connected.is_set() or not self.outbox:
                await asyncio.sleep(0.05)
                continue
            msg = self.outbox[0]
            try:
                await client.send(msg)
            except Exception:  # lost mid-send: keep it queued
                await asyncio.sleep(0.1)
                continue
            self.outbox.popleft()
            self._sent[msg["id"]] = msg

    def _answered(self, reply: dict[str, Any]) -> None:
        msg_id = reply.get("id")
        msg = self._sent.pop(msg_id, None) if msg_id is not None else None
        if msg is None:
            return
        ok = reply.get("op") == "pong"
        if msg["op"] == "gps":
            if not ok:
                self.stats.rejected += 1
            return
        kind, job = msg["k"], msg.get("j") or ""
        if ok:
            if kind == "accept":
                self.stats.accepted += 1
            elif kind == "complete":
                self.stats.completed += 1
            elif kind == "offline" and msg["aid"] == self._offline_aid:
                self.stats.went_offline = True
            return
        code = str(reply.get("code") or "error")
        self.stats.refused += 1
        self.stats.refusals[code] += 1
        log.warning("%s: %s %s (action %s) refused: %s %s", self.tech, kind, job or "-",
                    msg["aid"], code, reply.get("message") or "")
        if job and kind in ("depart", "arrive", "complete", "fail"):
            # It did not happen: the job is not done here; the server's view decides.
            self.done.discard(job)
            self.refused_jobs[job] += 1
            if self.refused_jobs[job] >= MAX_REFUSALS_PER_JOB and job not in self.given_up:
                self.given_up.add(job)
                log.warning("%s: giving up job %s after %d refused actions", self.tech, job,
                            self.refused_jobs[job])

    async def _flap(self) -> None:
        """Go offline now and then: unanswered messages are sent again on reconnect."""
        while True:
            await asyncio.sleep(self.offline_every_s)
            self.offline = True
            await asyncio.sleep(min(10.0, self.offline_every_s / 2))
            self._resend_unanswered()
            self.offline = False
            self.stats.reconnects += 1

    # -- incoming ---------------------------------------------------------------------------

    async def _receive(self, client: Client, rng: random.Random) -> None:
        async for msg in client:
            op = msg.get("op")
            if op in ("pong", "error"):
                self._answered(msg)
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
            self.act("accept", offer["j"])
        else:
            self.act("decline", offer["j"], "busy")

    # -- the technician's day ---------------------------------------------------------------

    def _route_stop(self, job: str) -> dict[str, Any] | None:
        """The server's current view of ``job`` on this technician's route."""
        for stop in self.state.get("route") or []:
            if stop.get("job") == job:
                return dict(stop)
        return None

    def _next_job(self) -> dict[str, Any] | None:
        if self.state.get("active_job") in self.given_up:
            return None  # the server holds us on a job we gave up: stay put
        route: list[dict[str, Any]] = self.state.get("route") or []
        for stop in route:
            if (stop.get("job") and stop["job"] not in self.done
                    and stop["job"] not in self.given_up
                    and stop.get("status") in ("assigned", "en_route", "on_site")):
                return dict(stop)
        return None

    def _leave_at_ms(self, stop: dict[str, Any]) -> int:
        """When to depart so as to arrive at the window's opening (0: now)."""
        window = stop.get("window")
        if not window or self.pos is None:
            return 0
        travel_ms = distance_m(self.pos, (stop["lat"], stop["lon"])) / (self.speed_kmh / 3.6)
        return int(window[0] - travel_ms * 1000)

    def _check(self, job: str, refusals: int) -> None:
        """Raise _JobLost if the server no longer gives us ``job`` or refused an action."""
        if self.refused_jobs[job] != refusals or job in self.given_up:
            raise _JobLost(job)
        stop = self._route_stop(job)
        if stop is None or stop.get("status") not in ("assigned", "en_route", "on_site"):
            raise _JobLost(job)

    async def _tick(self, job: str, refusals: int) -> None:
        await asyncio.sleep(self.gps_every_s)
        self._check(job, refusals)

    async def _drive(self, end: float) -> None:
        mps = self.speed_kmh / 3.6
        while time.monotonic() < end:
            stop = self._next_job()
            if stop is None or self.pos is None:
                await asyncio.sleep(self.gps_every_s)
                self.fix()
                continue
            job = stop["job"]
            if stop["status"] == "assigned" and now_ms() < self._leave_at_ms(stop):
                # A window opens later: wait here (the route is looked at again each tick).
                await asyncio.sleep(self.gps_every_s)
                self.fix()
                continue
            refusals = self.refused_jobs[job]
            try:
                await self._do_job(stop, refusals, mps, end)
            except _JobLost:
                log.info("%s: job %s: following the server's view (%s)", self.tech, job,
                         (self._route_stop(job) or {}).get("status", "not on the route"))
                self.fix()

    async def _do_job(self, stop: dict[str, Any], refusals: int, mps: float,
                      end: float) -> None:
        job = stop["job"]
        target = (stop["lat"], stop["lon"])
        if stop["status"] == "assigned":
            self.act("depart", job)
        arrived = False
        while not arrived and time.monotonic() < end:
            await self._tick(job, refusals)
            assert self.pos is not None
            self.pos, arrived = step_towards(self.pos, target, mps * self.gps_every_s)
            self.fix()
        if not arrived:
            return
        # Stay put while the geofence's dwell runs, then work.
        for _ in range(max(1, int(self.dwell_s / self.gps_every_s))):
            await self._tick(job, refusals)
            self.fix()
        work_end = time.monotonic() + float(stop.get("duration_s") or 600) / self.time_scale
        while time.monotonic() < min(work_end, end):
            await asyncio.sleep(min(self.gps_every_s, max(0.0, work_end - time.monotonic())))
            self._check(job, refusals)
        if time.monotonic() < work_end:
            return  # the run ended mid-job
        self.act("complete", job)
        self.done.add(job)  # until the server says otherwise (a refusal takes it back)


async def fleet(base: str, token: str, region: str, techs: list[str] | None, seconds: float,
                stop: asyncio.Event | None = None, devices: list[Device] | None = None,
                **kw: Any) -> dict[str, Stats]:
    """Simulate the devices of ``techs`` (default: every technician of the region) for
    ``seconds`` or until ``stop`` is set; each device then goes offline. The devices are
    appended to ``devices`` as they are made (their stats are readable if this is cut
    short)."""
    headers = {"Authorization": f"Bearer {token}"}
    run_id = new_run_id()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        if not techs:
            plan = (await http.get(f"/v1/regions/{region}/plan")).json()
            techs = sorted(plan["routes"])
        tokens, start, online = {}, {}, {}
        for t in techs:
            r = await http.post(f"/v1/technicians/{t}/token")
            r.raise_for_status()
            tokens[t] = r.json()["token"]
            info = (await http.get(f"/v1/technicians/{t}")).json()
            where = info.get("position") or info["home"]
            start[t] = (where["lat"], where["lon"])
            online[t] = info.get("status", "offline") == "offline"
    url = base.replace("http", "ws", 1) + "/ws"
    made = [Device(t, tokens[t], url, seed=i, pos=start[t], go_online=online[t],
                   run_id=run_id, **kw) for i, t in enumerate(techs)]
    if devices is not None:
        devices.extend(made)
    results = await asyncio.gather(*(d.run(seconds, stop) for d in made))
    return dict(zip(techs, results, strict=True))


def summary(tech: str, s: Stats) -> str:
    refused = ", ".join(f"{c} {n}" for c, n in sorted(s.refusals.items()))
    return (f"{tech}: {s.offers} offers, {s.accepted} accepted, {s.completed} completed, "
            f"{s.fixes} fixes ({s.rejected} rejected), {s.actions} actions "
            f"({s.refused} refused{': ' + refused if refused else ''}), "
            f"{s.reconnects} offline spells, "
            + (f"SHUT OUT by the server ({s.shut_out})" if s.shut_out else
               f"{'offline' if s.went_offline else 'NOT offline'} at the end"))


async def _main(args: argparse.Namespace, devices: list[Device]) -> dict[str, Stats]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info("%s: ending (technicians go offline); again to abort", sig.name)
        stop.set()
        for s in (signal.SIGINT, signal.SIGTERM):  # a second signal aborts
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(s)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, on_signal, sig)
    return await fleet(args.base, args.token, args.region,
                       args.techs.split(",") if args.techs else None, args.minutes * 60,
                       stop=stop, devices=devices, speed_kmh=args.speed_kmh,
                       time_scale=args.time_scale, accept=args.accept,
                       gps_every_s=args.gps_every_s, offline_every_s=args.offline_every_s)


TOKEN_ENV = "SWITCHBOARD_TOKEN"


def token_from(path: str | None, flag: str | None, env: str | None) -> str:
    """The token: ``--token-file`` (its first line; ``-`` is standard input) or ``--token``,
    else the environment's. A token on the command line is in ``ps`` for the whole run, for
    every user of the machine: a dispatcher's token reaches the whole region."""
    if path:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        token = (text.strip().splitlines() or [""])[0].strip()
        if not token:
            raise ValueError(f"--token-file {path}: no token in it")
        return token
    token = (flag or "").strip() or (env or "").strip()
    if not token:
        raise ValueError(f"a token is needed: --token-file PATH, {TOKEN_ENV} or --token")
    return token


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m clients.device_sim", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    given = ap.add_mutually_exclusive_group()
    given.add_argument("--token-file", metavar="PATH",
                       help="file holding the admin's or the region's dispatcher's token "
                            "('-': standard input); without it or --token, SWITCHBOARD_TOKEN")
    given.add_argument("--token", help="the token itself; visible to every user in ps: "
                                       "prefer --token-file or SWITCHBOARD_TOKEN")
    ap.add_argument("--region", required=True)
    ap.add_argument("--techs", help="comma-separated technician ids (default: all)")
    ap.add_argument("--speed-kmh", type=float, default=40.0)
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--accept", type=float, default=0.9)
    ap.add_argument("--gps-every-s", type=float, default=1.0)
    ap.add_argument("--offline-every-s", type=float, default=0.0)
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args(argv)
    try:
        args.token = token_from(args.token_file, args.token, os.environ.get(TOKEN_ENV))
    except (OSError, ValueError) as exc:
        ap.error(str(exc))
    logging.basicConfig(level=logging.INFO)
    devices: list[Device] = []
    code = 0
    try:
        stats = asyncio.run(_main(args, devices))
    except KeyboardInterrupt:  # a second Ctrl-C (or one before the loop ran): cut short
        print("interrupted: the ending was cut short (technicians may still be online)")
        stats = {d.tech: d.stats for d in devices}
        code = 130
    for tech, s in stats.items():
        print(summary(tech, s))
    if code == 0 and any(s.shut_out for s in stats.values()):
        code = 3  # a device's token refused: the run did not do what it was asked
    return code


if __name__ == "__main__":
    raise SystemExit(main())
