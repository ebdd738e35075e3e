"""How the load driver makes changes: Switchboard's real HTTP API, or a peer's publish.

Switchboard gets real queue operations (tickets issued at a kiosk, counters calling next
and completing), so every message the screens get went through Redis, the Lua scripts,
the stream, the hub's view and auth. A peer gets the message it should fan out, the way
an application built on it would emit it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import httpx
import msgspec

from loadtest.wsclient import WSClient, connect
from realtime.auth import make_token

KIOSKS = 1000  # simulated kiosks issuing tickets


class DriverStats:
    def __init__(self) -> None:
        self.ops = 0
        self.errors = 0
        self.error_samples: dict[str, int] = {}
        self.lat_ms: list[float] = []

    def error(self, what: str) -> None:
        self.errors += 1
        if what in self.error_samples or len(self.error_samples) < 10:
            self.error_samples[what] = self.error_samples.get(what, 0) + 1

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.lat_ms)
        p = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1)) if lat else \
            (lambda q: None)
        return {"ops": self.ops, "errors": self.errors, "error_samples": self.error_samples,
                "op_p50_ms": p(0.5), "op_p99_ms": p(0.99)}


class SwitchboardAPI:
    """The HTTP API of a Switchboard server, as counters, kiosks and an admin use it."""

    def __init__(self, base: str, secret: str) -> None:
        self.base = base
        self.secret = secret
        # Idle connections are let go before the server's keep-alive (uvicorn: 5 s) would
        # close them: reusing one the server is closing at that moment fails the request
        # (ReadError), which would count as the server's error.
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64,
                              keepalive_expiry=3.0)
        self.http = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
        self.stats = DriverStats()
        self._kiosk_n = 0

    def token(self, role: str, **scope: str) -> str:
        return make_token(self.secret, role, ttl_s=86400, **scope)  # type: ignore[arg-type]

    def _auth(self, role: str, **scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **scope)}"}

    def _kiosk(self, site: str) -> dict[str, str]:
        """One of many simulated kiosks, each with its own subject as a deployment gives
        them: a server's per-kiosk rate limit (SWITCHBOARD_KIOSK_RATE_PER_MIN) then holds
        back none of them at the paces simulated."""
        self._kiosk_n += 1
        return self._auth("kiosk", site=site, subject=f"loadtest:kiosk:{self._kiosk_n % KIOSKS}")

    async def close(self) -> None:
        await self.http.aclose()

    async def put_site(self, site: str, cfg: dict[str, Any]) -> None:
        r = await self.http.put(f"/v1/sites/{site}", content=msgspec.json.encode(cfg),
                                headers={**self._auth("admin"),
                                         "Content-Type": "application/json"})
        r.raise_for_status()
        # Leftovers first: close-day also closes the counters open before it that serve
        # nobody, so the counters are opened after it.
        await self._clear_leftovers(site)
        for c in cfg.get("counters", []):
            r = await self.http.post(f"/v1/sites/{site}/counters/{c['id']}/open",
                                     headers=self._auth("admin"))
            r.raise_for_status()

    async def _clear_leftovers(self, site: str) -> None:
        """A second run against the same server finds the last run's tickets: waiting ones
        would stand in front of this run's, and tickets at counters would make every
        call-next ``counter_busy`` (the run then measured nothing). Close them (close-day)
        and complete the ones being served."""
        admin = self._auth("admin")
        r = await self.http.post(f"/v1/sites/{site}/close-day", json={}, headers=admin)
        if r.status_code in (404, 405):
            return  # a server from before close-day (the site itself was just put)
        r.raise_for_status()
        site_now = (await self.http.get(f"/v1/sites/{site}", headers=admin)).json()
        for c in site_now.get("counters", []):
            if c.get("ticket"):
                r = await self.http.post(f"/v1/sites/{site}/counters/{c['id']}/complete",
                                         headers=admin)
                r.raise_for_status()

    async def issue_many(self, site: str, services: Sequence[str], concurrency: int = 32
                         ) -> list[dict[str, Any]]:
        """Issue one ticket per entry of ``services``, in that order (numbers follow it)."""
        out: list[dict[str, Any]] = [{} for _ in services]
        # Tickets of one service are issued one after another so their numbers (and places
        # in the queue) follow the list; different services go in parallel.
        by_svc: dict[str, list[int]] = {}
        for i, s in enumerate(services):
            by_svc.setdefault(s, []).append(i)
        sem = asyncio.Semaphore(concurrency)

        async def lane(svc: str, idx: list[int]) -> None:
            for i in idx:
                async with sem:
                    r = await self.http.post(f"/v1/sites/{site}/tickets",
                                             headers=self._kiosk(site),
                                             json={"service": svc, "channel": "app"})
                r.raise_for_status()
                out[i] = r.json()

        lanes = list(by_svc.items())
        # With few services, split each lane further would reorder numbers: keep lanes.
        await asyncio.gather(*(lane(s, idx) for s, idx in lanes))
        return out

    async def issue(self, site: str, service: str) -> dict[str, Any] | None:
        t0 = time.perf_counter()
        try:
            r = await self.http.post(f"/v1/sites/{site}/tickets",
                                     headers=self._kiosk(site),
                                     json={"service": service, "channel": "kiosk"})
        except httpx.HTTPError as exc:
            self.stats.error(f"issue: {type(exc).__name__}")
            return None
        self.stats.lat_ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 201:
            self.stats.error(f"issue: {r.status_code} {r.text[:80]}")
            return None
        self.stats.ops += 1
        result: dict[str, Any] = r.json()
        return result

    async def counter(self, site: str, counter: str, op: str) -> dict[str, Any] | None:
        t0 = time.perf_counter()
        try:
            r = await self.http.post(f"/v1/sites/{site}/counters/{counter}/{op}",
                                     headers=self._auth("agent", site=site, counter=counter))
        except httpx.HTTPError as exc:
            self.stats.error(f"{op}: {type(exc).__name__}")
            return None
        self.stats.lat_ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            code = r.json().get("code", r.status_code) if r.headers.get(
                "content-type", "").startswith("application/json") else r.status_code
            self.stats.error(f"{op}: {code}")
            return None
        self.stats.ops += 1
        result: dict[str, Any] = r.json()
        return result


class Publisher:
    """A peer's publishing connection (the application emitting the change)."""

    def __init__(self, dialect: str, host: str, port: int) -> None:
        self.dialect = dialect
        self.host, self.port = host, port
        self.ws: WSClient | None = None
        self.stats = DriverStats()
        self._ready: asyncio.Future[None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        if self.dialect == "socketio":
            self.ws = await connect(f"ws://{self.host}:{self.port}/socket.io/?EIO=4"
                                    "&transport=websocket", self._on_sio, made=self._bind)
        else:
            self.ws = await connect(f"ws://{self.host}:{self.port}/", lambda p, o: None)
            self._ready.set_result(None)
        await asyncio.wait_for(self._ready, 30)

    def _bind(self, ws: WSClient) -> None:
        self.ws = ws

    def _on_sio(self, payload: bytes, opcode: int) -> None:
        assert self.ws is not None
        if payload[:1] == b"0":
            self.ws.send_text(b"40")
        elif payload[:2] == b"40" and self._ready is not None and not self._ready.done():
            self._ready.set_result(None)
        elif payload == b"2":
            self.ws.send_text(b"3")

    def publish(self, items: list[dict[str, Any]]) -> None:
        if self.ws is None or self.ws.closed:
            self.stats.error("publisher connection closed")
            return
        body = {"op": "publish", "items": items}
        if self.dialect == "socketio":
            self.ws.send_text(b"42" + msgspec.json.encode(["publish", body]))
        else:
            self.ws.send_text(msgspec.json.encode(body))
        self.stats.ops += 1

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
