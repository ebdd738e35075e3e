"""The simulated city of ``python -m dispatch.simulate``: scenario, demand, and the physical
world of technicians driving, working and answering offers, in simulated time.

The world knows nothing about how jobs are dispatched: a ``Dispatcher`` (the real engine on
Redis, or the greedy baseline) is told what happens and says which offers go out and what
each technician does next. Both runs see the same jobs and technicians (drawn from the seed)
and the same answer behaviour (drawn per job, technician and attempt), and are measured by
the same KPI code (``dispatch.kpi``) over the world's own log.

World rules (docs/dispatch.md, "Simulator"): technicians drive straight lines at the road
speed divided by the detour factor (so a leg takes exactly the travel model's time); an
offer is accepted with ``accept_prob`` after ``answer_s``, declined with ``decline_prob``,
else left unanswered (it times out); a technician works its accepted jobs in its plan's
order, leaving so as to arrive at the planned time (never before its window opens for the
greedy baseline, which has no plan); service starts no earlier than the window; an idle
technician with nothing accepted drives back to its home base (the empty kilometres); at the
end of its shift it finishes its job, goes offline and drives home (empty kilometres too).
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

import msgspec

from dispatch.geo import GeodesicProvider, SpeedProfile, haversine_m
from dispatch.greedy import GJob, Greedy, GTech
from dispatch.kpi import ALL, Kpis
from dispatch.model import Zone
from dispatch.zones import ZoneIndex

Pair = tuple[float, float]


class TechMix(msgspec.Struct, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 30
    shift: tuple[str, str] = ("08:00", "18:00")
    skills: dict[str, float] = {}  # skill → share of technicians holding it
    zones: str = "home"  # "home": the zones containing the home base; "all": every zone


class BatchSpec(msgspec.Struct, forbid_unknown_fields=True):
    """An enterprise order placed at ``hour``: ``jobs`` jobs within ``radius_m`` of
    ``centre``, in one-hour (``slot_h``) windows spread over ``slots`` (local hours)."""

    org: str
    hour: float
    jobs: int
    centre: Pair
    radius_m: float = 300.0
    slots: tuple[float, float] = (10.0, 16.0)
    slot_h: float = 1.0
    duration_min: tuple[int, int] = (20, 40)
    skills: list[str] = []


class Scenario(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""
    seed: int = 1
    timezone: str = "Europe/Amsterdam"
    date: str = "2026-03-02"
    centre: Pair = (52.37, 4.90)
    radius_km: float = 8.0
    zones: list[Zone] = []
    technicians: TechMix = msgspec.field(default_factory=TechMix)
    jobs_per_hour: Annotated[list[float], msgspec.Meta(min_length=24, max_length=24)] = (
        msgspec.field(default_factory=lambda: [0.0] * 7 + [6.0] * 10 + [0.0] * 7))
    # required skill ("" none) → share of jobs
    skills_mix: dict[str, float] = msgspec.field(default_factory=lambda: {"": 1.0})
    duration_min: tuple[int, int] = (30, 90)
    window_share: float = 0.6
    window_lead_h: tuple[float, float] = (1.0, 4.0)
    window_h: float = 2.0
    urgent_share: float = 0.1
    batches: list[BatchSpec] = []
    accept_prob: float = 0.85
    decline_prob: float = 0.1
    answer_s: tuple[int, int] = (5, 45)
    offer_timeout_s: int = 60
    gps_every_s: int = 60
    speed_kmh: float = 30.0
    detour: float = 1.3
    return_home: bool = True
    greedy_release_h: float = 1.0  # the baseline dispatches a job this long before its window
    policy: dict[str, Any] = {}  # DispatchPolicy overrides for the engine run


def load(path: str) -> Scenario:
    with open(path, "rb") as f:
        return msgspec.json.decode(f.read(), type=Scenario)


@dataclass
class SimTech:
    id: str
    home: Pair
    skills: frozenset[str]
    zones: frozenset[str]
    shift: tuple[int, int]  # epoch ms
    pos: Pair = (0.0, 0.0)
    status: str = "offline"  # offline, idle, driving, on_site, returning
    job: str | None = None
    seg: tuple[Pair, Pair, int, int] | None = None  # from, to, t0, t1
    going_off: bool = False
    wake_at: int = 0


@dataclass
class SimJob:
    id: str
    created_ms: int
    lat: float
    lon: float
    skills: frozenset[str]
    duration_s: int
    window: tuple[int, int] | None
    priority: int
    org: str = ""
    zones: frozenset[str] = frozenset()
    status: str = "new"
    tech: str | None = None


@dataclass(frozen=True)
class Offer:
    job: str
    tech: str
    n: int
    deadline_ms: int


class Dispatcher(Protocol):
    name: str

    async def start(self, world: World) -> None: ...

    async def job_created(self, job: SimJob, now: int) -> None: ...

    async def answer(self, offer: Offer, accept: bool, now: int) -> bool: ...

    async def expire(self, offer: Offer, now: int) -> None: ...

    async def tech_event(self, tech: SimTech, kind: str, job: str | None, now: int) -> None: ...

    async def gps(self, tech: SimTech, now: int) -> None: ...

    async def settle(self, now: int) -> list[Offer]: ...

    def touched(self) -> set[str]:
        """Technicians whose plan changed since the last call (their next step is re-read)."""
        ...

    async def next_job(self, tech: SimTech, now: int) -> tuple[str, int] | None:
        """The accepted job the technician should head for, and when to leave (ms)."""
        ...


def _u32(*parts: Any) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _disc(rng: random.Random, centre: Pair, radius_m: float) -> Pair:
    r = radius_m * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    lat = centre[0] + r * math.sin(a) / 111_320
    lon = centre[1] + r * math.cos(a) / (111_320 * math.cos(math.radians(centre[0])))
    return lat, lon


def day_start_ms(sc: Scenario) -> int:
    tz = ZoneInfo(sc.timezone)
    return int(datetime.fromisoformat(sc.date).replace(tzinfo=tz).timestamp() * 1000)


def _hm(day0: int, hhmm: str) -> int:
    h, m = (int(x) for x in hhmm.split(":"))
    return day0 + (h * 60 + m) * 60_000


def generate(sc: Scenario, seed: int) -> tuple[list[SimTech], list[SimJob]]:
    """Technicians and the day's jobs, reproducible from the seed."""
    rng = random.Random(seed)
    day0 = day_start_ms(sc)
    zones = ZoneIndex.build(sc.zones)
    techs = []
    for i in range(sc.technicians.count):
        home = _disc(rng, sc.centre, sc.radius_km * 1000)
        skills = frozenset(s for s, p in sorted(sc.technicians.skills.items())
                           if rng.random() < p)
        tz = frozenset() if sc.technicians.zones == "all" or zones.empty else \
            zones.containing(*home)
        shift = (_hm(day0, sc.technicians.shift[0]), _hm(day0, sc.technicians.shift[1]))
        techs.append(SimTech(f"t{i}", home, skills, tz, shift, pos=home))
    jobs: list[SimJob] = []
    mix = sorted(sc.skills_mix.items())
    for h, rate in enumerate(sc.jobs_per_hour):
        n = _poisson(rng, rate)
        for _ in range(n):
            created = day0 + h * 3_600_000 + int(rng.random() * 3_600_000)
            lat, lon = _disc(rng, sc.centre, sc.radius_km * 1000)
            skill = _pick(rng, mix)
            window = None
            if rng.random() < sc.window_share:
                lead = rng.uniform(*sc.window_lead_h) * 3_600_000
                start = (created + int(lead)) // 1_800_000 * 1_800_000
                window = (start, start + int(sc.window_h * 3_600_000))
            urgent = rng.random() < sc.urgent_share
            jobs.append(SimJob(f"j{len(jobs)}", created, lat, lon,
                               frozenset([skill]) if skill else frozenset(),
                               rng.randint(*sc.duration_min) * 60, None if urgent else window,
                               90 if urgent else rng.randint(0, 50)))
    for b in sc.batches:
        at = day0 + int(b.hour * 3_600_000)
        n_slots = max(1, int((b.slots[1] - b.slots[0]) / b.slot_h))
        for k in range(b.jobs):
            lat, lon = _disc(rng, b.centre, b.radius_m)
            s0 = day0 + int((b.slots[0] + (k % n_slots) * b.slot_h) * 3_600_000)
            jobs.append(SimJob(f"j{len(jobs)}", at, lat, lon, frozenset(b.skills),
                               rng.randint(*b.duration_min) * 60,
                               (s0, s0 + int(b.slot_h * 3_600_000)), 20, org=b.org))
    for j in jobs:
        j.zones = frozenset() if zones.empty else zones.containing(j.lat, j.lon)
    jobs.sort(key=lambda j: (j.created_ms, j.id))
    return techs, jobs


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def _pick(rng: random.Random, mix: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in mix)
    x = rng.random() * total
    for s, w in mix:
        x -= w
        if x <= 0:
            return s
    return mix[-1][0]


