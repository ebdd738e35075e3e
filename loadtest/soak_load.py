"""The soak test's load: a few sites' day, over and over, with clients that come and go.

Per site: kiosks take tickets (Poisson arrivals, an ``Idempotency-Key`` each), counters call,
start and complete them (now and then a no-show), a few tickets are cancelled by their
holders, and the day is closed every ``day_s``. Waiting-room boards, counter consoles and
phone trackers connect, subscribe, stay a while, disconnect (cleanly or by dropping the
socket) and come back with ``since``: churning connections is where per-connection state
is left behind. Technicians' devices (msgpack) send a GPS fix a second. Bad input runs all
along: malformed and oversize frames, unknown ops, topics and ids, bad tokens, sockets that
never authenticate or never finish their headers, oversize and malformed HTTP bodies. Once a
minute a short-lived token is revoked while its board is connected. One site more has tickets
and counters but no screen, and one takes only appointments booked online (no ticket, so no
hub has its feed).

Everything stops at ``deadline`` (monotonic); every client is bounded in number.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from loadtest.backends import SwitchboardAPI
from loadtest.scenarios import site_config
from loadtest.wsclient import WSClient, connect
from realtime.auth import make_token
from realtime.protocol import JSON, MSGPACK

TERMINAL = {"called", "completed", "cancelled", "no_show", "served"}
REGION = "soakr"


@dataclass
class Shape:
    """How much load: per site unless said."""

    sites: int = 3
    services: int = 4
    counters: int = 6
    boards: int = 8
    headless: int = 1  # sites more, with tickets and counters but no websocket client
    booking_sites: int = 1  # sites more that only take appointments online (no ticket)
    bookings_per_s: float = 0.1  # per booking site
    arrivals_per_s: float = 0.3
    phone_share: float = 0.6
    max_phones: int = 200  # in all
    devices: int = 10  # in all (0: no dispatch)
    day_s: float = 900.0
    abuse_every_s: float = 2.0
    revoke_every_s: float = 60.0
    stay_s: tuple[float, float] = (20.0, 120.0)  # how long a screen stays before it drops


@dataclass
class Load:
    api: SwitchboardAPI
    port: int
    shape: Shape
    deadline: float
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    tally: Tally[str] = field(default_factory=Tally)
    open_ws: Tally[str] = field(default_factory=Tally)
    phones: int = 0
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _tokens: dict[tuple[str, ...], str] = field(default_factory=dict)

    # -- plumbing ------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def left(self) -> float:
        return self.deadline - time.monotonic()

    async def nap(self, seconds: float) -> bool:
        """Sleep, but not past the deadline; False once it has passed."""
        await asyncio.sleep(max(0.0, min(seconds, self.left())))
        return self.left() > 0

    def spawn(self, coro: Awaitable[Any], cap: int = 400) -> None:
        if len(self._tasks) >= cap:
            self.tally["spawn_refused"] += 1
            coro.close()  # type: ignore[attr-defined]
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.tally[f"driver_error {type(task.exception()).__name__}"] += 1

    async def post(self, what: str, path: str, token: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response | None:
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        try:
            r = await self.api.http.post(path, json=body, headers=h)
        except httpx.HTTPError as exc:
            self.tally[f"{what} {type(exc).__name__}"] += 1
            return None
        self.tally[f"{what} {r.status_code}"] += 1
        return r

    def token(self, role: str, **scope: str) -> str:
        """One token per device, kept, as a deployment gives them (a kiosk's lasts a year):
        the server's cache of verified tokens then holds devices, not requests."""
        key = (role, *sorted(f"{k}={v}" for k, v in scope.items()))
        tok = self._tokens.get(key)
        if tok is None:
            tok = self._tokens[key] = self.api.token(role, **scope)
        return tok

    def admin(self) -> str:
        return self.token("admin")

    def sites(self, headless: bool = True) -> list[str]:
        """``soak0`` … with screens and phones, then ``soakapi0`` … with none (an API-only
        site: a partner or SMS channel, or a hall whose screens are all off)."""
        sh = self.shape
        return [f"soak{k}" for k in range(sh.sites)] + (
            [f"soakapi{k}" for k in range(sh.headless)] if headless else [])

    # -- set-up --------------------------------------------------------------------------

    async def prepare(self) -> None:
        sh = self.shape
        n_svc = sh.services
        for site in self.sites():
            await self.api.put_site(site, site_config(
                n_svc, sh.counters, lambda i: [f"s{i % n_svc}", f"s{(i + 1) % n_svc}"],
                name=site))
        if sh.devices:
            await self._prepare_region()
        await self._prepare_bookings()

    async def _prepare_bookings(self) -> None:
        from loadtest.rush import schedule
        for k in range(self.shape.booking_sites):
            site = f"soakbook{k}"
            await self.api.put_site(site, site_config(1, 1, lambda i: ["s0"], name=site))
            r = await self.api.http.put(f"/v1/sites/{site}/booking", json=schedule(600),
                                        headers={"Authorization": f"Bearer {self.admin()}"})
            r.raise_for_status()

    async def _prepare_region(self) -> None:
        h = {"Authorization": f"Bearer {self.admin()}"}
        http = self.api.http
        r = await http.put(f"/v1/regions/{REGION}", headers=h, json={
            "name": "Soak city", "timezone": "UTC", "policy": {"offer_timeout_s": 120},
            "zones": [{"id": "all", "polygon": [[4.7, 52.2], [5.1, 52.2], [5.1, 52.6],
                                                [4.7, 52.6]]}]})
        r.raise_for_status()
        now = int(time.time() * 1000)
        for i in range(self.shape.devices):
            tid = f"{REGION}.t{i}"
            r = await http.put(f"/v1/technicians/{tid}", headers=h, json={
                "name": f"Tech{i}", "home": {"lat": 52.3 + i * 0.01, "lon": 4.8},
                "shift": {"start": "00:00", "end": "24:00"}})
            r.raise_for_status()
            r = await http.post(f"/v1/technicians/{tid}/actions", headers=h, json={
                "actions": [{"aid": f"on-{i}", "k": "online", "t": now}]})
            r.raise_for_status()

    # -- the run -------------------------------------------------------------------------

    async def run(self) -> None:
        sh = self.shape
        jobs: list[Awaitable[Any]] = []
        everywhere = self.sites()
        for k, site in enumerate(everywhere):
            jobs.append(self.arrivals(site))
            jobs.append(self.day_closer(site, sh.day_s * (k + 1) / len(everywhere)))
            for c in range(sh.counters):
                jobs.append(self.counter(site, f"c{c}"))
            if site not in self.sites(headless=False):
                continue
            for c in range(sh.counters):
                token = self.token("agent", site=site, counter=f"c{c}")
                jobs.append(Watcher(self, f"counter:{site}:c{c}", token, "console").churn())
            display = self.token("display", site=site)
            for _ in range(sh.boards):
                jobs.append(Watcher(self, f"board:{site}", display, "board").churn())
        for i in range(sh.devices):
            jobs.append(Device(self, i).churn())
        for k in range(sh.booking_sites):
            jobs.append(self.bookings(f"soakbook{k}"))
        jobs.append(self.abuser())
        jobs.append(self.revoker())
        await asyncio.gather(*jobs)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)

    async def arrivals(self, site: str) -> None:
        n = 0
        while await self.nap(self.rng.expovariate(self.shape.arrivals_per_s)):
            n += 1
            kiosk = self.token("kiosk", site=site, subject=f"soak:kiosk:{n % 20}")
            r = await self.post("issue", f"/v1/sites/{site}/tickets", kiosk,
                                {"service": f"s{n % self.shape.services}", "channel": "kiosk"},
                                {"Idempotency-Key": f"{site}-{n}-{time.time_ns()}"})
            if r is None or r.status_code != 201:
                continue
            t = r.json()
            if self.rng.random() < 0.05:
                self.spawn(self.cancel_later(t))
            elif self.rng.random() < self.shape.phone_share and \
                    self.phones < self.shape.max_phones and not site.startswith("soakapi"):
                self.spawn(Watcher(self, f"ticket:{t['id']}", t["token"], "phone").follow())

    async def bookings(self, site: str) -> None:
        """Appointments booked online for the next two weeks: events in the site's stream
        with no ticket issued and no screen on (so no feed on any hub)."""
        from datetime import UTC, datetime, timedelta
        kiosk = self.token("kiosk", site=site, subject="soak:web")
        h = {"Authorization": f"Bearer {self.admin()}"}
        slots: dict[str, list[str]] = {}
        n = 0
        while await self.nap(self.rng.expovariate(self.shape.bookings_per_s)):
            n += 1
            day = (datetime.now(UTC).date() + timedelta(days=2 + n % 14)).isoformat()
            if not slots.get(day):
                try:
                    r = await self.api.http.get(f"/v1/sites/{site}/availability", headers=h,
                                                params={"service": "s0", "date": day})
                    body = r.json()
                except (httpx.HTTPError, ValueError) as exc:
                    self.tally[f"availability {type(exc).__name__}"] += 1
                    continue
                rows = body if isinstance(body, list) else body.get("slots", [])
                slots[day] = [row["slot"] for row in rows if int(row["remaining"]) > 0]
            if slots[day]:
                await self.post("book", f"/v1/sites/{site}/bookings", kiosk, {
                    "slot": slots[day].pop(), "customer": f"web{n}", "channel": "kiosk"})

    async def cancel_later(self, t: dict[str, Any]) -> None:
        if await self.nap(self.rng.uniform(5, 60)):
            await self.post("cancel", f"/v1/tickets/{t['id']}/cancel", t["token"], {})

    async def counter(self, site: str, counter: str) -> None:
        token = self.token("agent", site=site, counter=counter)
        base = f"/v1/sites/{site}/counters/{counter}"
        await self.nap(self.rng.uniform(0, 5))
        while self.left() > 0:
            r = await self.post("call-next", base + "/call-next", token)
            if r is not None and r.status_code == 409 and b"counter_not_open" in r.content:
                # The day close closed the counter: the next day's agent opens it again.
                await self.post("open", base + "/open", token)
                continue
            if r is None or r.status_code != 200:
                await self.nap(self.rng.uniform(2, 5))
                continue
            if not await self.nap(self.rng.uniform(1, 4)):
                break
            if self.rng.random() < 0.08:
                await self.post("no-show", base + "/no-show", token)
                continue
            await self.post("start", base + "/start", token)
            await self.nap(self.rng.uniform(3, 12))
            await self.post("complete", base + "/complete", token)
        with contextlib.suppress(httpx.HTTPError):  # leave the counter free for next time
            await self.api.http.post(base + "/complete", headers={
                "Authorization": f"Bearer {token}"})

    async def day_closer(self, site: str, first_s: float) -> None:
        wait = first_s
        while await self.nap(wait):
            await self.post("close-day", f"/v1/sites/{site}/close-day", self.admin(), {})
            wait = self.shape.day_s

    # -- bad input and revocations -------------------------------------------------------

    async def abuser(self) -> None:
        kinds: list[Callable[[], Awaitable[None]]] = [
            self.bad_frames, self.bad_token, self.never_auth, self.flood, self.dropped,
            self.bad_http, self.slow_headers]
        i = 0
        while await self.nap(self.rng.uniform(0.5, 1.5) * self.shape.abuse_every_s):
            kind = kinds[i % len(kinds)]
            i += 1
            self.tally[f"abuse {kind.__name__}"] += 1
            self.spawn(kind(), cap=400)

    async def _open(self, query: str = "", on: Callable[[bytes, int], None] | None = None,
                    kind: str = JSON) -> WSClient | None:
        try:
            return await connect(self.ws_url + query, on or (lambda p, o: None), kind, 10)
        except (OSError, ConnectionError, TimeoutError) as exc:
            self.tally[f"ws_open_failed {type(exc).__name__}"] += 1
            return None

    async def _closed_within(self, ws: WSClient, seconds: float) -> int | None:
        """Wait for the server to close ``ws``; its close code, or None (then abort)."""
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

        def closed(code: int | None) -> None:
            if not done.done():
                done.set_result(code)

        ws.on_close = closed
        if ws.closed:
            return ws.close_code
        try:
            return await asyncio.wait_for(done, seconds)
        except TimeoutError:
            ws.abort()
            return None

    async def bad_frames(self) -> None:
        site = f"soak{self.rng.randrange(self.shape.sites)}"
        errors: list[str] = []

        def on(payload: bytes, opcode: int) -> None:
            with contextlib.suppress(msgspec.DecodeError):
                m = msgspec.json.decode(payload)
                if isinstance(m, dict) and m.get("op") == "error":
                    errors.append(str(m.get("code")))

        ws = await self._open("?token=" + self.token("display", site=site), on)
        if ws is None:
            return
        for frame in (b"not json{", b'{"op":"dance"}', b'{"op":"subscribe"}',
                      b'{"op":"subscribe","topic":"ticket:' + site.encode() + b'.nope1"}',
                      b'{"op":"subscribe","topic":"board:nosuchsite"}',
                      b'{"op":"unsubscribe","topic":"board:' + site.encode() + b'"}',
                      b'{"op":"subscribe","topic":"board:' + site.encode()
                      + b'","since":{"epoch":"x","offset":"99999999999999-0"}}',
                      b'{"op":"ping","pad":"' + b"x" * 70_000 + b'"}'):
            ws.send_text(frame)
        await self.nap(1.0)
        for code in errors:
            self.tally[f"ws_error {code}"] += 1
        ws.close() if self.rng.random() < 0.5 else ws.abort()

    async def bad_token(self) -> None:
        ws = await self._open("?token=not.a.token")
        if ws is not None:
            self.tally[f"bad_token closed {await self._closed_within(ws, 5)}"] += 1

    async def never_auth(self) -> None:
        ws = await self._open()
        if ws is not None:  # the server gives up at SWITCHBOARD_WS_AUTH_TIMEOUT_S (10 s)
            self.tally[f"never_auth closed {await self._closed_within(ws, 20)}"] += 1

    async def flood(self) -> None:
        site = f"soak{self.rng.randrange(self.shape.sites)}"
        ws = await self._open("?token=" + self.token("display", site=site))
        if ws is None:
            return
        for _ in range(40):
            ws.send_text(b'{"op":"nope"}')
        self.tally[f"flood closed {await self._closed_within(ws, 5)}"] += 1

    async def dropped(self) -> None:
        """Subscribe and drop the socket at once, with no close frame."""
        site = f"soak{self.rng.randrange(self.shape.sites)}"
        ws = await self._open("?token=" + self.token("display", site=site))
        if ws is not None:
            ws.send_text(msgspec.json.encode({"op": "subscribe", "topic": f"board:{site}"}))
            await asyncio.sleep(self.rng.uniform(0, 0.2))
            ws.abort()

    async def bad_http(self) -> None:
        site = f"soak{self.rng.randrange(self.shape.sites)}"
        admin = self.admin()
        http = self.api.http
        kiosk = {"Authorization": "Bearer " + self.token("kiosk", site=site,
                                                          subject="soak:kiosk:bad")}
        calls = [("unknown_ticket", http.get(f"/v1/tickets/{site}.nope",
                                             headers={"Authorization": f"Bearer {admin}"})),
                 ("oversize", http.post(f"/v1/sites/{site}/tickets", headers=kiosk,
                                        content=b'{"service":"' + b"s" * 100_000 + b'"}')),
                 ("bad_json", http.post(f"/v1/sites/{site}/tickets", headers=kiosk,
                                        content=b"{nope")),
                 ("no_auth", http.post(f"/v1/sites/{site}/tickets", json={"service": "s0"})),
                 ("unknown_op", http.post(f"/v1/sites/{site}/counters/c0/dance",
                                          headers={"Authorization": f"Bearer {admin}"})),
                 ("unknown_site", http.get("/v1/sites/nosuchsite",
                                           headers={"Authorization": f"Bearer {admin}"}))]
        for what, call in calls:
            try:
                r = await call
                self.tally[f"bad_http {what} {r.status_code}"] += 1
            except httpx.HTTPError as exc:
                self.tally[f"bad_http {what} {type(exc).__name__}"] += 1

    async def slow_headers(self) -> None:
        """Half a request, then nothing: the server must close it (its header deadline)."""
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            self.tally["slow_headers open_failed"] += 1
            return
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            got = await asyncio.wait_for(reader.read(), 30)
            self.tally["slow_headers closed" + (" with bytes" if got else "")] += 1
        except (TimeoutError, OSError) as exc:
            self.tally[f"slow_headers {type(exc).__name__}"] += 1
        finally:
            writer.close()

    async def revoker(self) -> None:
        """A board on a short-lived token, revoked while connected: it must be closed."""
        n = 0
        while await self.nap(self.shape.revoke_every_s):
            n += 1
            tok = make_token(self.api.secret, "display", site="soak0",
                             subject=f"soak:revoked:{n}", ttl_s=90)
            ws = await self._open("?token=" + tok)
            if ws is None:
                continue
            ws.send_text(msgspec.json.encode({"op": "subscribe", "topic": "board:soak0"}))
            await asyncio.sleep(0.5)
            await self.post("revoke", "/v1/revocations", self.admin(), {"token": tok})
            self.tally[f"revoked closed {await self._closed_within(ws, 10)}"] += 1


