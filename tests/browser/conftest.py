"""Browser tests: Debian's Chromium driven by Playwright, against real servers and Redis.

Playwright never downloads a browser here: Chromium is launched from ``CHROMIUM`` with
``executable_path``, and ``PLAYWRIGHT_BROWSERS_PATH`` points at an empty folder so that a
stray default launch fails instead of fetching one. A missing Chromium is a failure with a
clear message, not a skip: CI installs it (scripts/test).

Servers are real ``switchboard serve --demo`` processes (each with its own embedded Redis and
data folder), so a test can kill one with -9 and start it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from realtime.auth import make_token
from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# A display board is set up to play sound (kiosk-mode TVs are); the blocked case is explicit.
AUTOPLAY_ALLOWED = "--autoplay-policy=no-user-gesture-required"
AUTOPLAY_BLOCKED = "--autoplay-policy=document-user-activation-required"
SECRET = "browser-test-secret-0123456789abcdef0123"
WEB = Path(__file__).resolve().parents[2] / "clients" / "web"


def require_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"browser tests need Debian's Chromium at {CHROMIUM} "
                    "(apt-get install chromium); Playwright must not download one",
                    pytrace=False)


@pytest.fixture(scope="module")
def pw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # Module scope: the sync API runs its own event loop, which must be gone before the
    # asyncio tests of other modules run.
    require_chromium()
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(tmp_path_factory.mktemp("no-browsers"))
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


def launch(pw: Any, *extra: str) -> Any:
    return pw.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *extra])


@pytest.fixture(scope="module")
def browser(pw: Any) -> Iterator[Any]:
    b = launch(pw, AUTOPLAY_ALLOWED)
    yield b
    b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A desktop browser context in English (a module may define its own instead)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    yield ctx
    ctx.close()


def wait_js(page: Any, expression: str, timeout_s: float = 15.0) -> Any:
    """Poll ``expression`` in the page until it is truthy; its value. (Playwright's own
    wait_for_function evaluates strings with eval, which the pages' CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(f"() => ({expression})")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


@dataclass
class DemoServer:
    """A ``switchboard serve --demo`` process (without ``--demo`` when ``demo`` is False) on
    ``port`` with its data in ``data_dir``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # more SWITCHBOARD_* settings
    demo: bool = True  # False: a real server's start (no demo site, no demo pages)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 40.0) -> DemoServer:
        env = {**os.environ, "SWITCHBOARD_SECRET": SECRET, "SWITCHBOARD_LOG_LEVEL": "warning",
               **self.env}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli", "serve", *(["--demo"] if self.demo else []),
             "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill9()
        raise AssertionError(f"server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill9(self) -> None:
        """SIGKILL the server's process group, and its Redis (its own group) to be sure."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._kill_redis()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._kill_redis()

    def _kill_redis(self) -> None:
        pidfile = self.data_dir / "redis.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().strip())
            if b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
                for _ in range(200):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(0.02)

    # -- the HTTP API, as a kiosk or an agent would use it ---------------------------------

    def token(self, role: str, **kw: str) -> str:
        return make_token(SECRET, role, **kw)

    def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        r = httpx.post(self.base + path, json=body or {}, timeout=10,
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code < 300, r.text
        return r.json()

    def take(self, service: str = "internal") -> Any:
        return self.post("/v1/sites/demo/tickets", self.token("kiosk", site="demo"),
                         {"service": service, "channel": "kiosk"})

    def counter(self, counter: str, op: str, body: dict[str, Any] | None = None) -> Any:
        return self.post(f"/v1/sites/demo/counters/{counter}/{op}",
                         self.token("agent", site="demo", counter=counter), body)

    def slot_soon(self, service: str, after_s: float, within_s: float,
                  channel: str = "app") -> dict[str, Any]:
        """The first free slot of ``service`` for ``channel`` that starts more than
        ``after_s`` (time to book it before it starts) and less than ``within_s`` from now:
        today's in the site's zone or, late in its day, tomorrow's (the lab draws blood
        around the clock, so there is one at any hour)."""
        admin = {"Authorization": f"Bearer {self.token('admin')}"}
        site = httpx.get(f"{self.base}/v1/sites/demo", headers=admin, timeout=10).json()
        now = dt.datetime.now(ZoneInfo(site["timezone"]))
        for day in (now.date(), now.date() + dt.timedelta(days=1)):
            r = httpx.get(f"{self.base}/v1/sites/demo/availability", headers=admin, timeout=10,
                          params={"service": service, "date": day.isoformat(),
                                  "channel": channel})
            assert r.status_code == 200, r.text
            for s in r.json():
                ahead = (dt.datetime.fromisoformat(s["start"]) - now).total_seconds()
                if s["remaining"] > 0 and after_s < ahead < within_s:
                    return dict(s)
        raise AssertionError(f"no free {service} time {after_s}-{within_s} s after {now}")

    def page_url(self, kind: str, *, lang: str | None = None) -> str:
        """A page link with a ready token (the same the front page would give)."""
        paths = {
            "board": f"/board/demo?token={self.token('display', site='demo')}",
            "kiosk": f"/kiosk/demo?token={self.token('kiosk', site='demo')}",
        }
        if kind.startswith("counter"):
            c = kind.split(":")[1]
            url = f"/counter/demo/{c}?token={self.token('agent', site='demo', counter=c)}"
        else:
            url = paths[kind]
        return self.base + url + (f"&lang={lang}" if lang else "")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("demo")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo server with a notification webhook configured (never reached: the pages only
    need to know texts can go out)."""
    server = DemoServer(tmp_path_factory.mktemp("sms"), env={
        "SWITCHBOARD_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/sms",
        "SWITCHBOARD_NOTIFY_WEBHOOK_SECRET": "s" * 32}).start()
    yield server
    server.stop()
