"""The day views' phase probe (loadtest/day_views_phases.py), tiny, run from outside the
repository, so it cannot rot. Correctness only, never speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_day_views_phases(tmp_path: Path) -> None:
    out = tmp_path / "phases.json"
    r = subprocess.run([sys.executable, "-m", "loadtest.day_views_phases", "--tickets", "800",
                        "--heap", "1000", "--repeat", "1", "--by", "hour,staff", "--json",
                        str(out)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, f"failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    got = json.loads(out.read_text())
    assert [row["by"] for row in got["results"]] == ["hour", "staff"]
    hour = got["results"][0]
    phases = [p["phase"] for p in hour["phases"]]
    # The day before's states, then the day's rows read and kept; the answer encoded.
    assert phases[-1] == "JSON encoding of the answer" and "keep (SET)" in phases
    assert any(p.startswith("rows") for p in phases) and any(p.startswith("end_states")
                                                               for p in phases)
    assert hour["body_bytes"] > 1000 and hour["latest"] and hour["probes"] >= 1
