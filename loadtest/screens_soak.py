"""Screens left open: do the pages that stay up for days keep a flat JavaScript heap, DOM
and listener count?

    python -m loadtest.screens_soak --duration 2100 --sample-every 30 --calls-per-s 0.7 \\
        --out /tmp/screens

Starts ``switchboard serve --demo`` (one process, its own ``redis-server``, on 127.0.0.1)
and the arq ``worker``, opens the waiting-room board (``/board/demo``), a counter console
(``/counter/demo/2``), the floor overview (``/supervise/demo``) and the enterprise dashboard
(``/org/city.acme``) in headless Chromium (Debian's, through Playwright: never a downloaded
browser), each in a browser context of its own, and drives a steady, accelerated stream of
real activity through the HTTP API for ``--duration`` seconds:

- kiosks take tickets (Poisson, a little faster than the counters call; a service with
  ``--max-waiting`` people waiting takes no more until it has fewer, so the lists on the
  screens stay bounded and any growth is the page's own);
- the six counters call next, recall, start, complete, mark no-shows, transfer, pause and
  open again (``--calls-per-s`` calls in all);
- the day is closed every ``--day-s`` (numbers start again, counters close and reopen);
- with the dashboard: four technicians of the demo region (``city.s1`` …, a skill of their
  own) driven by ``clients.device_sim`` (accept, drive with a GPS fix a second, arrive,
  complete), and an organisation job created every ``--job-every-s`` (at most
  ``--max-jobs`` open at once; one left unserved for ten minutes is cancelled).

Every ``--sample-every`` seconds it forces a garbage collection in each page
(``HeapProfiler.collectGarbage``, unless ``--no-gc``: the heap then shows what is retained,
not what is merely not yet collected) and reads ``Performance.getMetrics`` over CDP
(JSHeapUsedSize, Nodes, JSEventListeners, Documents, LayoutObjects, LayoutCount, …), the
messages each page's websocket client delivered, and a few sizes of each page's own state
(the board's spoken log, the dashboard's technician trail and job places, …). ``--heap-at``
takes heap snapshots at the given seconds (those still due when the activity ends are taken
then) and compares the first with the last by constructor (what was added, count and bytes).

Writes ``samples.jsonl`` as it goes and ``screens.json`` (every sample, the growth table,
the driver's tallies, versions) in ``--out``, prints each page's slopes per hour (least
squares after ``--warmup``) with a verdict per metric (``flat``, ``levels off``, ``grows``,
``falls``), and a JSON summary line.
Exit 0; with ``--fail-on-growth``, 5 if a memory metric of a page grows. Loopback only;
everything stops at the duration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest.soak import MAX_DURATION_S, _keep_logs, _terminated
from queueing.argtypes import number, whole

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--autoplay-policy=no-user-gesture-required",
                 # A TV or a console is never a background tab: keep its timers at full pace.
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
PAGES = ("board", "counter", "supervise", "org")
SITE = "demo"
CONSOLE_COUNTER = "2"  # internal medicine and paediatrics: two service topics
COUNTERS = ("1", "2", "3", "4", "5", "6")
SERVICES = ("internal", "paediatrics", "lab", "pharmacy", "cashier")
REGION = "city"
ORG = "city.acme"
SKILL = "soakscreens"
TECHS = [(f"{REGION}.s{i}", (31.225 + 0.01 * i, 121.50 + 0.01 * i)) for i in range(1, 5)]
# Each page's global (the pages expose it for tests) and its state worth counting.
GLOBAL = {"board": "switchboardBoard", "counter": "switchboardCounter",
          "supervise": "switchboardSupervise", "org": "switchboardOrg"}
STATE = {
    "board": "{spoken: g.announcer.spoken.length, announcer_queue: g.announcer.queue.length,"
             " recent: g.state.recent.length, counters: g.state.counters.length}",
    "counter": "{queue: Object.values(g.queues).reduce((n, l) => n + l.length, 0)}",
    "supervise": "{queue: Object.values(g.queues).reduce((n, l) => n + l.length, 0)}",
    "org": "{moves: g.moves.length, places: g.places.size, jobs: g.view ? g.view.jobs.length : 0,"
           " on_the_way: g.view ? g.view.on_the_way.length : 0}",
}
# CDP Performance metric → (sample name, scale).
METRICS = {"JSHeapUsedSize": ("heap_mb", 1 / 2**20),
           "JSHeapTotalSize": ("heap_total_mb", 1 / 2**20),
           "Nodes": ("nodes", 1), "JSEventListeners": ("listeners", 1),
           "Documents": ("documents", 1), "Frames": ("frames", 1),
           "LayoutObjects": ("layout_objects", 1), "AudioHandlers": ("audio_handlers", 1),
           "ArrayBufferContents": ("array_buffers", 1),
           "DetachedScriptStates": ("detached_script_states", 1),
           "LayoutCount": ("layout_count", 1), "RecalcStyleCount": ("recalc_style_count", 1),
           "ScriptDuration": ("script_s", 1), "TaskDuration": ("task_s", 1)}
# What must stay flat (memory), with what it may drift in a day and still be called flat:
# the larger of this floor and SHARE of its level. Counters (layouts, messages) are rates.
FLOORS = {"heap_mb": 1.0, "heap_total_mb": 2.0, "nodes": 50.0, "listeners": 10.0,
          "documents": 1.0, "frames": 1.0, "layout_objects": 50.0, "audio_handlers": 2.0,
          "array_buffers": 5.0, "detached_script_states": 1.0}
SHARE = 0.05
RATES = ("layout_count", "recalc_style_count", "script_s", "task_s", "msgs", "events")
# The hook that counts what the page's websocket client hands the page (no growth: numbers).
HOOK = """(name) => {
  const c = window[name]?.client;
  if (!c || c.__sbSoak) return !!c;
  const n = c.__sbSoak = { msgs: 0, events: 0, snapshots: 0, errors: 0 };
  const emit = c.emit.bind(c);
  c.emit = (topic, msg) => {
    n.msgs += 1;
    if (msg?.op === 'event') n.events += 1;
    else if (msg?.op === 'snapshot') n.snapshots += 1;
    else if (msg?.op === 'error') n.errors += 1;
    return emit(topic, msg);
  };
  return true;
}"""


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m loadtest.screens_soak", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=number(0), default=120.0,
                    help=f"seconds of activity (default 120, at most {MAX_DURATION_S:g})")
    ap.add_argument("--sample-every", type=number(0), default=30.0, help="seconds (30)")
    ap.add_argument("--warmup", type=number(0, above=False), default=None,
                    help="seconds left out of the slopes (default a third, at most 600)")
    ap.add_argument("--pages", default=",".join(PAGES),
                    help=f"comma-separated, of {', '.join(PAGES)} (default all)")
    ap.add_argument("--calls-per-s", type=number(0), default=0.5,
                    help="calls at the six counters, in all (0.5)")
    ap.add_argument("--max-waiting", type=whole(1), default=25,
                    help="per service: no ticket taken while this many wait (25)")
    ap.add_argument("--day-s", type=number(0), default=600.0,
                    help="the day is closed this often (600)")
    ap.add_argument("--job-every-s", type=number(0), default=20.0,
                    help="an organisation job this often, with the dashboard (20)")
    ap.add_argument("--max-jobs", type=whole(1), default=8, help="open at once (8)")
    ap.add_argument("--no-gc", action="store_true",
                    help="sample without forcing a garbage collection first")
    ap.add_argument("--heap-at", default="",
                    help="seconds into the run, comma-separated: heap snapshots of every "
                         "page, the first and last compared by constructor")
    ap.add_argument("--port", type=whole(1), default=18400, help="server port (18400)")
    ap.add_argument("--chromium", default=CHROMIUM, help=f"Chromium to drive ({CHROMIUM})")
    ap.add_argument("--out", default=None,
                    help="folder for screens.json (default /tmp/hC/screens-TIME)")
    ap.add_argument("--seed", type=whole(0), default=1)
    ap.add_argument("--fail-on-growth", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S:
        print(f"--duration must be in (0, {MAX_DURATION_S:g}]", file=sys.stderr)
        return 2
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    if not pages or any(p not in PAGES for p in pages):
        print(f"--pages: some of {', '.join(PAGES)}", file=sys.stderr)
        return 2
    args.pages = pages
    if not os.access(args.chromium, os.X_OK):
        print(f"needs Chromium at {args.chromium} (apt-get install chromium); Playwright "
              "must not download one", file=sys.stderr)
        return 2
    try:
        args.heap_at = sorted(float(x) for x in args.heap_at.split(",") if x.strip())
    except ValueError:
        print("--heap-at: seconds, comma-separated", file=sys.stderr)
        return 2
    out = Path(args.out or f"/tmp/hC/screens-{datetime.now(UTC):%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    args.out = str(out)
    warmup = args.warmup if args.warmup is not None else min(600.0, args.duration / 3)
    from rich.console import Console

    from loadtest.servers import Target
    console = Console(stderr=True, quiet=args.quiet)
    # The server's data in $TMPDIR, not in --out: Redis's socket path must stay short.
    target = Target("switchboard", workers=1, port=args.port,
                    env={"SWITCHBOARD_DEMO": "true"})
    previous = signal.signal(signal.SIGTERM, _terminated)
    started = datetime.now(UTC)
    commit = _commit()  # at the start: others may commit while it runs
    try:
        console.log(f"starting switchboard --demo on 127.0.0.1:{args.port}")
        target.start()
        target.start_worker()
        result = asyncio.run(_run(args, target, console, warmup))
    finally:
        _keep_logs(target, out)
        target.stop()
        signal.signal(signal.SIGTERM, previous)
    result.update(_about(args, started, warmup), commit=commit)
    (out / "screens.json").write_text(json.dumps(result, indent=1))
    print_report(result, console)
    growing = {p: [r["metric"] for r in rows if r["verdict"] == "grows"]
               for p, rows in result["growth"].items()}
    print(json.dumps({"out": str(out), "samples": {p: len(s) for p, s in
                                                   result["samples"].items()},
                      "grows": growing, "page_errors": result["page_errors"]}))
    return 5 if args.fail_on_growth and any(growing.values()) else 0


# -- the activity ------------------------------------------------------------------------------

@dataclass
class Drive:
    """Real activity through the HTTP API, bounded in count and time."""

    base: str
    secret: str
    deadline: float
    calls_per_s: float
    max_waiting: int
    day_s: float
    job_every_s: float
    max_jobs: int
    dispatch: bool
    rng: random.Random
    tally: Tally[str] = field(default_factory=Tally)
    waiting: dict[str, int] = field(default_factory=dict)
    http: Any = None
    _tokens: dict[tuple[str, ...], str] = field(default_factory=dict)

    def token(self, role: str, **scope: str) -> str:
        from realtime.auth import make_token
        key = (role, *sorted(f"{k}={v}" for k, v in scope.items()))
        if key not in self._tokens:
            self._tokens[key] = make_token(self.secret, role, ttl_s=5 * 86400,
                                           **scope)  # type: ignore[arg-type]
        return self._tokens[key]

    def left(self) -> float:
        return self.deadline - time.monotonic()

    async def nap(self, seconds: float) -> bool:
        await asyncio.sleep(max(0.0, min(seconds, self.left())))
        return self.left() > 0

    async def call(self, what: str, method: str, path: str, token: str,
                   body: Any = None, **kw: Any) -> Any:
        import httpx
        try:
            r = await self.http.request(method, path, json=body, headers={
                "Authorization": f"Bearer {token}", **kw.get("headers", {})})
        except httpx.HTTPError as exc:
            self.tally[f"{what} {type(exc).__name__}"] += 1
            return None
        self.tally[f"{what} {r.status_code}"] += 1
        return r

    async def prepare(self) -> None:
        if not self.dispatch:
            return
        admin = self.token("admin")
        for tid, (lat, lon) in TECHS:
            r = await self.call("put_tech", "PUT", f"/v1/technicians/{tid}", admin, {
                "name": f"Soak {tid.rsplit('.', 1)[1]}", "skills": [SKILL],
                "home": {"lat": lat, "lon": lon}, "shift": {"start": "00:00", "end": "24:00"}})
            if r is None or r.status_code >= 300:
                raise RuntimeError(f"PUT technician {tid}: {r.text if r else 'no answer'}")

    async def run(self) -> None:
        jobs = [self.arrivals(), self.queue_watch(), self.day_closer()]
        jobs += [self.counter(c, k) for k, c in enumerate(COUNTERS)]
        if self.dispatch:
            jobs.append(self.org_jobs())
        await asyncio.gather(*jobs)

    async def queue_watch(self) -> None:
        """How many wait per service (GET …/queue), every few seconds: arrivals stop at
        ``max_waiting`` so the screens' lists stay bounded."""
        admin = self.token("admin")
        while self.left() > 0:
            for svc in SERVICES:
                r = await self.call("queue", "GET", f"/v1/sites/{SITE}/services/{svc}/queue",
                                    admin)
                if r is not None and r.status_code == 200:
                    body = r.json()
                    tickets = body.get("tickets", body) if isinstance(body, dict) else body
                    self.waiting[svc] = len(tickets) if isinstance(tickets, list) else 0
            await self.nap(3.0)

    async def arrivals(self) -> None:
        kiosk = self.token("kiosk", site=SITE)
        n = 0
        # A little faster than the counters call, so they rarely find the queue empty.
        while await self.nap(self.rng.expovariate(self.calls_per_s * 1.2)):
            open_svcs = [s for s in SERVICES if self.waiting.get(s, 0) < self.max_waiting]
            if not open_svcs:
                self.tally["issue skipped_full"] += 1
                continue
            svc = self.rng.choice(open_svcs)
            n += 1
            r = await self.call("issue", "POST", f"/v1/sites/{SITE}/tickets", kiosk,
                                {"service": svc, "channel": "kiosk"},
                                headers={"Idempotency-Key": f"screens-{n}-{time.time_ns()}"})
            if r is not None and r.status_code == 201:
                self.waiting[svc] = self.waiting.get(svc, 0) + 1
                if self.rng.random() < 0.03:
                    t = r.json()
                    await self.call("cancel", "POST", f"/v1/tickets/{t['id']}/cancel",
                                    t["token"], {})

    async def counter(self, counter: str, k: int) -> None:
        """One counter's day: call, (recall), start, complete, now and then a no-show, a
        transfer, a pause. A cycle lasts about len(COUNTERS) / calls_per_s seconds."""
        agent = self.token("agent", site=SITE, counter=counter)
        base = f"/v1/sites/{SITE}/counters/{counter}"
        cycle = len(COUNTERS) / max(self.calls_per_s, 1e-6)
        await self.nap(cycle * k / len(COUNTERS))
        while self.left() > 0:
            r = await self.call("call-next", "POST", base + "/call-next", agent, {})
            if r is not None and r.status_code == 409 and b"counter_not_open" in r.content:
                await self.call("open", "POST", base + "/open", agent, {})
                continue
            if r is None or r.status_code != 200:
                await self.nap(min(3.0, cycle / 3))
                continue
            service = r.json().get("service")
            if not await self.nap(cycle * self.rng.uniform(0.1, 0.3)):
                break
            if self.rng.random() < 0.10:
                await self.call("recall", "POST", base + "/recall", agent, {})
                await self.nap(cycle * 0.1)
            if self.rng.random() < 0.08:
                await self.call("no-show", "POST", base + "/no-show", agent, {})
                continue
            await self.call("start", "POST", base + "/start", agent, {})
            await self.nap(cycle * self.rng.uniform(0.3, 0.6))
            if self.rng.random() < 0.05:
                to = self.rng.choice([s for s in SERVICES if s != service])
                await self.call("transfer", "POST", base + "/transfer", agent, {"service": to})
            else:
                await self.call("complete", "POST", base + "/complete", agent, {})
            if self.rng.random() < 0.04:
                await self.call("pause", "POST", base + "/pause", agent, {})
                await self.nap(cycle * self.rng.uniform(0.5, 1.5))
                await self.call("open", "POST", base + "/open", agent, {})
        with contextlib.suppress(Exception):  # leave the counter free
            await self.call("complete", "POST", base + "/complete", agent, {})

    async def day_closer(self) -> None:
        while await self.nap(self.day_s):
            await self.call("close-day", "POST", f"/v1/sites/{SITE}/close-day",
                            self.token("admin"), {})

    async def org_jobs(self) -> None:
        """An organisation job every ``job_every_s`` (at most ``max_jobs`` open); one nobody
        took for ten minutes is cancelled."""
        admin = self.token("admin")
        open_jobs: dict[str, float] = {}  # id → created (monotonic)
        n = 0
        while await self.nap(self.job_every_s):
            for jid, since in list(open_jobs.items()):
                r = await self.call("job", "GET", f"/v1/jobs/{jid}", admin)
                status = r.json().get("status") if r is not None and r.status_code == 200 \
                    else None
                if status in ("done", "failed", "cancelled"):
                    self.tally[f"job_{status}"] += 1
                    del open_jobs[jid]
                elif status in ("new", "offered", "unassignable") and \
                        time.monotonic() - since > 600:
                    await self.call("job_cancel", "POST", f"/v1/jobs/{jid}/cancel", admin, {})
                    del open_jobs[jid]
            if len(open_jobs) >= self.max_jobs:
                self.tally["job skipped_full"] += 1
                continue
            n += 1
            home = TECHS[n % len(TECHS)][1]
            r = await self.call("job_create", "POST", f"/v1/regions/{REGION}/jobs", admin, {
                "location": {"lat": home[0] + self.rng.uniform(-0.02, 0.02),
                             "lon": home[1] + self.rng.uniform(-0.02, 0.02)},
                "skills": [SKILL], "duration_s": 600, "org": ORG,
                "customer": f"Ward {n % 40 + 1}"})
            if r is not None and r.status_code == 201:
                open_jobs[r.json()["id"]] = time.monotonic()


