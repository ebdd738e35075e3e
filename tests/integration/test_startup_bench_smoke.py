"""The start-up part of the day views benchmark (``loadtest.day_views_bench --startup-only``:
the wait estimator warming a site's rates from its last week), tiny, run from outside the
repository, so it cannot rot. Correctness only, never speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_startup_bench(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-m", "loadtest.day_views_bench", "--tickets", "200",
                        "--counters", "4", "--days", "7", "--startup-only", "--json", str(out)],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, f"failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    got = json.loads(out.read_text())
    (row,) = got["results"]
    assert row["request"].startswith("(startup")
    assert row["warm_s"] > 0 and row["probes"] >= 1
    assert 0 <= row["p99_lag_ms"] <= row["worst_lag_ms"]
