"""The screens soak (loadtest/screens_soak.py) for a few seconds, run from outside the
repository as an installed tool would be, so it cannot rot: it starts its server, Redis,
worker and device simulator, opens the four screens in Chromium, drives the queue and the
dispatch API, samples every page over CDP, and reports. Correctness only, never growth (a
few seconds say nothing about a week)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import require_chromium

pytestmark = pytest.mark.browser
PAGES = ("board", "counter", "supervise", "org")
VERDICTS = {"flat", "grows", "levels off", "falls", "rate"}


def _port() -> int:
    """A free port in the screens soak's range (18400-18499)."""
    for port in range(18490, 18400, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18401-18490")


@pytest.mark.timeout(300)
def test_screens_soak_smoke(tmp_path: Path) -> None:
    require_chromium()
    out = tmp_path / "screens"
    r = subprocess.run([sys.executable, "-m", "loadtest.screens_soak", "--duration", "15",
                        "--sample-every", "3", "--warmup", "0", "--calls-per-s", "2",
                        "--job-every-s", "2", "--day-s", "8", "--heap-at", "0,9",
                        "--port", str(_port()), "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=280, cwd=tmp_path)
    assert r.returncode == 0, f"screens soak failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    result = json.loads((out / "screens.json").read_text())
    assert set(result["samples"]) == set(PAGES) and summary["page_errors"] == {}
    for page in PAGES:
        samples = result["samples"][page]
        # At least the first round and the one after the activity (a loaded machine makes
        # a round of four pages with heap snapshots take longer than the run).
        assert len(samples) >= 2 and summary["samples"][page] == len(samples), page
        assert [s["t"] for s in samples] == sorted(s["t"] for s in samples)
        last = samples[-1]["values"]
        # Every page is live: a heap, a document, nodes, listeners, and messages delivered.
        assert last["heap_mb"] > 0.1 and last["documents"] >= 1, (page, last)
        assert last["nodes"] > 50 and last["listeners"] > 0, (page, last)
        assert last["msgs"] >= 1 and last["connects"] >= 1, (page, last)
        rows = {row["metric"]: row for row in result["growth"][page]}
        assert {"heap_mb", "nodes", "listeners", "documents", "msgs"} <= set(rows)
        assert {row["verdict"] for row in rows.values()} <= VERDICTS
        assert rows["msgs"]["verdict"] == "rate" and rows["heap_mb"]["verdict"] != "rate"
        # Two heap snapshots per page, compared by constructor.
        assert len(list(out.glob(f"{page}-*.heapsnapshot"))) == 2, page
        assert page in result["heap_diff"]
    # The activity ran: tickets issued and called, organisation jobs created.
    t = result["tally"]
    assert t.get("issue 201", 0) > 0 and t.get("call-next 200", 0) > 0, t
    assert t.get("job_create 201", 0) > 0 and t.get("close-day 200", 0) > 0, t
    assert result["chromium"] and result["versions"]["playwright"] and result["machine"]["nproc"]