# -- the pages -------------------------------------------------------------------------------

def page_url(kind: str, base: str, token: Any) -> str:
    if kind == "board":
        return f"{base}/board/{SITE}?token={token('display', site=SITE)}"
    if kind == "counter":
        return (f"{base}/counter/{SITE}/{CONSOLE_COUNTER}?token="
                f"{token('agent', site=SITE, counter=CONSOLE_COUNTER)}&lang=en")
    if kind == "supervise":
        return f"{base}/supervise/{SITE}?token={token('supervisor', site=SITE)}&lang=en"
    return f"{base}/org/{ORG}?token={token('org', org=ORG)}&lang=en"


@dataclass
class Screen:
    kind: str
    page: Any
    cdp: Any
    errors: list[str] = field(default_factory=list)

    async def sample(self, t: float, gc: bool) -> dict[str, Any]:
        if gc:
            # Twice, a moment apart: DOM nodes and their listeners are counted until the
            # sweep after a collection has freed them (one collection leaves many counted).
            await self.cdp.send("HeapProfiler.collectGarbage")
            await asyncio.sleep(0.3)
            await self.cdp.send("HeapProfiler.collectGarbage")
        got = await self.cdp.send("Performance.getMetrics")
        values: dict[str, float] = {}
        for m in got.get("metrics", []):
            if m["name"] in METRICS:
                name, scale = METRICS[m["name"]]
                values[name] = round(float(m["value"]) * scale, 4)
        g = GLOBAL[self.kind]
        await self.page.evaluate(HOOK, g)  # again after a reload (it never should)
        extra = await self.page.evaluate(
            f"() => {{ const g = window.{g}; if (!g) return null;"
            f" const n = g.client?.__sbSoak ?? {{}};"
            f" return {{ msgs: n.msgs ?? 0, events: n.events ?? 0,"
            f" snapshots: n.snapshots ?? 0, connects: g.client?.connects ?? 0,"
            f" state: {STATE[self.kind]} }}; }}")
        if extra:
            for k in ("msgs", "events", "snapshots", "connects"):
                values[k] = float(extra[k])
            for k, v in extra["state"].items():
                values[f"state_{k}"] = float(v)
        return {"t": round(t, 1), "values": values}

    async def heap_snapshot(self, path: Path) -> None:
        chunks: list[str] = []

        def chunk(e: dict[str, Any]) -> None:
            chunks.append(e["chunk"])

        self.cdp.on("HeapProfiler.addHeapSnapshotChunk", chunk)
        try:
            await self.cdp.send("HeapProfiler.collectGarbage")
            await self.cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
        finally:
            self.cdp.remove_listener("HeapProfiler.addHeapSnapshotChunk", chunk)
        await asyncio.to_thread(path.write_text, "".join(chunks))


