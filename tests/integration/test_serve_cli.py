"""``switchboard serve`` as an operator meets it: its exit status when it gives up on its
Redis, and the demo kept off the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from realtime.cli import main


def test_serve_exits_1_when_its_redis_keeps_dying(tmp_path: Path) -> None:
    """The embedded Redis killed over and over: serve gives up and exits 1 (a failure
    systemd's Restart=on-failure and OnFailure= see), not 0 as after a clean stop."""
    import subprocess
    import sys
    import time

    import httpx

    from tests.conftest import free_port
    data = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--port",
                             str(port), "--data-dir", str(data), "--log-level", "error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(400):  # up and serving first (a Redis dying at start is another path)
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        killed: set[int] = set()
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            pidfile = data / "redis.pid"
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            if pid not in killed and (data / "redis.sock").exists():
                killed.add(pid)
                os.kill(pid, 9)
            time.sleep(0.05)
        assert proc.wait(30) == 1, proc.stderr.read().decode() if proc.stderr else ""
        assert len(killed) > 5
        assert proc.stderr is not None and b"kept exiting" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_the_demo_is_refused_on_a_network_address(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--demo", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]) == 2
    assert "this machine only" in capsys.readouterr().err
    assert not (tmp_path / "redis.sock").exists()  # nothing was started
