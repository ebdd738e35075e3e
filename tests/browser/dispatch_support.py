"""A dispatch demo for browser tests and screenshots: ``switchboard serve --demo`` (region
``city``, dispatch/demo.py) with a ``switchboard worker`` beside it, which makes the offers
(recomputes) and expires them. Both are real processes on the same data folder and Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import SECRET, DemoServer

REGION = "city"
ORG = "city.acme"


@dataclass
class DispatchDemo:
    """A demo server and its worker; the dispatch HTTP API as an admin uses it."""

    server: DemoServer
    worker: subprocess.Popen[bytes] | None = None
    admin: str = field(init=False)

    def __post_init__(self) -> None:
        self.admin = self.server.token("admin")

    @classmethod
    def start(cls, data_dir: Path, worker: bool = True) -> DispatchDemo:
        demo = cls(DemoServer(data_dir).start())
        if worker:
            demo.start_worker()
        return demo

    def start_worker(self) -> None:
        env = {**os.environ, "SWITCHBOARD_SECRET": SECRET}
        log = (self.server.data_dir / "worker.log").open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli", "worker", "--data-dir",
             str(self.server.data_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(10)
        self.server.stop()

    @property
    def base(self) -> str:
        return self.server.base

    # -- the HTTP API ----------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             token: str | None = None) -> Any:
        r = httpx.request(method, self.base + path, json=body, timeout=20,
                          headers={"Authorization": f"Bearer {token or self.admin}"})
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def put_tech(self, tech: str, lat: float, lon: float, skills: list[str], name: str) -> Any:
        return self.call("PUT", f"/v1/technicians/{tech}", {
            "name": name, "skills": skills, "home": {"lat": lat, "lon": lon},
            "shift": {"start": "00:00", "end": "24:00"}})

    def create_job(self, lat: float, lon: float, **fields: Any) -> Any:
        """A job of the region (its customer token is in the answer's ``token``)."""
        return self.call("POST", f"/v1/regions/{REGION}/jobs",
                         {"location": {"lat": lat, "lon": lon}, **fields})

    def job(self, jid: str) -> Any:
        return self.call("GET", f"/v1/jobs/{jid}")

    def tech(self, tid: str) -> Any:
        return self.call("GET", f"/v1/technicians/{tid}")

    def actions(self, tech: str, *acts: tuple[str, str]) -> Any:
        """Device actions through the REST fallback: (kind, job) pairs, applied in order."""
        now = int(time.time() * 1000)
        return self.call("POST", f"/v1/technicians/{tech}/actions", {"actions": [
            {"aid": f"t-{tech}-{k}-{j}-{now}-{i}", "k": k, "t": now, "j": j}
            for i, (k, j) in enumerate(acts)]})

    def fixes(self, tech: str, points: list[tuple[float, float]], every_ms: int = 1000,
              end_ms: int | None = None) -> Any:
        """GPS fixes through the REST fallback, ``every_ms`` apart, the last at ``end_ms``
        (default: now)."""
        end = int(time.time() * 1000) if end_ms is None else end_ms
        start = end - every_ms * (len(points) - 1)
        return self.call("POST", f"/v1/technicians/{tech}/gps", {"fixes": [
            {"t": start + i * every_ms, "la": la, "lo": lo} for i, (la, lo) in enumerate(points)]})

    # -- page links ------------------------------------------------------------------------

    def tech_url(self, tech: str, *, sim: bool = True, speed: int | None = None,
                 lang: str | None = None) -> str:
        q = f"?token={self.server.token('tech', tech=tech)}"
        q += "&sim=1" if sim else ""
        q += f"&speed={speed}" if speed else ""
        q += f"&lang={lang}" if lang else ""
        return f"{self.base}/tech/{tech}{q}"

    def track_url(self, job: dict[str, Any], lang: str | None = None) -> str:
        return f"{self.base}/track/{job['id']}?token={job['token']}" + (
            f"&lang={lang}" if lang else "")

    def org_url(self, lang: str | None = None) -> str:
        return f"{self.base}/org/{ORG}?token={self.server.token('org', org=ORG)}" + (
            f"&lang={lang}" if lang else "")