async def open_screens(browser: Any, kinds: list[str], base: str, token: Any,
                       console: Any) -> list[Screen]:
    sizes = {"board": (1920, 1080)}
    screens = []
    for kind in kinds:
        w, h = sizes.get(kind, (1440, 900))
        ctx = await browser.new_context(locale="en-US", viewport={"width": w, "height": h})
        page = await ctx.new_page()
        screen = Screen(kind, page, await ctx.new_cdp_session(page))
        page.on("pageerror", lambda e, s=screen: s.errors.append(str(e)[:300]))
        page.on("crash", lambda p, s=screen: s.errors.append("crash"))
        page.on("console", lambda m, s=screen: m.type == "error" and s.errors.append(
            "console: " + m.text[:300]))
        await page.goto(page_url(kind, base, token), wait_until="load")
        deadline = time.monotonic() + 30
        while not await page.evaluate(HOOK, GLOBAL[kind]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: window.{GLOBAL[kind]} never came")
            await asyncio.sleep(0.2)
        await screen.cdp.send("Performance.enable")
        console.log(f"opened {kind}")
        screens.append(screen)
    return screens


# -- the run ---------------------------------------------------------------------------------

async def _run(args: argparse.Namespace, target: Any, console: Any,
               warmup: float) -> dict[str, Any]:
    import httpx
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise SystemExit("screens_soak needs Playwright, which the test extra installs: "
                         "pip install -e '.[test]' (and Debian's chromium)") from None

    # Playwright must never fetch a browser: an empty browsers folder makes a stray default
    # launch fail instead.
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = tempfile.mkdtemp(prefix="no-browsers-")
    dispatch = "org" in args.pages
    drive = Drive(target.base, target.secret, time.monotonic() + args.duration,
                  args.calls_per_s, args.max_waiting, args.day_s, args.job_every_s,
                  args.max_jobs, dispatch, random.Random(args.seed))
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in args.pages}
    heaps: dict[str, list[str]] = {k: [] for k in args.pages}
    sim: asyncio.subprocess.Process | None = None
    async with httpx.AsyncClient(base_url=target.base, timeout=20) as http, \
            async_playwright() as pw:
        drive.http = http
        await drive.prepare()
        browser = await pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        chromium_version = browser.version
        try:
            screens = await open_screens(browser, args.pages, target.base, drive.token,
                                         console)
            if dispatch:
                sim = await _device_sim(target.base, drive.token("admin"), args.duration,
                                        Path(args.out) / "device_sim.log")
            t0 = time.monotonic()
            drive.deadline = t0 + args.duration
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sampling(screens, samples, heaps, t0, args,
                                                    console, drive, stop))
            await drive.run()
            load_s = time.monotonic() - t0
            stop.set()  # the round under way (and its heap snapshots) completes
            await sampler
            # One last sample after the activity, so the series ends where the load did.
            for s in screens:
                with contextlib.suppress(Exception):
                    samples[s.kind].append(await s.sample(time.monotonic() - t0,
                                                          not args.no_gc))
            errors = {s.kind: s.errors[:20] for s in screens if s.errors}
        finally:
            if sim is not None and sim.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    sim.send_signal(signal.SIGTERM)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(sim.wait(), 20)
                if sim.returncode is None:
                    sim.kill()
                    await sim.wait()
            await browser.close()
    heap_diff = {k: _compare_heaps(files) for k, files in heaps.items() if len(files) >= 2}
    return {"samples": samples, "load_s": round(load_s, 1), "warmup_s": warmup,
            "growth": {k: growth_table(v, warmup) for k, v in samples.items()},
            "tally": dict(sorted(drive.tally.items())), "page_errors": errors,
            "heap_diff": heap_diff, "chromium": chromium_version}


