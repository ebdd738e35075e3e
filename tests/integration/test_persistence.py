"""kill -9 the server and its Redis mid-day; `switchboard serve` again finds everything."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

SECRET = "persistence-secret-0123456789abcdef"


def start(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--demo",
                             "--data-dir", str(data), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def snapshot(client: httpx.Client) -> dict[str, object]:
    site = client.get("/v1/sites/demo").json()
    queues = {s["id"]: [(t["id"], t["number"], t["status"], t["position"])
                        for t in client.get(f"/v1/sites/demo/services/{s['id']}/queue").json()
                        ["tickets"]] for s in site["services"]}
    return {"counters": [(c["id"], c["state"], c["ticket"]) for c in site["counters"]],
            "queues": queues}


def test_kill_9_and_restart_keeps_every_ticket(tmp_path: Path) -> None:
    from realtime.auth import make_token
    port = free_port()
    proc = start(tmp_path, port)
    admin = {"Authorization": f"Bearer {make_token(SECRET, 'admin')}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin, timeout=10) as c:
        ids = []
        for i in range(30):
            svc = ["internal", "lab", "pharmacy"][i % 3]
            prio = "priority" if i % 7 == 0 else None
            r = c.post("/v1/sites/demo/tickets", json={"service": svc, "channel": "kiosk",
                                                       "priority": prio})
            assert r.status_code == 201
            ids.append(r.json()["id"])
        c.post("/v1/sites/demo/counters/1/call-next")
        c.post("/v1/sites/demo/counters/4/call-next")
        c.post("/v1/sites/demo/counters/4/start")
        c.post("/v1/sites/demo/counters/5/call-next")
        c.post("/v1/sites/demo/counters/5/park")
        c.post("/v1/sites/demo/counters/6/pause")
        c.post("/v1/sites/demo/counters/3/close")
        before = snapshot(c)
        tickets = [c.get(f"/v1/tickets/{t}").json() for t in ids]

    redis_pid = int((tmp_path / "redis.pid").read_text())
    os.kill(proc.pid, signal.SIGKILL)
    os.kill(redis_pid, signal.SIGKILL)
    proc.wait()

    proc = start(tmp_path, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin, timeout=10) as c:
            assert snapshot(c) == before
            assert [c.get(f"/v1/tickets/{t}").json() for t in ids] == tickets
            # And the day goes on: the next number follows the last one.
            r = c.post("/v1/sites/demo/tickets", json={"service": "internal",
                                                       "channel": "kiosk"})
            assert r.json()["number"] == "A011"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    # SIGTERM stopped the server and its Redis cleanly.
    assert not (tmp_path / "redis.sock").exists()


def test_a_second_server_on_the_data_dir_is_refused_and_a_dead_redis_restarted(
        tmp_path: Path) -> None:
    """An operator starts `serve` twice on one data folder: the second refuses (it used to
    stop the first one's Redis and leave it answering 500s). Then the OOM killer takes the
    first one's Redis: the server restarts it and carries on with every ticket."""
    from realtime.auth import make_token
    port = free_port()
    proc = start(tmp_path, port)
    admin = {"Authorization": f"Bearer {make_token(SECRET, 'admin')}"}
    try:
        second = subprocess.run(
            [sys.executable, "-m", "realtime.cli", "serve", "--demo", "--data-dir",
             str(tmp_path), "--port", str(free_port())],
            env={**os.environ, "SWITCHBOARD_SECRET": SECRET}, capture_output=True, text=True,
            timeout=60)
        assert second.returncode != 0
        assert f"in use by another switchboard (pid {proc.pid})" in second.stderr, second
        assert "demo is loaded" not in second.stdout  # no banner, no tokens printed
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin,
                          timeout=10) as c:
            t = c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"})
            assert t.status_code == 201, t.text
            redis_pid = int((tmp_path / "redis.pid").read_text())
            os.kill(redis_pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            got = None
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    got = c.get(f"/v1/tickets/{t.json()['id']}")
                    if got.status_code == 200:
                        break
                time.sleep(0.2)
            assert got is not None and got.status_code == 200, got
            assert got.json()["number"] == t.json()["number"]
            assert int((tmp_path / "redis.pid").read_text()) != redis_pid
            r = c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"})
            assert r.status_code == 201, r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not (tmp_path / "redis.sock").exists()