class Watcher:
    """A board, console or phone: subscribes to one topic, keeps the last offset, and after
    each disconnect comes back with ``since`` (a resume, or a resync if history is gone)."""

    def __init__(self, load: Load, topic: str, token: str, kind: str,
                 subprotocol: str = JSON) -> None:
        self.load, self.topic, self.token, self.kind = load, topic, token, kind
        self.subprotocol = subprotocol
        self.since: dict[str, str] | None = None
        self.finished = False
        self._decode = (msgspec.json.decode if subprotocol == JSON
                        else msgspec.msgpack.decode)

    def encode(self, msg: dict[str, Any]) -> bytes:
        return (msgspec.json.encode(msg) if self.subprotocol == JSON
                else msgspec.msgpack.encode(msg))

    def on_message(self, payload: bytes, opcode: int) -> None:
        t = self.load.tally
        try:
            m = self._decode(payload)
        except msgspec.DecodeError:
            t[f"{self.kind} undecodable"] += 1
            return
        op = m.get("op")
        if op in ("snapshot", "event") and m.get("topic") == self.topic:
            self.since = {"epoch": m["epoch"], "offset": m["offset"]}
            t[f"{self.kind} {op}{' resync' if m.get('resync') else ''}"] += 1
            if self.kind == "phone" and m.get("type") in TERMINAL:
                self.finished = True
        elif op == "error":
            t[f"{self.kind} error {m.get('code')}"] += 1
            if m.get("code") in ("unknown_topic", "forbidden"):
                self.finished = True

    async def session(self, stay_s: float) -> None:
        load = self.load
        ws = await load._open("?token=" + self.token, self.on_message, self.subprotocol)
        if ws is None:
            return
        load.open_ws[self.kind] += 1
        try:
            sub: dict[str, Any] = {"op": "subscribe", "topic": self.topic}
            if self.since is not None:
                sub["since"] = self.since
            self.send(ws, sub)
            end = time.monotonic() + min(stay_s, max(0.0, load.left()))
            while time.monotonic() < end and not ws.closed and not self.finished:
                await self.tick(ws)
            if ws.closed:
                load.tally[f"{self.kind} closed_by_server {ws.close_code}"] += 1
            elif load.rng.random() < 0.7:
                ws.close()
            else:
                ws.abort()
        finally:
            load.open_ws[self.kind] -= 1

    def send(self, ws: WSClient, msg: dict[str, Any]) -> None:
        data = self.encode(msg)
        ws.send_text(data) if self.subprotocol == JSON else ws.send_binary(data)

    async def tick(self, ws: WSClient) -> None:
        await asyncio.sleep(0.5)

    async def churn(self) -> None:
        """A screen: stays a while, drops, comes back, until the deadline."""
        lo, hi = self.load.shape.stay_s
        if self.kind == "console":
            lo, hi = 3 * lo, 3 * hi
        await self.load.nap(self.load.rng.uniform(0, 10))
        while self.load.left() > 0:
            await self.session(self.load.rng.uniform(lo, hi))
            await self.load.nap(self.load.rng.uniform(0.5, 5))

    async def follow(self) -> None:
        """A phone: on its ticket until it is called (or gone), with a drop now and then."""
        load = self.load
        load.phones += 1
        try:
            give_up = time.monotonic() + 900
            while load.left() > 0 and not self.finished and time.monotonic() < give_up:
                await self.session(load.rng.uniform(10, 60))
                if not self.finished:
                    await load.nap(load.rng.uniform(1, 8))
            load.tally["phone done" if self.finished else "phone gave_up"] += 1
        finally:
            load.phones -= 1


class Device(Watcher):
    """A technician's device: msgpack, its ``tech:`` topic, a GPS fix a second."""

    def __init__(self, load: Load, i: int) -> None:
        tech = f"{REGION}.t{i}"
        super().__init__(load, f"tech:{tech}", load.token("tech", tech=tech), "device",
                         MSGPACK)
        self.lat, self.lon = 52.3 + i * 0.01, 4.8
        self.fix_t = 0

    async def tick(self, ws: WSClient) -> None:
        await asyncio.sleep(1.0)
        if ws.closed:
            return
        self.fix_t = max(int(time.time() * 1000), self.fix_t + 1)
        self.lat += 1e-5
        self.send(ws, {"op": "gps", "t": self.fix_t, "la": round(self.lat, 6), "lo": self.lon,
                       "s": 1.0, "a": 10.0})
        self.load.tally["gps sent"] += 1

    async def churn(self) -> None:
        lo, hi = self.load.shape.stay_s
        await self.load.nap(self.load.rng.uniform(0, 10))
        while self.load.left() > 0:
            await self.session(self.load.rng.uniform(2 * lo, 2 * hi))
            await self.load.nap(self.load.rng.uniform(0.5, 5))