async def _device_sim(base: str, admin: str, duration: float,
                      log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as f:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clients.device_sim", "--base", base, "--token", admin,
            "--region", REGION, "--techs", ",".join(t for t, _ in TECHS),
            "--speed-kmh", "60", "--time-scale", "20", "--accept", "1",
            "--minutes", f"{duration / 60 + 0.2:.2f}", stdout=f, stderr=subprocess.STDOUT)


async def _sampling(screens: list[Screen], samples: dict[str, list[dict[str, Any]]],
                    heaps: dict[str, list[str]], t0: float, args: argparse.Namespace,
                    console: Any, drive: Drive, stop: asyncio.Event) -> None:
    due = time.monotonic()
    heap_at = list(args.heap_at)
    while not stop.is_set():
        t = time.monotonic() - t0
        for s in screens:
            try:
                samples[s.kind].append(await s.sample(t, not args.no_gc))
            except Exception as exc:  # one failed sample must not end the sampling
                drive.tally[f"sample_error {s.kind} {type(exc).__name__}"] += 1
                continue
            with (Path(args.out) / "samples.jsonl").open("a") as f:  # a run cut short keeps them
                f.write(json.dumps({"page": s.kind, **samples[s.kind][-1]}) + "\n")
        if heap_at and t >= heap_at[0]:
            heap_at.pop(0)
            await _heap_snapshots(screens, heaps, t, args.out, drive)
        line = " | ".join(
            f"{k} {v[-1]['values'].get('heap_mb', 0):.2f} MB {v[-1]['values'].get('nodes', 0):.0f}"
            f" nodes {v[-1]['values'].get('listeners', 0):.0f} lst" for k, v in samples.items()
            if v)
        calls = drive.tally.get("call-next 200", 0)
        console.log(f"{t:6.0f} s  calls {calls}  {line}")
        due += args.sample_every
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))
    if heap_at:  # still due when the activity ended (a slow machine): taken now, once
        await _heap_snapshots(screens, heaps, time.monotonic() - t0, args.out, drive)