@dataclass(order=True)
class _Ev:
    at: int
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


class World:
    """The event loop of one simulated day with one dispatcher."""

    def __init__(self, sc: Scenario, seed: int, dispatcher: Dispatcher,
                 on_event: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.sc = sc
        self.seed = seed
        self.d = dispatcher
        self.techs_list, self.jobs_list = generate(sc, seed)
        self.techs = {t.id: t for t in self.techs_list}
        self.jobs = {j.id: j for j in self.jobs_list}
        self.travel = GeodesicProvider(SpeedProfile(sc.speed_kmh, sc.detour))
        self.kpi = Kpis(tz=sc.timezone)
        self.heap: list[_Ev] = []
        self.seq = 0
        self.now = day_start_ms(sc)
        self.end = self.now + 24 * 3_600_000
        self.offers_made = 0
        self.offers_by_tech: dict[str, int] = {t.id: 0 for t in self.techs_list}
        # Offers in the first hour of the earliest shift: where a start-of-day burst shows.
        self.first_hour_end = min((t.shift[0] for t in self.techs_list), default=0) + 3_600_000
        self.first_hour: dict[str, int] = {t.id: 0 for t in self.techs_list}
        self.on_event = on_event

    # -- plumbing ---------------------------------------------------------------------------

    def at(self, t: int, kind: str, *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, _Ev(t, self.seq, kind, args))

    def log(self, etype: str, data: dict[str, Any], t: int | None = None) -> None:
        self.kpi.apply(etype, self.now if t is None else t, data)

    def position(self, t: SimTech, now: int) -> Pair:
        if t.seg is None:
            return t.pos
        a, b, t0, t1 = t.seg
        f = 1.0 if t1 <= t0 else min(1.0, max(0.0, (now - t0) / (t1 - t0)))
        return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f

    def leg_ms(self, a: Pair, b: Pair) -> int:
        return self.travel.pair(a, b, 12)[0] * 1000

    def _status(self, t: SimTech, status: str) -> None:
        kpi_status = {"idle": "available", "driving": "en_route", "on_site": "on_site",
                      "returning": "available", "offline": "offline"}[status]
        t.status = status
        self.log("tech_status", {"tech": {"id": t.id, "status": kpi_status}})

    def _gps(self, t: SimTech) -> None:
        t.pos = self.position(t, self.now)
        self.log("gps", {"i": t.id, "t": self.now, "la": t.pos[0], "lo": t.pos[1]})

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        await self.d.start(self)
        for j in self.jobs_list:
            self.at(j.created_ms, "job", j.id)
        for t in self.techs_list:
            self.at(t.shift[0], "on", t.id)
            self.at(t.shift[1], "off", t.id)
        self.at(self.now + 300_000, "tick")
        while self.heap:
            ev = heapq.heappop(self.heap)
            if ev.at > self.end:
                break
            self.now = ev.at
            await getattr(self, "_on_" + ev.kind)(*ev.args)
            if ev.kind != "gps_tick":
                await self._after()
            if self.on_event is not None:
                await self.on_event(self.now)
        return self.report()

    async def _after(self) -> None:
        for offer in await self.d.settle(self.now):
            self.offers_made += 1
            self.offers_by_tech[offer.tech] = self.offers_by_tech.get(offer.tech, 0) + 1
            if self.now < self.first_hour_end:
                self.first_hour[offer.tech] = self.first_hour.get(offer.tech, 0) + 1
            rng = random.Random(_u32(self.seed, offer.job, offer.tech, offer.n))
            u = rng.random()
            delay = rng.randint(*self.sc.answer_s) * 1000
            if u < self.sc.accept_prob:
                self.at(self.now + delay, "answer", offer, True)
            elif u < self.sc.accept_prob + self.sc.decline_prob:
                self.at(self.now + delay, "answer", offer, False)
            self.at(offer.deadline_ms, "expire", offer)
        touched = self.d.touched()
        for t in self.techs_list:
            if t.status in ("idle", "returning") and (t.wake_at <= self.now
                                                       or t.id in touched):
                await self._next(t)

    async def _next(self, t: SimTech) -> None:
        nxt = await self.d.next_job(t, self.now)
        if nxt is None:
            if t.going_off:
                await self._offline(t)
            elif (self.sc.return_home and t.status == "idle"
                  and haversine_m(t.pos, t.home) > 50):
                self._drive(t, t.home, "returning")
            return
        jid, leave = nxt
        if t.going_off and self.now >= t.shift[1] and leave > self.now:
            await self._offline(t)
            return
        if leave > self.now:
            if t.wake_at != leave:
                t.wake_at = leave
                self.at(leave, "wake", t.id)
            return
        job = self.jobs[jid]
        t.job = jid
        await self.d.tech_event(t, "depart", jid, self.now)
        self._drive(t, (job.lat, job.lon), "driving")
        self.log("job_departed", {"job": {"id": jid}, "tech_state": {"id": t.id,
                                                                     "status": "en_route"}})

    def _drive(self, t: SimTech, to: Pair, status: str) -> None:
        t.pos = self.position(t, self.now)
        t1 = self.now + self.leg_ms(t.pos, to)
        t.seg = (t.pos, to, self.now, t1)
        self._status(t, status)
        self.at(t1, "reach", t.id, status, to)
        self.at(self.now + self.sc.gps_every_s * 1000, "gps_tick", t.id, t1)

    async def _on_gps_tick(self, tid: str, until: int) -> None:
        t = self.techs[tid]
        if t.seg is None or t.seg[3] != until or self.now >= until:
            return
        self._gps(t)
        await self.d.gps(t, self.now)
        self.at(self.now + self.sc.gps_every_s * 1000, "gps_tick", tid, until)

    async def _on_reach(self, tid: str, status: str, to: Pair) -> None:
        t = self.techs[tid]
        if t.seg is None or t.seg[1] != to or t.status != status:
            return  # superseded by a newer leg
        t.seg = None
        t.pos = to
        self._gps(t)
        await self.d.gps(t, self.now)
        if status == "returning":
            self._status(t, "idle")
            return
        job = self.jobs[t.job or ""]
        self._status(t, "on_site")
        await self.d.tech_event(t, "arrive", job.id, self.now)
        self.log("job_arrived", {"job": {"id": job.id}, "at": self.now,
                                 "tech_state": {"id": t.id, "status": "on_site"}})
        start = max(self.now, job.window[0]) if job.window else self.now
        self.at(start + job.duration_s * 1000, "done", t.id, job.id)

    async def _on_done(self, tid: str, jid: str) -> None:
        t = self.techs[tid]
        job = self.jobs[jid]
        job.status = "done"
        t.job = None
        await self.d.tech_event(t, "complete", jid, self.now)
        self.log("job_done", {"job": {"id": jid}, "at": self.now})
        self._status(t, "idle")

    async def _on_job(self, jid: str) -> None:
        j = self.jobs[jid]
        self.log("job_created", {"job": {"id": jid, "created_ms": j.created_ms, "org": j.org,
                                         "win_start": j.window[0] if j.window else 0,
                                         "win_end": j.window[1] if j.window else 0}})
        await self.d.job_created(j, self.now)

    async def _on_answer(self, offer: Offer, accept: bool) -> None:
        if await self.d.answer(offer, accept, self.now) and accept:
            self.jobs[offer.job].status = "assigned"
            self.jobs[offer.job].tech = offer.tech
            self.log("offer_accepted", {"job": {"id": offer.job}, "at": self.now})

    async def _on_expire(self, offer: Offer) -> None:
        await self.d.expire(offer, self.now)

    async def _on_on(self, tid: str) -> None:
        t = self.techs[tid]
        self._status(t, "idle")
        self._gps(t)
        await self.d.tech_event(t, "online", None, self.now)

    async def _on_off(self, tid: str) -> None:
        t = self.techs[tid]
        t.going_off = True
        if t.status in ("idle", "returning"):
            await self._offline(t)

    async def _offline(self, t: SimTech) -> None:
        t.pos = self.position(t, self.now)
        t.seg = None
        self._status(t, "offline")
        await self.d.tech_event(t, "offline", None, self.now)
        if self.sc.return_home and haversine_m(t.pos, t.home) > 50:
            # The drive home after the shift is empty driving too. Without it a technician
            # who finished after the shift's end went offline on site and its trip home was
            # never counted, so running late looked like less empty driving (measured on
            # seed 1, docs/dispatch.md).
            home_at = self.now + self.leg_ms(t.pos, t.home)
            t.pos = t.home
            self.log("gps", {"i": t.id, "t": home_at, "la": t.home[0], "lo": t.home[1]})

    async def _on_wake(self, tid: str) -> None:
        t = self.techs[tid]
        if t.status in ("idle", "returning") and t.wake_at == self.now:
            t.wake_at = 0
            await self._next(t)

    async def _on_call(self, fn: Callable[[], Any]) -> None:
        """A dispatcher's own timer (the baseline releasing a job when it is due)."""
        r = fn()
        if hasattr(r, "__await__"):
            await r

    async def _on_tick(self) -> None:
        if self.heap:
            self.at(self.now + 300_000, "tick")

    def report(self) -> dict[str, Any]:
        s = self.kpi.summary(self.now, day=ALL)  # the whole run
        served = sum(1 for j in self.jobs_list if j.status == "done")
        return {"jobs": len(self.jobs_list), "served": served,
                "unserved": len(self.jobs_list) - served, "offers": self.offers_made,
                "dispatch_response_mean_s": s["dispatch_response_mean_s"],
                "dispatch_response_p90_s": s["dispatch_response_p90_s"],
                "on_time_rate": s["on_time_rate"], "lateness_mean_s": s["lateness_mean_s"],
                "empty_driving_share": s["empty_driving_share"],
                "km_driven": s["km_driven"], "utilisation": s["utilisation"],
                "offers_per_tech": spread(self.offers_by_tech.values()),
                "first_hour_offers_per_tech": spread(self.first_hour.values()),
                "offers_alike": alike_spread(self.by_tech()),
                "by_tech": self.by_tech()}

    def by_tech(self) -> dict[str, dict[str, Any]]:
        """Each technician's profile (skills, zones) and day: offers made to it, jobs done."""
        done: dict[str, int] = {}
        for j in self.jobs_list:
            if j.status == "done" and j.tech:
                done[j.tech] = done.get(j.tech, 0) + 1
        return {t.id: {"skills": sorted(t.skills), "zones": sorted(t.zones),
                       "offers": self.offers_by_tech.get(t.id, 0), "done": done.get(t.id, 0)}
                for t in self.techs_list}


def alike_spread(techs: dict[str, dict[str, Any]]) -> dict[str, float]:
    """How evenly offers went round among technicians who could do the same work (same
    skills and zones): per group of two or more, its max − min; the mean of that over the
    groups, the widest, and the mean within-group standard deviation."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
    for t in techs.values():
        groups.setdefault((tuple(t["skills"]), tuple(t["zones"])), []).append(t["offers"])
    ranges = [max(g) - min(g) for g in groups.values() if len(g) > 1]
    sds = [statistics.pstdev(g) for g in groups.values() if len(g) > 1]
    if not ranges:
        return {"groups": 0, "range_mean": 0.0, "range_max": 0, "sd_mean": 0.0}
    return {"groups": len(ranges), "range_mean": round(statistics.mean(ranges), 2),
            "range_max": max(ranges), "sd_mean": round(statistics.mean(sds), 2)}


def spread(counts: Iterable[int]) -> dict[str, float]:
    """How evenly offers went round: min, max, standard deviation, and the busiest
    technician's share of them all."""
    xs = list(counts)
    if not xs:
        return {"min": 0, "max": 0, "sd": 0.0, "top_share": 0.0}
    total = sum(xs)
    return {"min": min(xs), "max": max(xs), "sd": round(statistics.pstdev(xs), 2),
            "top_share": round(max(xs) / total, 3) if total else 0.0}


class GreedyDispatcher:
    """``dispatch.greedy.Greedy`` in the simulated world (no Redis, no plan)."""

    name = "greedy"

    def __init__(self, timeout_s: int, release_h: float) -> None:
        self.g = Greedy()
        self.timeout_ms = timeout_s * 1000
        self.release_ms = int(release_h * 3_600_000)
        self.new: list[Offer] = []
        self.n: dict[str, int] = {}
        self.accepted: dict[str, str] = {}  # tech → job
        self._touched: set[str] = set()
        self.world: World

    async def start(self, world: World) -> None:
        self.world = world
        for t in world.techs_list:
            self.g.techs[t.id] = GTech(t.id, t.home[0], t.home[1], t.skills, t.zones)
        # The same rule the engine plans by: a job must be done, and the technician home,
        # by the end of its shift.
        self.g.fits = self._fits

    def _fits(self, tid: str, jid: str) -> bool:
        w, t, j = self.world, self.world.techs[tid], self.world.jobs[jid]
        here = w.position(t, w.now)
        arrive = w.now + w.leg_ms(here, (j.lat, j.lon))
        start = max(arrive, j.window[0]) if j.window else arrive
        return start + j.duration_s * 1000 + w.leg_ms((j.lat, j.lon), t.home) <= t.shift[1]

    def touched(self) -> set[str]:
        out, self._touched = self._touched, set()
        return out

    def _offers(self, pairs: list[tuple[str, str]], now: int) -> None:
        for jid, tid in pairs:
            self.n[jid] = self.n.get(jid, 0) + 1
            self.new.append(Offer(jid, tid, self.n[jid], now + self.timeout_ms))

    async def job_created(self, job: SimJob, now: int) -> None:
        release = job.window[0] - self.release_ms if job.window else now
        if release > now:
            self.world.at(release, "call", lambda: self._release(job, release))
            return
        self._release(job, now)

    def _release(self, job: SimJob, now: int) -> None:
        for t in self.world.techs_list:  # where the available ones are now
            g = self.g.techs[t.id]
            if g.available:
                g.lat, g.lon = self.world.position(t, now)
        gj = GJob(job.id, job.lat, job.lon, job.skills, job.zones, job.priority, job.created_ms)
        self._offers(self.g.job_created(gj), now)

    async def answer(self, offer: Offer, accept: bool, now: int) -> bool:
        if self.g.offered.get(offer.job) != offer.tech or self.n.get(offer.job) != offer.n:
            return False
        if accept:
            self.accepted[offer.tech] = offer.job
            self._touched.add(offer.tech)
        pos = self.world.position(self.world.techs[offer.tech], now)
        self.g.techs[offer.tech].lat, self.g.techs[offer.tech].lon = pos
        self._offers(self.g.answered(offer.job, offer.tech, accept), now)
        return True

    async def expire(self, offer: Offer, now: int) -> None:
        await self.answer(offer, False, now)

    async def tech_event(self, tech: SimTech, kind: str, job: str | None, now: int) -> None:
        if kind in ("online", "complete"):
            if kind == "complete":
                self.accepted.pop(tech.id, None)
            if not tech.going_off:
                pos = self.world.position(tech, now)
                self._offers(self.g.free(tech.id, pos[0], pos[1]), now)
        elif kind == "offline":
            self.g.busy(tech.id)

    async def gps(self, tech: SimTech, now: int) -> None:
        return None

    async def settle(self, now: int) -> list[Offer]:
        out, self.new = self.new, []
        return out

    async def next_job(self, tech: SimTech, now: int) -> tuple[str, int] | None:
        jid = self.accepted.get(tech.id)
        if jid is None or tech.job == jid:
            return None
        return jid, now
