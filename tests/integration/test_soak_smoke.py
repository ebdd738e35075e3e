"""The soak test (loadtest/soak.py) for a few seconds, run from outside the repository as
an installed tool would be, so it cannot rot: it starts its server, Redis and worker, drives
every kind of client and bad input, samples, and reports. Correctness only, never speed or
growth (a few seconds say nothing about a day)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

VERDICTS = {"flat", "grows", "grows, expires", "levels off", "falls"}


def _port() -> int:
    """A free port in the soak's range (18200-18299)."""
    for port in range(18290, 18200, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18201-18290")


@pytest.mark.timeout(300)
def test_soak_smoke(tmp_path: Path) -> None:
    # The servers' data folders go under --out, and a Redis unix socket path must stay
    # under 108 bytes: pytest's own temporary folders can be longer than that (under
    # pytest-xdist, /tmp/pytest-of-root/pytest-N/popen-gwN/test_soak_smoke0/…).
    out = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        _soak(out, tmp_path)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _soak(out: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "loadtest.soak", "--duration", "10",
                        "--sample-every", "2", "--warmup", "0", "--cooldown", "7", "--port",
                        str(_port()), "--devices", "2", "--boards", "2", "--arrivals-per-s",
                        "1", "--booking-sites", "1",
                        "--bookings-per-s", "3", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=280, cwd=tmp_path)
    assert r.returncode == 0, f"soak failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    result = json.loads((out / "soak.json").read_text())
    samples = result["samples"]
    assert len(samples) >= 3 and summary["samples"] == len(samples)
    assert len((out / "samples.jsonl").read_text().splitlines()) == len(samples)
    for s in samples:
        v = s["values"]
        assert v["server_rss_mb"] > 10 and v["server_fds"] > 5 and v["redis_rss_mb"] > 0
        assert v["redis_keys"] > 0 and v["redis_used_mb"] > 0
    assert [s["t"] for s in samples] == sorted(s["t"] for s in samples)
    # The hub's census (every 5 s) is in /metrics once the server has run that long.
    last = samples[-1]["values"]
    assert last["hub_asyncio_tasks"] >= 1 and last["hub_feeds"] >= 1, last
    rows = {row["metric"]: row for row in result["growth"]}
    assert {"server_rss_mb", "server_fds", "redis_keys", "hub_connections",
            "redis:sb:{site:*}:events:max_len"} <= set(rows)
    assert {row["verdict"] for row in rows.values()} <= VERDICTS
    # The load ran: tickets, screens, phones, devices, and bad input answered as such.
    t = result["tally"]
    assert t.get("issue 201", 0) > 0 and t.get("board snapshot", 0) > 0
    assert t.get("device snapshot", 0) > 0 and t.get("gps sent", 0) > 0
    assert t.get("book 201", 0) > 0
    assert t.get("bad_token closed 4001", 0) > 0 and t.get("ws_error frame_too_large", 0) > 0
    assert not [k for k in t if k.startswith("driver_error") or k.endswith(" 500")], t
    # Every client gone, the hub holds nothing of theirs.
    assert result["leftovers"]["hub_connections"] == 0
    assert result["leftovers"]["hub_subscribers"] == 0
    assert (out / "soak.png").stat().st_size > 10_000
