"""The servers under test, started on loopback by the tool, and their CPU and memory.

- ``switchboard``: ``switchboard serve --workers W`` on the Redis the tool starts (or a
  running server given by ``--url``: its processes are found by the listening port).
- ``bare``: loadtest/peers/bare_server.py, one process, no Redis (the ceiling).
- ``python-socketio``: loadtest/peers/socketio_server.py under uvicorn, W workers, Redis.
- ``node-socketio``: loadtest/peers/node/server.js, W cluster workers, Redis adapter;
  ``npm install`` runs in that folder first if its node_modules is missing.

Every Redis here is ``realtime.redisproc.EmbeddedRedis`` (unix socket in a temporary
folder): never the system Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from realtime.redisproc import EmbeddedRedis

PEERS = Path(__file__).parent / "peers"
TARGETS = ("switchboard", "bare", "python-socketio", "node-socketio")
DIALECT = {"switchboard": "switchboard", "bare": "bare", "python-socketio": "socketio",
           "node-socketio": "socketio"}


class NeedsError(RuntimeError):
    """A scenario or target cannot run here; the message says what it needs."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None, what: str,
               timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} at start")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout_s:.0f} s")


@dataclass
class Target:
    """One server under test. ``start`` returns when it accepts connections."""

    name: str
    workers: int = 2
    url: str | None = None  # a running Switchboard (http://host:port): start nothing
    secret: str = field(default_factory=lambda: os.urandom(24).hex())
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    redis: EmbeddedRedis | None = None
    env: dict[str, str] = field(default_factory=dict)  # more SWITCHBOARD_* settings
    tmp_root: str | None = None  # where the server's data folder goes (default: $TMPDIR)
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _listener_pids: list[int] = field(default_factory=list)
    _logs: list[Any] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return DIALECT[self.name]

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def base(self) -> str:
        return self.url or f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.url:
            self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
            self._listener_pids = _listeners(self.port)
            return
        self._tmp = tempfile.TemporaryDirectory(prefix=f"sb-loadtest-{self.name}-",
                                                dir=self.tmp_root)
        tmp = Path(self._tmp.name)
        self.port = self.port or free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = self._log(tmp / "server.log")
        if self.name != "bare":
            self.redis = EmbeddedRedis(tmp / "redis")
            self.redis.start()
        if self.name == "switchboard":
            # One kiosk token speaks for every simulated kiosk: no per-kiosk rate limit.
            env.update({"SWITCHBOARD_SECRET": self.secret, "SWITCHBOARD_LOG_LEVEL": "warning",
                        "SWITCHBOARD_KIOSK_RATE_PER_MIN": "0", **self.env})
            cmd = [sys.executable, "-m", "realtime.cli", "serve", "--redis-url", self.redis_url,
                   "--port", str(self.port), "--workers", str(self.workers),
                   "--data-dir", str(tmp / "data")]
        elif self.name == "bare":
            cmd = [sys.executable, "-m", "loadtest.peers.bare_server", "--port", str(self.port)]
        elif self.name == "python-socketio":
            env["SIO_REDIS_URL"] = self.redis_url
            cmd = [sys.executable, "-m", "uvicorn", "--factory",
                   "loadtest.peers.socketio_server:create_app", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers),
                   "--log-level", "warning", "--ws-per-message-deflate", "false",
                   "--backlog", "4096"]
        elif self.name == "node-socketio":
            node_dir = ensure_node_modules()
            env.update({"PORT": str(self.port), "WORKERS": str(self.workers),
                        "REDIS_SOCKET": str(self.redis.socket if self.redis else "")})
            cmd = [_which("node"), str(node_dir / "server.js")]
        else:
            raise ValueError(f"unknown target {self.name}; known: {', '.join(TARGETS)}")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent, cwd=str(Path.cwd()))
        try:
            _wait_port(self.port, self.proc, self.name)
            if self.name == "switchboard":
                self._wait_ready()
            # Workers may bind after the first one: give them a moment to all be up.
            time.sleep(1.0 if self.workers > 1 else 0.2)
        except BaseException:
            tail = (tmp / "server.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{tail}") from None

    @property
    def redis_url(self) -> str:
        assert self.redis is not None
        return self.redis.url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("switchboard did not become ready")

    def _log(self, path: Path) -> Any:
        f = open(path, "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(f)
        return f

    def start_worker(self) -> None:
        """``switchboard worker`` on the same Redis (dispatch recomputes, offer timeouts)."""
        if self.url or self.redis is None or self.worker is not None or self._tmp is None:
            return
        tmp = Path(self._tmp.name)
        env = {**os.environ, "SWITCHBOARD_SECRET": self.secret,
               "SWITCHBOARD_LOG_LEVEL": "warning", **self.env}
        log = self._log(tmp / "worker.log")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli", "worker", "--redis-url", self.redis_url],
            env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        time.sleep(1.0)
        if self.worker.poll() is not None:
            raise RuntimeError("switchboard worker exited at start:\n" +
                               (tmp / "worker.log").read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        if self.worker is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
            self.worker = None
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc = None
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        for f in self._logs:
            f.close()
        self._logs.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def processes(self) -> list[tuple[str, psutil.Process]]:
        """Every server-side process with its role: workers, supervisor, Redis."""
        out: list[tuple[str, psutil.Process]] = []
        roots = [self.proc.pid] if self.proc is not None else self._listener_pids
        for pid in roots:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                kids = root.children(recursive=True)
                out.append(("supervisor" if kids else "server", root))
                for k in kids:
                    cmd = " ".join(_cmdline(k))
                    if "resource_tracker" not in cmd:
                        out.append(("redis" if "redis-server" in cmd else "worker", k))
        if self.worker is not None:
            with contextlib.suppress(psutil.Error):
                out.append(("arq worker", psutil.Process(self.worker.pid)))
        if self.redis is not None and self.redis.proc is not None:
            with contextlib.suppress(psutil.Error):
                out.append(("redis", psutil.Process(self.redis.proc.pid)))
        return out

    def versions(self) -> dict[str, str]:
        return versions(self.name)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """A server the tool started goes when the tool goes, even on kill -9
    (PR_SET_PDEATHSIG), and in its own process group so its workers can be stopped
    together."""
    import ctypes
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    os.setpgrp()


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return list(p.cmdline())
    except psutil.Error:
        return []


def _listeners(port: int) -> list[int]:
    pids: set[int] = set()
    with contextlib.suppress(psutil.Error):
        for c in psutil.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
                pids.add(c.pid)
    # Workers share the supervisor's socket: keep the processes whose parent is not listed.
    roots = []
    for pid in sorted(pids):
        with contextlib.suppress(psutil.Error):
            parent = psutil.Process(pid).parent()
            if parent is None or parent.pid not in pids:
                roots.append(pid)
    return roots


def _which(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NeedsError(f"needs `{name}` on PATH for this peer")
    return path


def ensure_node_modules() -> Path:
    """``npm install`` the node peer's packages on first use (they are not committed)."""
    node_dir = PEERS / "node"
    if not (node_dir / "node_modules" / "socket.io").exists():
        npm = _which("npm")
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"],
                           cwd=node_dir, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise NeedsError(f"npm install failed in {node_dir}:\n{r.stderr[-2000:]}")
    return node_dir


def versions(name: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "?"

    out = {"python": sys.version.split()[0]}
    if name == "switchboard":
        out.update({p: v(p) for p in ("switchboard", "uvicorn", "starlette", "websockets",
                                      "uvloop", "msgspec", "redis")})
    elif name == "bare":
        out.update({p: v(p) for p in ("websockets", "uvloop")})
    elif name == "python-socketio":
        out.update({p: v(p) for p in ("python-socketio", "python-engineio", "uvicorn",
                                      "uvloop", "redis")})
    elif name == "node-socketio":
        out.pop("python")
        node_dir = PEERS / "node" / "node_modules"
        with contextlib.suppress(OSError, subprocess.SubprocessError, NeedsError):
            out["node"] = subprocess.run([_which("node"), "--version"], capture_output=True,
                                         text=True, timeout=10).stdout.strip()
        for pkg in ("socket.io", "@socket.io/redis-adapter", "redis"):
            with contextlib.suppress(OSError, ValueError):
                import json
                out[pkg] = json.loads((node_dir / pkg / "package.json").read_text())["version"]
    return out


# -- CPU and memory -------------------------------------------------------------------------

@dataclass
class Sampler:
    """CPU time and RSS of a set of processes between ``start`` and ``stop``."""

    procs: list[tuple[str, psutil.Process]]
    _cpu0: dict[int, float] = field(default_factory=dict)
    _t0: float = 0.0

    def rss(self) -> dict[int, int]:
        out = {}
        for _, p in self.procs:
            with contextlib.suppress(psutil.Error):
                out[p.pid] = p.memory_info().rss
        return out

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._cpu0 = {p.pid: _cpu(p) for _, p in self.procs}

    def stop(self) -> list[dict[str, Any]]:
        wall = max(1e-9, time.monotonic() - self._t0)
        rows = []
        for role, p in self.procs:
            try:
                cpu = 100 * (_cpu(p) - self._cpu0.get(p.pid, 0.0)) / wall
                rss = p.memory_info().rss
            except psutil.Error:
                continue
            rows.append({"role": role, "pid": p.pid, "cpu_pct": round(cpu, 1),
                         "rss_mb": round(rss / 2**20, 1)})
        return rows


def _cpu(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return 0.0