async def _heap_snapshots(screens: list[Screen], heaps: dict[str, list[str]], t: float,
                          out: str, drive: Drive) -> None:
    for s in screens:
        path = Path(out) / f"{s.kind}-{int(t)}s.heapsnapshot"
        try:
            await s.heap_snapshot(path)
            heaps[s.kind].append(str(path))
        except Exception as exc:
            drive.tally[f"heap_error {s.kind} {type(exc).__name__}"] += 1


# -- arithmetic ------------------------------------------------------------------------------

def verdict(name: str, points: list[tuple[float, float]], warmup_s: float) -> dict[str, Any]:
    """The growth of one page metric after the warm-up: least-squares slope per hour, and
    ``flat`` / ``levels off`` / ``grows`` / ``falls`` (soak_stats.classify: a slope counts
    past MIN_T standard errors and past its floor or SHARE of its level over a day).
    Counters (RATES) get ``rate``."""
    from loadtest.soak_stats import after_warmup, classify, slope_per_hour, slope_t
    if not points:
        return {"metric": name, "samples": 0, "verdict": "no data"}
    after = after_warmup(points, warmup_s)
    slope = slope_per_hour(after)
    late = slope_per_hour(after[len(after) // 2:])
    level = sum(v for _, v in after) / len(after)
    # The least of the first and of the last quarter after the warm-up: what a page keeps,
    # without the garbage a collection leaves counted for a moment (nodes held by the
    # browser's bounded performance-entry buffers, such as layout-shift sources).
    q = max(1, len(after) // 4)
    row: dict[str, Any] = {"metric": name, "samples": len(points), "start": points[0][1],
                           "after_warmup": after[0][1], "end": points[-1][1],
                           "min": min(v for _, v in points), "max": max(v for _, v in points),
                           "floor_first": min(v for _, v in after[:q]),
                           "floor_last": min(v for _, v in after[-q:]),
                           "per_hour": round(slope, 4), "late_per_hour": round(late, 4)}
    if name in RATES:
        row["verdict"] = "rate"
        return row
    floor = FLOORS.get(name, 5.0)
    tol = max(floor, SHARE * abs(level))
    t_stat = slope_t(after)
    row["t"] = round(t_stat, 1) if math.isfinite(t_stat) else None
    row["per_day_tolerance"] = round(tol, 3)
    row["verdict"] = classify(slope, late, t_stat, tol)
    return row


def growth_table(samples: list[dict[str, Any]], warmup_s: float) -> list[dict[str, Any]]:
    from loadtest.soak_stats import series_of
    return [verdict(name, pts, warmup_s) for name, pts in series_of(samples).items()]


def heap_summary(text: str) -> dict[str, tuple[int, int]]:
    """A V8 heap snapshot (JSON) → {"type:constructor": (count, self bytes)}."""
    snap = json.loads(text)
    meta = snap["snapshot"]["meta"]
    fields = meta["node_fields"]
    types = meta["node_types"][0]
    width = len(fields)
    i_type, i_name, i_size = fields.index("type"), fields.index("name"), fields.index("self_size")
    nodes, strings = snap["nodes"], snap["strings"]
    out: dict[str, list[int]] = {}
    for i in range(0, len(nodes), width):
        kind = types[nodes[i + i_type]]
        if kind in ("hidden", "synthetic", "code"):
            continue
        name = strings[nodes[i + i_name]] if kind in ("object", "closure", "native") else ""
        key = f"{kind}:{re.sub(r'[0-9a-f]{8,}', '…', name)[:60]}"
        c = out.setdefault(key, [0, 0])
        c[0] += 1
        c[1] += nodes[i + i_size]
    return {k: (v[0], v[1]) for k, v in out.items()}


def _compare_heaps(files: list[str], top: int = 15) -> list[dict[str, Any]]:
    first = heap_summary(Path(files[0]).read_text())
    last = heap_summary(Path(files[-1]).read_text())
    rows: list[dict[str, Any]] = []
    for key in set(first) | set(last):
        (n0, b0), (n1, b1) = first.get(key, (0, 0)), last.get(key, (0, 0))
        if n1 != n0 or b1 != b0:
            rows.append({"what": key, "count": n1 - n0, "bytes": b1 - b0, "count_end": n1})
    rows.sort(key=lambda r: -r["bytes"])
    return rows[:top]


# -- reporting -------------------------------------------------------------------------------

SHOWN = ("heap_mb", "nodes", "listeners", "documents", "layout_objects", "audio_handlers",
         "detached_script_states")


def print_report(r: dict[str, Any], console: Any) -> None:
    from rich.table import Table
    for kind, rows in r["growth"].items():
        t = Table(title=f"{kind}: {r['load_s']:g} s of activity, "
                        f"{len(r['samples'][kind])} samples, slopes after {r['warmup_s']:g} s")
        for col in ("metric", "start", "end", "least, first ¼", "least, last ¼", "per hour",
                    "verdict"):
            t.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
        by = {row["metric"]: row for row in rows}
        order = [m for m in SHOWN if m in by] + sorted(
            m for m in by if m not in SHOWN and (m.startswith("state_") or m in RATES))
        for m in order:
            row = by[m]
            if not row.get("samples"):
                continue
            t.add_row(m, f"{row['start']:,.2f}", f"{row['end']:,.2f}",
                      f"{row['floor_first']:,.2f}", f"{row['floor_last']:,.2f}",
                      f"{row['per_hour']:+,.2f}", row["verdict"])
        console.print(t)
        for d in r.get("heap_diff", {}).get(kind, [])[:8]:
            console.print(f"  heap diff {d['what']}: {d['count']:+d} objects, "
                          f"{d['bytes']:+,d} bytes")
    if r["page_errors"]:
        console.print(f"[yellow]page errors: {r['page_errors']}[/]")
    bad = {k: v for k, v in r["tally"].items() if k.endswith(" 500") or "Error" in k}
    if bad:
        console.print(f"[yellow]driver errors / 5xx: {bad}[/]")


def _about(args: argparse.Namespace, started: datetime, warmup: float) -> dict[str, Any]:
    from importlib.metadata import version

    from loadtest.servers import versions
    about: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m loadtest.screens_soak " + " ".join(sys.argv[1:]),
        "params": {k: v for k, v in vars(args).items()},
        "versions": {**versions("switchboard"), "playwright": version("playwright")},
        "machine": {"nproc": os.cpu_count(), "cpu": _cpu_model(), "arch": platform.machine()}}
    return about


def _commit() -> str | None:
    """The checkout's commit, and ``+changes`` when its tracked files differ from it."""
    here = Path(__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5, cwd=here).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], timeout=20, cwd=here)
    except (OSError, subprocess.SubprocessError):
        return None
    return head + (" +changes" if dirty.returncode == 1 else "") if head else None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


if __name__ == "__main__":
    raise SystemExit(main())
