"""One generator process: holds its share of the connections and counts what arrives.

The parent drives it through a pipe: ``("start",)`` opens the measurement window,
``("stat",)`` asks for progress, ``("stop",)`` closes the window and returns the results,
``("close",)`` closes every connection and ends the process. No task per connection once
it is open: frames are parsed inside the protocol callback and counted there.

Latency is ``receipt − change`` in ms, with the change time taken from the server's own
clock in the message (a Redis stream id, or the peer's ``ts``), into a 1 ms histogram.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any

from loadtest import dialects
from loadtest.dialects import Failed, Msg, Reply, Subscribed
from loadtest.wsclient import WSClient, connect

MAX_MS = 120_000  # the histogram's last bucket holds everything slower


class Conn:
    """One connection's bookkeeping: the sequence it is at and what it counted."""

    __slots__ = ("closed_by_server", "epoch", "fix_t", "fixes", "gaps", "gen", "got", "home",
                 "last", "offset", "proto", "ready", "seq", "state", "token", "topic",
                 "unordered")

    def __init__(self, gen: Generator, topic: str, token: str | None,
                 home: tuple[float, float] | None = None) -> None:
        self.gen = gen
        self.topic = topic
        self.token = token
        self.home = home  # a device: sends GPS fixes from here (``gps_hz``)
        self.fixes = 0
        self.fix_t = 0
        self.state: int | None = None  # the last state value seen (a position's fix time)
        self.proto: WSClient | None = None
        self.ready: asyncio.Future[None] | None = None
        self.seq: int | None = None
        self.got = 0  # sequenced messages seen once each
        self.gaps = 0  # sequence numbers skipped (lost events, or merged state)
        self.unordered = 0  # a sequence number seen again or going backwards
        self.epoch = ""
        self.offset = ""
        self.last = (0, 0)
        self.closed_by_server = False

    def bind(self, proto: WSClient) -> None:
        self.proto = proto
        proto.on_close = self.on_close

    def on_message(self, payload: bytes, opcode: int) -> None:
        gen = self.gen
        try:
            r = gen.parse(payload)
        except Exception as exc:  # a frame the dialect cannot read is an error, not a crash
            gen.count_error(f"unreadable frame: {exc}")
            return
        if type(r) is Msg:
            now = time.time() * 1000.0
            if gen.measuring:
                lat = int(now - r.ts_ms)
                gen.hist[lat if 0 <= lat < MAX_MS else (0 if lat < 0 else MAX_MS)] += 1
                gen.delivered += 1
            off = r.offset
            if off:
                ms, _, n = off.partition("-")
                key = (int(ms), int(n))
                if key <= self.last:
                    self.unordered += 1  # offsets must increase strictly per topic
                    return
                self.last = key
                self.offset = off
            if r.job and gen.accept_offers and self.proto is not None:
                # The technician accepts at once (its own action id: applied once).
                self.proto.send_binary(gen.dialect_encode(
                    {"op": "act", "aid": f"acc-{r.job}", "k": "accept",
                     "t": int(now), "j": r.job}))
            if not r.counted:
                if r.seq is not None:
                    self.state = r.seq
                return
            seq = r.seq
            if seq is None:
                self.got += 1
                return
            last = self.seq
            if last is None or seq == last + 1:
                self.got += 1
            elif seq > last + 1:
                self.gaps += seq - last - 1
                self.got += 1
            elif seq == last:
                return  # a state refresh that did not move the sequence
            else:
                self.unordered += 1
                return
            self.seq = seq
        elif type(r) is Subscribed:
            self.epoch, self.offset = r.epoch, r.offset
            if r.offset:
                ms, _, n = r.offset.partition("-")
                self.last = (int(ms), int(n))
            if r.seq is not None:
                self.seq = r.seq
            if r.resync:
                gen.resyncs += 1
            if r.status:
                gen.statuses[r.status] = gen.statuses.get(r.status, 0) + 1
            if self.ready is not None and not self.ready.done():
                self.ready.set_result(None)
        elif type(r) is Reply:
            proto = self.proto
            if proto is not None:
                for f in r.frames:
                    proto.send_text(f)
                if r.ready:
                    for f in gen.dialect.subscribe(self.topic):
                        proto.send_text(f)
        elif type(r) is Failed:
            gen.count_error(f"{r.code}: {r.message}")
            if self.ready is not None and not self.ready.done():
                self.ready.set_exception(ConnectionError(f"{r.code}: {r.message}"))

    def on_close(self, code: int | None) -> None:
        gen = self.gen
        if gen.closing:
            return
        self.closed_by_server = True
        gen.count_error(f"closed by the server (code {code})")
        gen.closes += 1
        if gen.dialect.resumable and gen.loop is not None:
            # Resume from the last offset seen, as a real client does (counts as a reconnect).
            gen.loop.create_task(gen.reopen(self))


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.dialect = dialects.make(spec["dialect"], spec.get("encoding", "json"))
        self.parse = self.dialect.parse
        self.host = spec.get("host", "127.0.0.1")
        self.port = int(spec["port"])
        self.conns = [Conn(self, c[0], c[1], tuple(c[2]) if len(c) > 2 and c[2] else None)
                      for c in spec["conns"]]
        self.gps_hz = float(spec.get("gps_hz") or 0)
        self.accept_offers = bool(spec.get("accept_offers"))
        self.dialect_encode = getattr(self.dialect, "encode", None) or (lambda m: b"")
        self.hist = [0] * (MAX_MS + 1)
        self.delivered = 0
        self.resyncs = 0
        self.closes = 0
        self.reconnects = 0
        self.errors = 0
        self.error_samples: dict[str, int] = {}
        self.failed_opens = 0
        self.statuses: dict[str, int] = {}  # snapshot statuses seen (rush: "confirmed")
        self.measuring = False
        self.sending = False  # devices send GPS fixes (from start until pause)
        self.closing = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.max_lag_ms = 0.0
        self._cpu0 = 0.0
        self._t0 = 0.0

    def count_error(self, what: str) -> None:
        self.errors += 1
        key = what[:120]
        if key in self.error_samples or len(self.error_samples) < 20:
            self.error_samples[key] = self.error_samples.get(key, 0) + 1

    # -- connections -----------------------------------------------------------------------

    def url(self, conn: Conn) -> str:
        return f"ws://{self.host}:{self.port}{self.dialect.path(conn.token)}"

    async def open(self, conn: Conn, since: tuple[str, str] | None = None,
                   attempts: int = 3) -> bool:
        for attempt in range(attempts):
            conn.ready = asyncio.get_running_loop().create_future()
            try:
                proto = await connect(self.url(conn), conn.on_message, self.dialect.subprotocol,
                                      timeout_s=60, made=conn.bind)
                if not self.dialect.wait_ready:
                    send = proto.send_binary if self.dialect.binary else proto.send_text
                    for f in self.dialect.subscribe(conn.topic, since):
                        send(f)
                await asyncio.wait_for(conn.ready, 60)
                return True
            except (OSError, TimeoutError, ConnectionError) as exc:
                if conn.proto is not None:
                    conn.proto.on_close = None
                    conn.proto.abort()
                    conn.proto = None
                if attempt == attempts - 1:
                    self.count_error(f"could not open: {type(exc).__name__}: {exc}")
                else:
                    await asyncio.sleep(0.2 * (attempt + 1))
        return False

    async def reopen(self, conn: Conn) -> None:
        await asyncio.sleep(0.1)
        self.reconnects += 1
        since = (conn.epoch, conn.offset) if conn.offset else None
        conn.closed_by_server = False
        await self.open(conn, since)

    async def open_all(self, concurrency: int) -> int:
        sem = asyncio.Semaphore(concurrency)

        async def one(c: Conn) -> bool:
            async with sem:
                return await self.open(c)

        ok = await asyncio.gather(*(one(c) for c in self.conns))
        self.failed_opens = ok.count(False)
        return ok.count(True)

    def close_all(self) -> None:
        self.closing = True
        for c in self.conns:
            if c.proto is not None:
                c.proto.close()

    # -- measurement -----------------------------------------------------------------------

    def start(self) -> None:
        self.hist = [0] * (MAX_MS + 1)
        self.delivered = self.resyncs = self.closes = self.reconnects = 0
        self.errors = 0
        self.error_samples = {}
        self.max_lag_ms = 0.0
        for c in self.conns:
            c.got = c.gaps = c.unordered = 0
        self.measuring = True
        self._cpu0 = _cpu_s()
        self._t0 = time.monotonic()

    def result(self) -> dict[str, Any]:
        self.measuring = False
        wall = max(1e-9, time.monotonic() - self._t0)
        per_topic: dict[str, list[int]] = {}
        fixes = stale = 0
        for c in self.conns:
            row = per_topic.setdefault(c.topic, [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += c.got
            row[2] += c.gaps
            row[3] += c.unordered
            row[4] += 1 if c.proto is not None and not c.proto.closed else 0
            if c.fixes:
                fixes += c.fixes
                # State is merged latest-wins: only a device whose last fix never came
                # back on its own topic lost something.
                stale += c.state != c.fix_t
        nz = {i: n for i, n in enumerate(self.hist) if n}
        return {"pid": os.getpid(), "delivered": self.delivered, "hist": nz,
                "per_topic": per_topic, "resyncs": self.resyncs, "closes": self.closes,
                "reconnects": self.reconnects, "errors": self.errors,
                "error_samples": self.error_samples, "failed_opens": self.failed_opens,
                "cpu_pct": round(100 * (_cpu_s() - self._cpu0) / wall, 1),
                "max_lag_ms": round(self.max_lag_ms, 1), "wall_s": round(wall, 2),
                "fixes_sent": fixes, "stale_positions": stale,
                "open": sum(r[4] for r in per_topic.values())}

    async def send_fixes(self) -> None:
        """Every device sends a GPS fix ``gps_hz`` times a second, spread over 50 ms
        slices, while the window is open; each fix moves it about a metre north."""
        devs = [c for c in self.conns if c.home is not None]
        if not devs or self.gps_hz <= 0:
            return
        slice_s = 0.05
        per_slice = max(1, round(len(devs) * self.gps_hz * slice_s))
        i = 0
        due = time.monotonic()
        while True:
            if self.sending:
                now_ms = int(time.time() * 1000)
                for _ in range(per_slice):
                    c = devs[i % len(devs)]
                    i += 1
                    if c.proto is None or c.proto.closed or c.home is None:
                        continue
                    t = max(now_ms, c.fix_t + 1)
                    c.fixes += 1
                    c.fix_t = t
                    c.proto.send_binary(self.dialect_encode(
                        {"op": "gps", "t": t, "la": round(c.home[0] + c.fixes * 1e-5, 6),
                         "lo": c.home[1], "s": 1.0, "a": 10.0}))
            due += slice_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def watch_lag(self) -> None:
        """The event loop's own delay: a saturated generator shows up here first."""
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.1)
            lag = (time.monotonic() - t - 0.1) * 1000
            if self.measuring and lag > self.max_lag_ms:
                self.max_lag_ms = lag


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _serve(spec: dict[str, Any], pipe: Connection) -> None:
    gen = Generator(spec)
    loop = asyncio.get_running_loop()
    gen.loop = loop
    lag = loop.create_task(gen.watch_lag())
    fixes = loop.create_task(gen.send_fixes())
    inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def read_commands() -> None:
        # A thread reads the pipe (blocking): watching its fd from the loop would make it
        # non-blocking, and a large result would then fail to send while the parent is busy.
        while True:
            try:
                cmd = pipe.recv()
            except (EOFError, OSError):
                cmd = ("close",)
            loop.call_soon_threadsafe(inbox.put_nowait, cmd)
            if cmd[0] == "close":
                return

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    t0 = time.monotonic()

    async def report() -> None:
        while True:
            await asyncio.sleep(0.5)
            n = sum(1 for c in gen.conns if c.ready is not None and c.ready.done()
                    and not c.ready.exception())
            pipe.send(("progress", {"pid": os.getpid(), "open": n}))

    reporter = loop.create_task(report())
    try:
        opened = await gen.open_all(int(spec.get("open_concurrency", 100)))
    finally:
        reporter.cancel()
    pipe.send(("ready", {"pid": os.getpid(), "open": opened, "failed": gen.failed_opens,
                         "open_s": round(time.monotonic() - t0, 2),
                         "errors": dict(gen.error_samples), "statuses": gen.statuses}))
    try:
        while True:
            cmd = await inbox.get()
            if cmd[0] == "start":
                gen.start()
                gen.sending = True
                pipe.send(("started", {}))  # the parent changes nothing before this
            elif cmd[0] == "pause":
                gen.sending = False
            elif cmd[0] == "stat":
                pipe.send(("stat", {"delivered": gen.delivered, "errors": gen.errors}))
            elif cmd[0] == "stop":
                pipe.send(("result", gen.result()))
            elif cmd[0] == "close":
                break
    finally:
        gen.close_all()
        await asyncio.sleep(0.2)
        for task in (lag, fixes):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def main(spec: dict[str, Any], pipe: Connection) -> None:
    """Entry point of a generator process (multiprocessing, spawn)."""
    _raise_nofile()
    try:
        import uvloop
        uvloop.run(_serve(spec, pipe))
    except ImportError:  # pragma: no cover
        asyncio.run(_serve(spec, pipe))


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def split(items: Iterable[Any], parts: int) -> list[list[Any]]:
    """Deal ``items`` round robin into ``parts`` lists."""
    out: list[list[Any]] = [[] for _ in range(parts)]
    for i, x in enumerate(items):
        out[i % parts].append(x)
    return out
