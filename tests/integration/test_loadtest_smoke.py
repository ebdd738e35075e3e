"""The load tool, small: every scenario and the peers, a few hundred connections for a few
seconds, so ``switchboard loadtest`` cannot rot. Correctness only (every connection held,
nothing lost, no error, the JSON keys there), never speed: this runs on loaded machines.

The real runs (thousands of connections, docs/loadtest-report.md) are not part of the test
run; they take minutes and the whole machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

KEYS = ("scenario", "connections", "p50_ms", "p95_ms", "p99_ms", "max_ms", "delivered_per_s",
        "lost", "resyncs", "errors", "server_rss_mb", "server_cpu_pct")


def loadtest(tmp_path: Path, *args: str, timeout_s: float = 110) -> dict[str, Any]:
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "realtime.cli", "loadtest", *args, "--quiet",
           "--json", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                       cwd=Path(__file__).parents[2], env={**os.environ, "COLUMNS": "120"})
    assert r.returncode == 0, f"{' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(out.read_text())
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(KEYS) <= set(result) and set(KEYS) <= set(summary)
    return result


def sound(r: dict[str, Any]) -> None:
    """Every connection held, every counted message there once and in order, no error."""
    assert r["connections"] == r["connections_wanted"], r
    assert r["lost"] == 0 and r["unordered"] == 0, r
    assert r["errors"] == 0, r["error_samples"]
    assert r["expected_counted"] > 0 and r["delivered"] > 0, r
    assert r["p99_ms"] is not None and r["p99_ms"] <= r["max_ms"]


def test_boards(tmp_path: Path) -> None:
    r = loadtest(tmp_path, "boards", "--screens", "300", "--calls-per-s", "4", "--duration",
                 "3", "--workers", "2")
    sound(r)
    # Every screen saw every call: 300 screens × the calls made.
    assert r["expected_counted"] == 300 * r["driver"]["ops"]
    assert r["server_cpu_pct"] >= 0 and r["server_rss_mb"] > 0 and r["rss_per_conn_kb"] > 0
    assert {p["role"] for p in r["server_processes"]} >= {"worker", "redis"}


def test_trackers(tmp_path: Path) -> None:
    r = loadtest(tmp_path, "trackers", "--trackers", "300", "--calls-per-s", "6",
                 "--duration", "3", "--services", "3", "--workers", "1")
    sound(r)
    assert r["merged"] == 0 or r["merged"] < r["expected_counted"]


def test_devices(tmp_path: Path) -> None:
    r = loadtest(tmp_path, "devices", "--devices", "100", "--hz", "2", "--duration", "3",
                 "--workers", "1")
    assert r["connections"] == r["connections_wanted"] == 100, r
    assert r["lost"] == 0 and r["errors"] == 0, r["error_samples"]
    assert r["fixes_sent"] > 0 and r["delivered"] > 0


def test_rush(tmp_path: Path) -> None:
    r = loadtest(tmp_path, "rush", "--attempts", "600", "--slots", "40", "--concurrency",
                 "16", "--workers", "1")
    assert r["booked"] == r["taken_in_inventory"] == 40, r  # sold out, not oversold
    assert r["lost"] == 0 and r["errors"] == 0, r["error_samples"]
    assert r["booked"] + sum(r["refused"].values()) == 600


def test_mixed(tmp_path: Path) -> None:
    r = loadtest(tmp_path, "mixed", "--duration", "4", "--clinics", "2", "--scale", "0.1",
                 "--workers", "1")
    sound(r)


@pytest.mark.parametrize("peer", ["bare", "python-socketio", "node-socketio"])
def test_peers_same_generator(tmp_path: Path, peer: str) -> None:
    if peer == "node-socketio" and not (
            (Path(__file__).parents[2] / "loadtest/peers/node/node_modules/socket.io").exists()
            or shutil.which("npm")):
        pytest.skip("needs node and npm (the packages are installed at run time)")
    for scenario in (["boards", "--screens", "200", "--calls-per-s", "4"],
                     ["trackers", "--trackers", "200", "--calls-per-s", "6", "--services", "4"]):
        r = loadtest(tmp_path, *scenario, "--duration", "2", "--target", peer,
                     "--workers", "1")
        sound(r)
        assert r["target"] == peer


def test_a_missing_part_is_named(tmp_path: Path) -> None:
    """A scenario whose server part is missing says what it needs (exit code 3)."""
    r = subprocess.run([sys.executable, "-m", "realtime.cli", "loadtest", "mixed",
                        "--target", "bare", "--duration", "1", "--quiet"],
                       capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).parents[2])
    assert r.returncode == 3 and "Switchboard only" in r.stderr + r.stdout


async def test_a_second_run_against_the_same_server_measures_again(server: Any,
                                                                   tmp_path: Path) -> None:
    """`--url` runs reuse the server's load site: the first run's tickets left at counters
    made every call-next of the second `counter_busy`, which measured nothing and exited
    0. Leftovers are cleared now, and a run that measures nothing exits 4."""
    import asyncio

    from tests.integration.conftest import SECRET
    for run in (1, 2):
        out = tmp_path / f"r{run}.json"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "realtime.cli", "loadtest", "trackers", "--trackers", "40",
            "--calls-per-s", "4", "--services", "2", "--duration", "2", "--url", server.base,
            "--secret", SECRET, "--quiet", "--json", str(out),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=Path(__file__).parents[2])
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, (run, stdout[-2000:], stderr[-2000:])
        r = json.loads(out.read_text())
        assert r["expected_counted"] > 0 and r["errors"] == 0, (run, r["error_samples"])
