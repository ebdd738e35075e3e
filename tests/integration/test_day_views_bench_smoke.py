"""The day views benchmark (loadtest/day_views_bench.py), tiny, run from outside the
repository (as an installed tool would be), so it cannot rot. Correctness only, never speed:
every request answered, the keys, and a past day's views kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_day_views_bench(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-m", "loadtest.day_views_bench", "--tickets", "200",
                        "--counters", "4", "--days", "7", "--repeat", "1", "--json", str(out)],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, f"failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    got = json.loads(out.read_text())
    # Three records a ticket; eight counter changes a counter a day (today's: those so far).
    assert 7 * 600 + 6 * 32 <= got["records"] <= 7 * 632
    rows = {row["request"]: row for row in got["results"]}
    assert "stats?by=hour&date=<yesterday>" in rows and "stats?by=counter&date=<today>" in rows
    assert "report.csv?from=<-6d>&to=<today>&by=hour" in rows
    for row in got["results"]:
        if "median_ms" in row:
            assert row["median_ms"] > 0 and row["stall_ms"] >= 0, row
    kept = rows["(kept bytes, <yesterday>)"]
    assert all(kept[by] > 0 for by in ("hour", "counter", "staff", "day")), kept
    assert {"python", "msgspec", "redis", "load_average"} <= set(got)
