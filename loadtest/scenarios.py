"""The scenarios: who connects, what changes, and what each connection must receive.

Each scenario builds a ``Plan`` against a target: the connections to open (topic, token),
a ``drive`` coroutine that makes the changes for the duration, and ``expected`` — after
the run, how many counted messages each topic must have received (losses are counted
against it, not assumed). Against Switchboard the changes are real queue operations over
HTTP; against a peer they are publishes of a message of the same shape and size.

- ``boards``: N screens on one site's board; counters call at R calls/s. Every call is one
  board event (``called``, carrying the waiting counts). Tickets are issued before the
  screens connect; each counter calls once unless ``--counters`` makes them go round
  (then a counter completes its previous ticket first, which is one more board event).
- ``trackers``: M ticket holders each on its own ticket, spread over S services, behind
  enough tickets for every call; each call moves every tracked ticket of its service one
  place: M/S position updates per call, R×M/S per second. Counters (2 per service unless
  ``--counters``) complete their last ticket before calling the next, as at a real desk.
- ``mixed``: a clinic-plus-city mix: clinics with boards, counter consoles, agents on the
  service queues and phones on tickets, plus one city-wide service centre; tickets arrive
  and counters call and complete all through the run.
- ``devices`` and ``rush`` need dispatch (GPS over msgpack, offers) and appointments
  (booking API); until those exist they stop with a message saying so.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from loadtest.backends import Publisher, SwitchboardAPI
from loadtest.servers import NeedsError, Target

SITE = "lt"
Progress = Callable[[float], None]


@dataclass
class Plan:
    scenario: str
    conns: list[tuple[Any, ...]]  # (topic, token) or (topic, token, device home)
    drive: Callable[[float, Progress], Awaitable[None]]
    expected: Callable[[], dict[str, int]]
    # Messages per second the run should deliver (for sizing the generator).
    rate_hint: float
    params: dict[str, Any] = field(default_factory=dict)
    driver: Any = None
    generator: dict[str, Any] = field(default_factory=dict)  # extra generator settings
    burst: int = 0  # messages one change sends at once (for sizing the generator)


def _prefix(i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]


def site_config(services: int, counters: int, counter_services: Callable[[int], list[str]],
                name: str = "Loadtest") -> dict[str, Any]:
    return {
        "name": {"zh": f"{name} 站点", "en": name}, "timezone": "UTC",
        "languages": ["zh", "en"],
        "services": [{"id": f"s{i}", "name": {"zh": f"服务 {i}", "en": f"Service {i}"},
                      "prefix": _prefix(i)} for i in range(services)],
        "counters": [{"id": f"c{i}", "name": {"zh": f"{i}号窗口", "en": f"Counter {i}"},
                      "services": counter_services(i)} for i in range(counters)],
    }


async def paced(total: int, rate: float, duration: float, progress: Progress,
                act: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Run ``act(i)`` for i < total at ``rate`` per second, stopping at ``duration``."""
    t0 = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    for i in range(total):
        due = t0 + i / rate
        now = time.monotonic()
        if now - t0 >= duration:
            break
        if due > now:
            await asyncio.sleep(due - now)
        progress(min(1.0, (time.monotonic() - t0) / duration))
        task = asyncio.create_task(act(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    rest = duration - (time.monotonic() - t0)
    if rest > 0:
        await asyncio.sleep(rest)
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    progress(1.0)


# -- payloads the peers publish: the size and shape of Switchboard's messages -------------

def called_payload(number: str, counter: str, waiting: int) -> dict[str, Any]:
    at = "2026-01-01T09:00:00.000+00:00"
    return {"number": number, "counter": counter,
            "counter_name": {"zh": f"{counter}号窗口", "en": f"Counter {counter}"},
            "service": "s0", "service_name": {"zh": "服务 0", "en": "Service 0"},
            "announcement": {"zh": f"请 {number} 号到 {counter}号窗口",
                             "en": f"Ticket {number}, please go to Counter {counter}"},
            "recalls": 0, "at": at, "valid_until": at, "valid_until_ms": 1767258120000,
            "waiting": {"s0": {"waiting": waiting, "estimate": None}}}


def ticket_payload(tid: str, number: str, service: str, position: int) -> dict[str, Any]:
    return {"id": tid, "number": number, "service": service, "status": "waiting",
            "priority": "walk_in", "position": position, "people_ahead": position - 1,
            "estimate": None, "counter": None, "called_at": None}


# -- boards -------------------------------------------------------------------------------

async def boards(target: Target, backend: Any, screens: int, rate: float,
                 duration: float, counters: int = 0) -> Plan:
    calls = max(1, math.ceil(rate * duration))
    params = {"screens": screens, "calls_per_s": rate, "duration_s": duration}
    topic = f"board:{SITE}"
    if isinstance(backend, SwitchboardAPI):
        api = backend
        n_ctr = counters or min(500, calls)
        params["counters"] = n_ctr
        await api.put_site(SITE, site_config(1, n_ctr, lambda i: ["s0"]))
        await api.issue_many(SITE, ["s0"] * (calls + n_ctr))
        token = api.token("display", site=SITE)
        made = [0]
        busy = [False] * n_ctr
        lock = [asyncio.Lock() for _ in range(n_ctr)]

        async def call(i: int) -> None:
            c = i % n_ctr
            async with lock[c]:
                if busy[c]:
                    await api.counter(SITE, f"c{c}", "complete")
                if await api.counter(SITE, f"c{c}", "call-next") is not None:
                    made[0] += 1
                    busy[c] = True

        async def drive(d: float, progress: Progress) -> None:
            await paced(calls, rate, d, progress, call)

        return Plan("boards", [(topic, token)] * screens, drive, lambda: {topic: made[0]},
                    screens * rate, params, api, burst=screens)
    pub: Publisher = backend
    sent = [0]

    async def publish(i: int) -> None:
        pub.publish([{"topic": topic, "seq": i + 1, "type": "called",
                      "data": called_payload(f"A{i + 1:03d}", str(i % 6 + 1), calls - i)}])
        sent[0] += 1

    async def drive_peer(d: float, progress: Progress) -> None:
        await paced(calls, rate, d, progress, publish)

    return Plan("boards", [(topic, None)] * screens, drive_peer, lambda: {topic: sent[0]},
                screens * rate, params, pub, burst=screens)


# -- trackers -----------------------------------------------------------------------------

async def trackers(target: Target, backend: Any, holders: int, rate: float,
                   duration: float, services: int = 10, counters: int = 0) -> Plan:
    services = max(1, min(services, holders, 200))
    calls = max(1, math.ceil(rate * duration))
    per_svc_calls = math.ceil(calls / services)
    params = {"trackers": holders, "calls_per_s": rate, "duration_s": duration,
              "services": services, "updates_per_s": round(rate * holders / services)}
    made = [0] * services
    if isinstance(backend, SwitchboardAPI):
        api = backend
        # Counter i serves service i % S, and calls in turn with its neighbours, so call
        # i (at counter i % C) moves service i % S. Each completes its last ticket first.
        n_ctr = max(services, min(500, counters or 2 * services))
        n_ctr -= n_ctr % services
        params["counters"] = n_ctr
        await api.put_site(SITE, site_config(services, n_ctr, lambda i: [f"s{i % services}"]))
        # Fillers first (every call takes one), then the tracked tickets behind them.
        svc_of = [f"s{i % services}" for i in range(services * (per_svc_calls + 1))]
        svc_of += [f"s{i % services}" for i in range(holders)]
        issued = await api.issue_many(SITE, svc_of)
        tracked = issued[services * (per_svc_calls + 1):]
        conns: list[tuple[str, str | None]] = [(f"ticket:{t['id']}", t["token"])
                                               for t in tracked]
        topic_svc = {f"ticket:{t['id']}": int(t["service"][1:]) for t in tracked}
        busy = [False] * n_ctr
        lock = [asyncio.Lock() for _ in range(n_ctr)]

        async def call(i: int) -> None:
            c = i % n_ctr
            async with lock[c]:
                if busy[c]:
                    await api.counter(SITE, f"c{c}", "complete")
                if await api.counter(SITE, f"c{c}", "call-next") is not None:
                    made[c % services] += 1
                    busy[c] = True

        async def drive(d: float, progress: Progress) -> None:
            await paced(calls, rate, d, progress, call)

        return Plan("trackers", conns, drive,
                    lambda: {t: made[s] for t, s in topic_svc.items()},
                    rate * holders / services, params, api, burst=holders // services)
    pub: Publisher = backend
    topics = [f"ticket:{SITE}.{k}" for k in range(holders)]
    members: list[list[int]] = [list(range(s, holders, services)) for s in range(services)]

    async def publish(i: int) -> None:
        s = i % services
        made[s] += 1
        k = made[s]
        pub.publish([{"topic": topics[h], "seq": k, "type": "position",
                      "data": ticket_payload(topics[h][7:], f"{_prefix(s)}{h:03d}", f"s{s}",
                                             per_svc_calls + 1 + h // services - k)}
                     for h in members[s]])

    async def drive_peer(d: float, progress: Progress) -> None:
        await paced(calls, rate, d, progress, publish)

    return Plan("trackers", [(t, None) for t in topics], drive_peer,
                lambda: {t: made[h % services] for h, t in enumerate(topics)},
                rate * holders / services, params, pub, burst=holders // services)


# -- mixed --------------------------------------------------------------------------------

async def mixed(target: Target, backend: Any, duration: float, clinics: int = 8,
                scale: float = 1.0) -> Plan:
    """Clinics (5 services, 6 counters, 3 board screens, consoles, agents, phones) and one
    city service centre (20 services, 40 counters, 10 screens, many phones)."""
    if not isinstance(backend, SwitchboardAPI):
        raise NeedsError("mixed runs against Switchboard only (the peers have no queue)")
    api = backend
    sites: list[dict[str, Any]] = []
    for k in range(clinics):
        sites.append({"id": f"clinic{k}", "services": 5, "counters": 6, "screens": 3,
                      "phones": int(40 * scale), "call_s": 20.0})
    sites.append({"id": "city", "services": 20, "counters": 40, "screens": 10,
                  "phones": int(2000 * scale), "call_s": 8.0})
    conns: list[tuple[str, str | None]] = []
    calls_at: dict[str, int] = {}
    svc_calls: dict[tuple[str, int], int] = {}
    topic_expect: dict[str, Callable[[], int]] = {}
    busy: dict[tuple[str, int], bool] = {}
    for s in sites:
        site, n_svc, n_ctr = s["id"], s["services"], s["counters"]
        await api.put_site(site, site_config(n_svc, n_ctr, _one_service(n_svc), name=site))
        calls_per_ctr = math.ceil(duration / s["call_s"]) + 1
        # Waiting tickets for every call of the run, phones on the ones furthest back.
        need = n_ctr * calls_per_ctr + s["phones"]
        issued = await api.issue_many(site, [f"s{i % n_svc}" for i in range(need)])
        conns += [(f"board:{site}", api.token("display", site=site))] * s["screens"]
        calls_at[site] = 0
        topic_expect[f"board:{site}"] = _const_of(calls_at, site)
        for c in range(n_ctr):
            conns.append((f"counter:{site}:c{c}", api.token("agent", site=site,
                                                            counter=f"c{c}")))
            busy[(site, c)] = False
            topic_expect[f"counter:{site}:c{c}"] = _const_of(svc_calls, (site, c))
        for i in range(n_svc):
            conns.append((f"service:{site}:s{i}", api.token("agent", site=site,
                                                            counter=f"c{i % n_ctr}")))
        for t in issued[-s["phones"]:]:
            conns.append((f"ticket:{t['id']}", t["token"]))
            svc = int(t["service"][1:])
            topic_expect[f"ticket:{t['id']}"] = _service_calls(svc_calls, site, svc, n_svc)
    params = {"clinics": clinics, "city_services": 20, "connections": len(conns),
              "duration_s": duration}

    async def counter_loop(site: str, c: int, every_s: float, d: float) -> None:
        t0 = time.monotonic()
        await asyncio.sleep(every_s * (c % 7) / 7)  # counters are not in lockstep
        while time.monotonic() - t0 < d:
            if busy[(site, c)]:
                await api.counter(site, f"c{c}", "complete")
                busy[(site, c)] = False
            if await api.counter(site, f"c{c}", "call-next") is not None:
                busy[(site, c)] = True
                calls_at[site] += 1
                svc_calls[(site, c)] = svc_calls.get((site, c), 0) + 1
            await asyncio.sleep(min(every_s, max(0.0, d - (time.monotonic() - t0))))

    async def arrivals(site: str, n_svc: int, every_s: float, d: float) -> None:
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < d:
            await api.issue(site, f"s{i % n_svc}")
            i += 1
            await asyncio.sleep(min(every_s, max(0.0, d - (time.monotonic() - t0))))

    async def drive(d: float, progress: Progress) -> None:
        t0 = time.monotonic()

        async def tick() -> None:
            while time.monotonic() - t0 < d:
                progress(min(1.0, (time.monotonic() - t0) / d))
                await asyncio.sleep(0.25)

        jobs = [tick()]
        for s in sites:
            for c in range(s["counters"]):
                jobs.append(counter_loop(s["id"], c, s["call_s"], d))
            jobs.append(arrivals(s["id"], s["services"], s["call_s"] / s["counters"], d))
        await asyncio.gather(*jobs)
        progress(1.0)

    rate = sum(s["counters"] / s["call_s"] * (s["screens"] + s["phones"] / s["services"])
               for s in sites)
    # A counter's console counts its own calls; a board counts every call of its site.
    return Plan("mixed", conns, drive, lambda: {t: f() for t, f in topic_expect.items()},
                rate, params, api)


def _one_service(n_svc: int) -> Callable[[int], list[str]]:
    """Counter i serves service i % n_svc."""
    return lambda i: [f"s{i % n_svc}"]


def _const_of(table: dict[Any, int], key: Any) -> Callable[[], int]:
    """``table[key]`` when asked (after the run)."""
    return lambda: table.get(key, 0)


def _service_calls(calls: dict[tuple[str, int], int], site: str, svc: int,
                   n_svc: int) -> Callable[[], int]:
    """Calls made in service ``svc`` of ``site`` (counter c serves service c % n_svc)."""
    return lambda: sum(v for (st, c), v in calls.items() if st == site and c % n_svc == svc)


# -- waiting for other parts ----------------------------------------------------------------

async def devices(target: Target, backend: Any, devices: int, hz: float,
                  duration: float, jobs_per_s: float = 0.0) -> Plan:
    """K technicians' devices on msgpack: each follows its own ``tech:`` topic, sends GPS
    fixes at H per second (each comes back as its ``position``, state lane) and accepts
    the offers the dispatcher makes while the driver creates jobs."""
    if not isinstance(backend, SwitchboardAPI):
        raise NeedsError("devices runs against Switchboard only (the peers have no dispatch)")
    needs_dispatch()
    api = backend
    region = "ltr"
    jobs_per_s = jobs_per_s or max(0.2, devices / 120)
    target.start_worker()  # recomputes and offer timeouts run in the arq worker
    admin = {"Authorization": f"Bearer {api.token('admin')}"}
    # One zone over the whole area (a region with no zone does not load in the hub yet:
    # Lua encodes the empty list as an object; reported to dispatch).
    r = await api.http.put(f"/v1/regions/{region}", headers=admin, json={
        "name": "Loadtest city", "timezone": "UTC", "policy": {"offer_timeout_s": 120},
        "zones": [{"id": "all", "polygon": [[4.7, 52.2], [5.1, 52.2], [5.1, 52.6],
                                            [4.7, 52.6]]}]})
    r.raise_for_status()
    homes: list[tuple[float, float]] = []
    sem = asyncio.Semaphore(32)
    now = int(time.time() * 1000)

    async def add(i: int) -> None:
        lat, lon = 52.30 + (i % 100) * 0.0015, 4.80 + (i // 100 % 100) * 0.0015
        homes.append((lat, lon))
        tid = f"{region}.t{i}"
        async with sem:
            r = await api.http.put(f"/v1/technicians/{tid}", headers=admin, json={
                "name": f"Tech{i}", "home": {"lat": lat, "lon": lon},
                "shift": {"start": "00:00", "end": "24:00"}})
            r.raise_for_status()
            r = await api.http.post(f"/v1/technicians/{tid}/actions", headers=admin, json={
                "actions": [{"aid": f"on-{i}", "k": "online", "t": now}]})
            r.raise_for_status()

    await asyncio.gather(*(add(i) for i in range(devices)))
    conns: list[tuple[Any, ...]] = [
        (f"tech:{region}.t{i}", api.token("tech", tech=f"{region}.t{i}"),
         (52.30 + (i % 100) * 0.0015, 4.80 + (i // 100 % 100) * 0.0015))
        for i in range(devices)]
    params = {"devices": devices, "hz": hz, "duration_s": duration,
              "jobs_per_s": round(jobs_per_s, 2), "fixes_per_s": round(devices * hz)}
    start_id = [f"{int(time.time() * 1000)}-0"]
    jobs = max(1, math.ceil(jobs_per_s * duration))

    async def create(i: int) -> None:
        lat, lon = 52.30 + (i * 7 % 100) * 0.0015, 4.80 + (i * 13 % 100) * 0.0015
        t0 = time.perf_counter()
        try:
            r = await api.http.post(f"/v1/regions/{region}/jobs", headers=admin, json={
                "location": {"lat": lat, "lon": lon}, "duration_s": 1800,
                "window": {"start_ms": int(time.time() * 1000),
                           "end_ms": int(time.time() * 1000) + 4 * 3600_000}})
        except httpx.HTTPError as exc:
            api.stats.error(f"job: {type(exc).__name__}")
            return
        api.stats.lat_ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code == 201:
            api.stats.ops += 1
        else:
            api.stats.error(f"job: {r.status_code}")

    async def drive(d: float, progress: Progress) -> None:
        start_id[0] = f"{int(time.time() * 1000)}-0"
        await paced(jobs, jobs_per_s, d, progress, create)

    def expected() -> dict[str, int]:
        """Offers the dispatcher made to each technician in the window (from the stream)."""
        return offers_in_stream(target, region, start_id[0])

    plan = Plan("devices", conns, drive, expected, devices * hz, params, api)
    plan.generator = {"gps_hz": hz, "accept_offers": True, "encoding": "msgpack"}
    return plan


def offers_in_stream(target: Target, region: str, since: str) -> dict[str, int]:
    import redis

    from dispatch import keys as dkeys
    if target.redis is None:
        return {}
    r = redis.Redis(unix_socket_path=str(target.redis.socket))
    try:
        out: dict[str, int] = {}
        rows: list[Any] = r.xrange(dkeys.events(region), min="(" + since, max="+")  # type: ignore[assignment]
        for _, fields in rows:
            if fields.get(b"t") == b"offered":
                tech = msgspec.json.decode(fields[b"d"]).get("tech")
                if tech:
                    out[f"tech:{tech}"] = out.get(f"tech:{tech}", 0) + 1
        return out
    finally:
        r.close()


def needs_dispatch() -> None:
    """devices needs the dispatch hub: a GPS publish op over msgpack and offer topics."""
    try:
        from realtime.hub import dispatch_topics  # noqa: F401 - registers tech/job/org, gps
    except ImportError as exc:
        raise NeedsError(f"devices needs dispatch (realtime.hub.dispatch_topics): {exc}") \
            from exc
    from realtime.hub.topics import NAMESPACES
    from realtime.protocol import client_types
    ops = {str(t.__struct_config__.tag) for t in client_types()}
    if "gps" not in ops or "tech" not in NAMESPACES:
        raise NeedsError("devices needs dispatch: a `gps` publish op (registered with "
                         "realtime.protocol.register_publish) and the `tech`/`job` topics "
                         "with offers (issue: dispatch hub); neither exists yet")


def needs_booking() -> None:
    """rush needs appointments: booking routes in realtime/booking_api.py."""
    from realtime import booking_api
    if not booking_api.ROUTES:
        raise NeedsError("rush needs appointments: the booking API (slots and bookings in "
                         "realtime/booking_api.py, issue: appointments) has no routes yet")
